// Dev helper: the app's first run in a fresh trainer process, through the lab service as the worker starts it
// (hosts/worker-entry.ts): the service, its engines' warm-ups, then one `train` request for `images` images.
// `node bench/app-first-run.mjs [variant] [images] [warm-up: on|off]` after `npm run build:node`; `off` leaves this
// thread's own engine cold (the second engine warms either way), as before the service warmed it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const [variant = 'modern', images = '12000', warm = 'on'] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);
const root = pathToFileURL(path.resolve(here, '../dist')).href;
const { recordRuntimeThreads } = await import(`${root}/engine/training/runtime-threads.js`);
recordRuntimeThreads(); // as worker-entry.ts does first
const { createLabService } = await import(`${root}/hosts/lab-service.js`);
let done = null, firstBatch = NaN;
const lab = await createLabService({
  modelsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'first-run-')), assetsDir: path.resolve(here, '../assets'), transport: 'browser',
  appVersion: 'bench', warmUp: warm === 'on',
  emit: (name, e) => {
    if (name !== 'trainerEvent') return;
    if (e.type === 'batch' && Number.isNaN(firstBatch)) firstBatch = performance.now();
    if (e.type === 'done') done = e;
  },
});
const warmSteps = await lab.ownEngineWarm;
await new Promise((r) => setTimeout(r, 300)); // the student reads the page: rank 1's warm-up has ended by now
const t0 = performance.now();
const answer = await lab.handle('train', { variant, recipe: { epochs: 1 }, limit: Number(images), testLimit: 200, seed: 1 });
if (!answer.ok) throw new Error(JSON.stringify(answer.error));
while (!done) await new Promise((r) => setTimeout(r, 5));
console.log(JSON.stringify({ variant, warm, warmSteps, imagesPerSecond: Math.round(done.imagesPerSecond), requestToDone: +((performance.now() - t0) / 1000).toFixed(2), testAccuracy: done.testAccuracy }));
process.exit(0);
