// Dev helper: where a direct step's time goes, per kernel (wall ms per step, median-ish by sum/steps).
import { initBackend } from '../dist/engine/backends/ladder.js';
import { loadDataset } from '../dist/engine/data/dataset.js';
import { getVariant } from '../dist/common/network/variants.js';
import { LocalStepper } from '../dist/engine/training/step.js';
import { KernelAccess } from '../dist/engine/training/direct-step.js';
import { rangeIndices } from '../dist/engine/training/batches.js';
await initBackend('wasm');
const ds = loadDataset({ kind: 'mnist' });
const order = rangeIndices(ds.train.count);
const totals = new Map();
const orig = KernelAccess.prototype.run;
if (!process.env.NOHOOK) KernelAccess.prototype.run = function (name, inputs, attrs) {
  const t0 = process.cpuUsage(); const r = orig.call(this, name, inputs, attrs); const d = process.cpuUsage(t0);
  const key = name + ' ' + (inputs.x ?? inputs.a ?? inputs.dy)?.shape.join('x');
  totals.set(key, (totals.get(key) ?? 0) + (d.user + d.system) / 1000); return r;
};
for (const v of (process.argv[2] ?? 'modern').split(',')) {
  const spec = getVariant(v);
  const batch = Number(process.argv[3] ?? spec.recipe.batchSize);
  const s = new LocalStepper(spec.build(1), spec, spec.recipe, ds.train, 10, 'direct');
  let cursor = 0; const steps = Number(process.env.STEPS ?? 150);
  for (let i = 0; i < 50; i++) { s.step(order, cursor, cursor + batch, undefined, false); cursor += batch; }
  totals.clear();
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < steps; i++) { s.step(order, cursor, cursor + batch, undefined, false); cursor += batch; }
  const wall = (performance.now() - t0) / steps; const cpu = process.cpuUsage(c0);
  let k = 0; for (const x of totals.values()) k += x;
  console.log(v, 'batch', batch, 'wall/step', wall.toFixed(2), 'cpu/step', ((cpu.user + cpu.system) / 1000 / steps).toFixed(2), 'kernels', (k / steps).toFixed(2));
  for (const [name, t] of [...totals].sort((a, b) => b[1] - a[1])) console.log('  ', name.padEnd(40), (t / steps).toFixed(3));
}
