// Dev helper: CPU ms per trained image (every thread of the process) on one engine (LocalStepper) and two
// (ParallelStepper), per variant, after a build. `node bench/cpu-per-image.mjs [dist folder] [variants]`:
// give another build's dist/ to compare builds; run them alternately (the machine's load moves both).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const root = pathToFileURL(path.resolve(process.argv[2] ?? new URL('../dist', import.meta.url).pathname)).href;
const { initBackend } = await import(`${root}/engine/backends/ladder.js`);
const { loadDataset } = await import(`${root}/engine/data/dataset.js`);
const { getVariant } = await import(`${root}/common/network/variants.js`);
const { LocalStepper } = await import(`${root}/engine/training/step.js`);
const { ParallelStepper, endParallelThreads } = await import(`${root}/engine/training/parallel-trainer.js`);
const { rangeIndices } = await import(`${root}/engine/training/batches.js`);
await initBackend('wasm');
const ds = loadDataset({ kind: 'mnist' });
const order = rangeIndices(ds.train.count);
/** CPU ms per image and images/s over `steps` batches, after `warm` batches. */
const measure = async (stepper, batch, warm, steps) => {
  let cursor = 0;
  for (let i = 0; i < warm; i++) { await stepper.step(order, cursor, cursor + batch, undefined, false); cursor += batch; }
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < steps; i++) { await stepper.step(order, cursor, cursor + batch, undefined, false); cursor += batch; }
  const c = process.cpuUsage(c0);
  return `${((c.user + c.system) / 1000 / (steps * batch)).toFixed(4)} ms (${(steps * batch / (performance.now() - t0) * 1000).toFixed(0)} img/s)`;
};
for (const name of (process.argv[3] ?? 'modern,seed,lenet5').split(',')) {
  const spec = getVariant(name);
  const batch = spec.recipe.batchSize;
  const one = await measure(new LocalStepper(spec.build(1), spec, spec.recipe, ds.train, 10), batch, 60, 150);
  const parallel = await ParallelStepper.start({ model: spec.build(1), spec, recipe: spec.recipe, split: ds.train, count: 30000, numClasses: 10, backend: 'wasm' });
  const two = await measure(parallel, batch, 60, 150);
  await parallel.dispose();
  console.log(`${name} (batch ${batch}): one engine ${one}, two engines ${two}`);
}
await endParallelThreads();
