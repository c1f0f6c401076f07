// Dev helper: tape vs direct step on one engine, interleaved, CPU ms and wall ms per step (median).
import { initBackend } from '../dist/engine/backends/ladder.js';
import { loadDataset } from '../dist/engine/data/dataset.js';
import { getVariant } from '../dist/common/network/variants.js';
import { LocalStepper } from '../dist/engine/training/step.js';
import { rangeIndices } from '../dist/engine/training/batches.js';
await initBackend(process.argv[3] ?? 'wasm');
const ds = loadDataset({ kind: 'mnist' });
const variants = (process.argv[2] ?? 'modern,seed,lenet5').split(',');
const order = rangeIndices(ds.train.count);
for (const v of variants) {
  const spec = getVariant(v);
  const steppers = { tape: new LocalStepper(spec.build(1), spec, spec.recipe, ds.train, 10, 'tape'), direct: new LocalStepper(spec.build(1), spec, spec.recipe, ds.train, 10, 'direct') };
  const times = { tape: { cpu: [], wall: [] }, direct: { cpu: [], wall: [] } };
  const b = spec.recipe.batchSize; let cursor = 0;
  for (let round = 0; round < 12; round++) {
    for (const k of ['tape', 'direct']) {
      for (let i = 0; i < 15; i++) {
        if (cursor + b > 20000) cursor = 0;
        const c0 = process.cpuUsage(); const t0 = performance.now();
        steppers[k].step(order, cursor, cursor + b, undefined, false);
        const t1 = performance.now(); const c1 = process.cpuUsage(c0);
        cursor += b;
        if (round >= 2) { times[k].cpu.push((c1.user + c1.system) / 1000); times[k].wall.push(t1 - t0); }
      }
    }
  }
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)].toFixed(2); };
  const min = (a) => Math.min(...a).toFixed(2);
  console.log(v, 'batch', b, 'tape cpu med', med(times.tape.cpu), 'min', min(times.tape.wall), '| direct cpu med', med(times.direct.cpu), 'min', min(times.direct.wall));
}
