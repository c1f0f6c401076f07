// Dev helper: the CLI's train path (cli/commands.ts: data, backend, second engine and warm-ups, run) after a
// build, with CPU time by phase of the run, which a busy machine moves far less than images/s.
// `node bench/cli-phases.mjs [variant] [images] [dist folder]`: start-up (engines' start to the first step),
// CPU ms per image (both threads) over steps 1–30, 31–90 and the rest, the last step's CPU (a last batch of
// another size meets new shapes), and on Linux each thread's CPU during the run (the V8 helper threads:
// compilation and garbage collection running beside the two engines).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const variant = process.argv[2] ?? 'seed';
const images = Number(process.argv[3] ?? 12000);
const root = pathToFileURL(path.resolve(process.argv[4] ?? new URL('../dist', import.meta.url).pathname)).href;
const { initBackend } = await import(`${root}/engine/backends/ladder.js`);
const { prepareTrainingRun } = await import(`${root}/engine/training/run.js`);
const { warmParallelEngine, endParallelThreads } = await import(`${root}/engine/training/parallel-trainer.js`);
const { warmUpTraining } = await import(`${root}/engine/training/warm-up.js`);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
/** CPU ms of each thread so far (Linux: /proc, 10 ms ticks), or {} elsewhere. */
const threadCpu = () => {
  if (!fs.existsSync('/proc/self/task')) return {};
  return Object.fromEntries(fs.readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [[tid, (Number(fields[11]) + Number(fields[12])) * 10]];
    } catch { return []; }
  }));
};
const prepared = prepareTrainingRun({ variant, recipe: { epochs: 1 }, dataset: { kind: 'mnist' }, limit: images, testLimit: 200, seed: 1 });
const enginesStart = performance.now();
await initBackend('wasm');
warmParallelEngine('wasm', [variant]).catch(() => undefined);
warmUpTraining([variant]);
const marks = [];
let threadsAtStart = {};
const { finish } = prepared.start({
  runId: 'phases', backend: 'wasm', throttle: { batch: 0, weights: Infinity, gradients: Infinity },
  emit: (e) => {
    if (e.type === 'started') threadsAtStart = threadCpu();
    if (e.type === 'started' || e.type === 'batch') marks.push({ cpu: cpu(), t: performance.now() });
  },
});
const { done } = await finish('phases');
const threadsAtEnd = threadCpu();
const batch = prepared.recipe.batchSize;
const phase = (from, to) => {
  to = Math.min(to, marks.length - 1);
  const n = (to - from) * batch;
  return `${((marks[to].cpu - marks[from].cpu) / n).toFixed(4)} CPU ms/img (${(n / (marks[to].t - marks[from].t) * 1000).toFixed(0)} img/s)`;
};
const last = marks.length - 1;
console.log(`${variant}, ${images} images: steps' img/s ${done.imagesPerSecond.toFixed(0)}, end to end ${(images / ((marks[last].t - enginesStart) / 1000)).toFixed(0)} img/s, ` +
  `start-up ${((marks[0].t - enginesStart) / 1000).toFixed(2)} s, test accuracy ${done.testAccuracy}`);
console.log(`  steps 1–30: ${phase(0, 30)} | 31–90: ${phase(30, 90)} | 91–end: ${phase(90, Infinity)} | last step ${(marks[last].cpu - marks[last - 1].cpu).toFixed(1)} CPU ms`);
const perThread = Object.entries(threadsAtEnd).map(([tid, ms]) => ms - (threadsAtStart[tid] ?? 0)).filter((ms) => ms > 0).sort((a, b) => b - a);
if (perThread.length) console.log(`  CPU ms per thread during the run: ${perThread.join(', ')} (the two engines first)`);
await endParallelThreads();
