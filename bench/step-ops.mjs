// Dev helper: where a direct half-step's CPU time goes, per layer op (forward and backward, the kernels they
// call included), the batch's assembly and the update, after a build. `node bench/step-ops.mjs [variants] [batch]`
// (default batch: half the recipe's). bench/step-profile.mjs splits the same step by kernel instead.
import { initBackend } from '../dist/engine/backends/ladder.js';
import { loadDataset } from '../dist/engine/data/dataset.js';
import { getVariant } from '../dist/common/network/variants.js';
import { LocalStepper } from '../dist/engine/training/step.js';
import { rangeIndices } from '../dist/engine/training/batches.js';
await initBackend('wasm');
const ds = loadDataset({ kind: 'mnist' });
const order = rangeIndices(ds.train.count);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
for (const name of (process.argv[2] ?? 'modern,seed,lenet5').split(',')) {
  const spec = getVariant(name);
  const batch = Number(process.argv[3] ?? spec.recipe.batchSize / 2);
  const stepper = new LocalStepper(spec.build(1), spec, spec.recipe, ds.train, 10, 'direct');
  const totals = new Map();
  const timed = (obj, method, key) => {
    const f = obj[method].bind(obj);
    obj[method] = (...args) => { const t = cpu(); const r = f(...args); totals.set(key, (totals.get(key) ?? 0) + cpu() - t); return r; };
  };
  stepper.gradients.direct.ops.forEach((op, i) => { for (const m of ['forward', 'backward']) timed(op, m, `${i} ${op.constructor.name}.${m}`); });
  timed(stepper.gradients.maker, 'fill', 'the batch (uint8 → normalised, padded)');
  timed(stepper.updater, 'update', 'update (optimizer, weights written)');
  const steps = 300;
  let cursor = 0;
  const step = () => {
    if (cursor + batch > ds.train.count) cursor = 0;
    stepper.step(order, cursor, cursor + batch, undefined, false);
    cursor += batch;
  };
  for (let i = 0; i < 50; i++) step();
  totals.clear();
  const t0 = cpu();
  for (let i = 0; i < steps; i++) step();
  const all = (cpu() - t0) / steps;
  let known = 0;
  console.log(`${name} (batch ${batch}): ${all.toFixed(3)} CPU ms per step`);
  for (const [key, t] of [...totals].sort((a, b) => b[1] - a[1])) {
    known += t / steps;
    console.log(`  ${key.padEnd(40)} ${(t / steps).toFixed(3)}`);
  }
  console.log(`  ${'the rest (loss, buffers, counting)'.padEnd(40)} ${(all - known).toFixed(3)}`);
}
