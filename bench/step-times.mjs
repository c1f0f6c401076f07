// Dev helper: per-step wall times of a CLI-like run (one epoch of `images`, cold process), to see how the first
// steps compare with the rest. `node bench/step-times.mjs [variant] [images] [workers: 1|2|auto|early] [warm: helper variants, comma]`
// `early`: rank 1 starts before this process loads the engine, as bin/lenet-lab.js starts it (cli/early-engine.ts).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const [variant = 'modern', images = '12000', workers = 'auto', warm = ''] = process.argv.slice(2);
const root = pathToFileURL(path.resolve(new URL('../dist', import.meta.url).pathname)).href;
const { startThreadEarly, earlyWasmModule } = await import(`${root}/engine/training/early-thread.js`);
if (workers === 'early') startThreadEarly('wasm', [variant]);
const { initBackend } = await import(`${root}/engine/backends/ladder.js`);
const { prepareTrainingRun } = await import(`${root}/engine/training/run.js`);
const { warmParallelEngine } = await import(`${root}/engine/training/parallel-trainer.js`);
const prepared = prepareTrainingRun({ variant, recipe: { epochs: 1 }, dataset: { kind: 'mnist' }, limit: Number(images), testLimit: 200, seed: 1 });
const t0 = performance.now();
const wasmModule = earlyWasmModule();
await initBackend('wasm', wasmModule ? { wasmModule } : {});
if (workers !== '1') warmParallelEngine('wasm', workers === 'early' ? [variant] : warm ? warm.split(',') : []).catch(() => undefined);
const marks = [];
const { finish, trainer } = prepared.start({
  runId: 'times', backend: 'wasm', ...(workers === 'auto' || workers === 'early' ? {} : { workers: Number(workers) }),
  throttle: { batch: 0, weights: Infinity, gradients: Infinity },
  emit: (e) => { if (e.type === 'started' || e.type === 'batch') marks.push(performance.now()); },
});
const { done } = await finish('times');
const d = marks.slice(1).map((t, i) => t - marks[i]);
const avg = (a) => a.length ? (a.reduce((x, y) => x + y, 0) / a.length).toFixed(2) : '-';
const chunks = [];
for (let i = 0; i < d.length; i += 20) chunks.push(avg(d.slice(i, i + 20)));
console.log(`${variant} workers=${workers} warm=${warm || '-'} startup ${(marks[0] - t0).toFixed(0)} ms, e2e ${(Number(images) / ((marks.at(-1) - t0) / 1000)).toFixed(0)} img/s, steps ${done.imagesPerSecond.toFixed(0)} img/s; ms/step per 20: ${chunks.join(' ')}; joined at ${trainer.parallelReport.joinedAtStep ?? '-'}${trainer.parallelReport.joinFailure ? ` (${trainer.parallelReport.joinFailure})` : ''}`);
process.exit(0);
