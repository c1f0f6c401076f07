// Dev helper: one change of the direct step switched off and on in the same process, after a build.
// `node bench/step-ab.mjs <change> [variants] [batch]`: two steppers (the change off / on) take turns in
// blocks of 10 steps on one engine (default batch: half the recipe's, a data-parallel rank's share); CPU ms
// per step, median, 25th percentile and mean, of the last 350 steps each. Interleaving cancels most of a
// shared machine's drift. Each switch puts back the code path the change replaced:
//   actgrad   the activation gradients as the JavaScript loop (no LeNetLabActivationGrad kernel)
//   overwrite the weights written through tf.tensor + assign (every variable reported shared)
//   fusedc1   C1 as Conv2D, Add and the activation instead of the one-channel FusedConv2D
import { initBackend } from '../dist/engine/backends/ladder.js';
import { loadDataset } from '../dist/engine/data/dataset.js';
import { getVariant } from '../dist/common/network/variants.js';
import { LocalStepper } from '../dist/engine/training/step.js';
import { KernelAccess } from '../dist/engine/training/direct-step.js';
import { rangeIndices } from '../dist/engine/training/batches.js';
await initBackend('wasm');
const ds = loadDataset({ kind: 'mnist' });
const order = rangeIndices(ds.train.count);
const proto = KernelAccess.prototype;
const own = { run: proto.run, has: proto.has, refCount: proto.refCount };
const switches = {
  actgrad: (on) => { proto.has = on ? own.has : function (name) { return name !== 'LeNetLabActivationGrad' && own.has.call(this, name); }; },
  overwrite: (on) => { proto.refCount = on ? own.refCount : () => 2; },
  fusedc1: (on) => {
    proto.run = on ? own.run : function (name, inputs, attrs) {
      if (name !== 'FusedConv2D' || inputs.x.shape[3] !== 1) return own.run.call(this, name, inputs, attrs);
      const y = own.run.call(this, 'Conv2D', { x: inputs.x, filter: inputs.filter }, attrs);
      const z = own.run.call(this, 'Add', { a: y, b: inputs.bias });
      this.free(y);
      const activation = { relu: 'Relu', sigmoid: 'Sigmoid' }[attrs.activation];
      if (!activation) return z;
      const out = own.run.call(this, activation, { x: z });
      this.free(z);
      return out;
    };
  },
};
const change = process.argv[2];
const flip = switches[change];
if (!flip) throw new Error(`which change? ${Object.keys(switches).join(', ')}`);
const stat = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return `median ${s[s.length >> 1].toFixed(3)}, p25 ${s[s.length >> 2].toFixed(3)}, mean ${(a.reduce((x, y) => x + y, 0) / a.length).toFixed(3)}`;
};
for (const name of (process.argv[3] ?? 'modern,seed,lenet5').split(',')) {
  const spec = getVariant(name);
  const batch = Number(process.argv[4] ?? spec.recipe.batchSize / 2);
  const steppers = [false, true].map((on) => { flip(on); return new LocalStepper(spec.build(1), spec, spec.recipe, ds.train, 10, 'direct'); });
  const times = [[], []];
  let cursor = 0;
  for (let block = 0; block < 40; block++) {
    for (const on of [0, 1]) {
      flip(on === 1);
      for (let i = 0; i < 10; i++) {
        if (cursor + batch > ds.train.count) cursor = 0;
        const c0 = process.cpuUsage();
        steppers[on].step(order, cursor, cursor + batch, undefined, false);
        const c = process.cpuUsage(c0);
        cursor += batch;
        if (block >= 5) times[on].push((c.user + c.system) / 1000);
      }
    }
  }
  flip(true);
  console.log(`${name} (batch ${batch}) ${change} off: ${stat(times[0])} | on: ${stat(times[1])}`);
}
