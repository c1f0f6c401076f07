// Our convolution loops against XNNPACK's routes, for every convolution of every variant (C5, whose window covers
// its input, is a product and left out), through the registered wasm kernels: CPU ms per call, the two alternating.
//
//   npm run build:node && node bench/conv-loops.mjs [batch=32] [calls=200] [rounds=3]
//
// "ours": setConvLoopsEnabled(true), the default; "XNNPACK": the routes any other shape takes (XNNPACK's
// convolution, its convolution with the batch as channels for the filter gradient, product + col2im for the
// input gradient). Each figure is the best round's mean over `calls` calls; the allocation of each output is inside.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../dist/engine/backends/ladder.js';
import { setConvLoopsEnabled } from '../dist/engine/backends/wasm-kernels.js';
import { VARIANTS } from '../dist/common/network/variants.js';

const batch = Number(process.argv[2] ?? 32), calls = Number(process.argv[3] ?? 200), rounds = Number(process.argv[4] ?? 3);
await initBackend('wasm');

/** Each distinct convolution of the variants: [input height, width, channels, kernel, maps], by walking their layer specs. */
const shapes = new Map();
for (const spec of Object.values(VARIANTS)) {
  let size = spec.input.size, channels = 1;
  for (const layer of spec.layers) {
    if (layer.kind === 'conv') {
      if (layer.kernel < size && layer.stride === 1 && layer.padding === 'valid') {
        const key = `${size}×${size}×${channels} * ${layer.kernel}×${layer.kernel} → ${layer.maps}`;
        const entry = shapes.get(key) ?? { users: [], dims: [size, channels, layer.kernel, layer.maps] };
        entry.users.push(`${spec.name} ${layer.id}`);
        shapes.set(key, entry);
      }
      size = layer.padding === 'valid' ? (size - layer.kernel) / layer.stride + 1 : size;
      channels = layer.maps;
    } else if (layer.kind === 'pool') size = Math.floor(size / 2);
  }
}

const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
/** Mean CPU ms of `calls` calls of `run` (each returns a tensor, disposed). */
function time(run) {
  const start = cpu();
  for (let i = 0; i < calls; i++) tf.dispose(run());
  return (cpu() - start) / calls;
}

console.log(`batch ${batch}, ${calls} calls, best of ${rounds} rounds, CPU ms per call (ours / XNNPACK's route)`);
console.log('| convolution | used by | forward (+ bias, ReLU) | filter gradient | input gradient |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const [key, { users, dims: [size, channels, kernel, maps] }] of shapes) {
  const x = tf.randomNormal([batch, size, size, channels]), filter = tf.randomNormal([kernel, kernel, channels, maps]);
  const bias = tf.randomNormal([maps]);
  const out = size - kernel + 1;
  const dy = tf.randomNormal([batch, out, out, maps]);
  const ops = {
    forward: () => tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'valid', activation: 'relu' }),
    filterGrad: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: filter.shape }),
    inputGrad: () => tf.conv2dTranspose(dy, filter, x.shape, 1, 'valid'),
  };
  const best = {};
  for (let round = 0; round < rounds; round++) {
    for (const ours of [true, false]) {
      setConvLoopsEnabled(ours);
      for (const [name, run] of Object.entries(ops)) {
        tf.dispose(run()); // the first call assembles a loop or builds an operator
        const ms = time(run), k = `${name} ${ours}`;
        best[k] = Math.min(best[k] ?? Infinity, ms);
      }
    }
  }
  setConvLoopsEnabled(true);
  const cell = (name) => `${best[`${name} true`].toFixed(3)} / ${best[`${name} false`].toFixed(3)} (${(best[`${name} false`] / best[`${name} true`]).toFixed(1)}×)`;
  console.log(`| ${key} | ${users.join(', ')} | ${cell('forward')} | ${cell('filterGrad')} | ${cell('inputGrad')} |`);
  tf.dispose([x, filter, bias, dy]);
}
