// The direct step (engine/training/direct-step.ts) beyond the shipped variants: which layers it takes on
// (one property changed at a time, each alone sends the model back to the tape), layers no variant has
// ('same' padding, strides, a sigmoid convolution, average pooling with overlapping windows), the unfused
// path a backend without FusedConv2D and _FusedMatMul takes, and KernelAccess's own refusals. The oracle is
// the tape step's gradients (tfjs's autograd over tfjs-layers), computed before anything is changed.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../../engine/data/dataset.js';
import { getVariant, type VariantSpec } from '../../common/network/variants.js';
import { Recipe, VARIANT_NAMES } from '../../common/protocol.js';
import { BatchGradients, ModelUpdater } from '../../engine/training/step.js';
import { KernelAccess } from '../../engine/training/direct-step.js';
import { GaussianRbf } from '../../common/network/layers.js';
import { rangeIndices } from '../../engine/training/batches.js';
import { worstRelative } from './gradient-compare.js';

let mnist: Dataset;
beforeAll(async () => {
  await initBackend('wasm');
  mnist = loadDataset({ kind: 'mnist' });
});
afterAll(async () => {
  await tf.setBackend('wasm');
});

const modern = getVariant('modern');
const recipe = Recipe.parse(modern.recipe);
const side = modern.input.size; // 32: the modern input, padded

/** What a test changes in the model below: one property at a time. */
interface Change {
  convPadding?: string; dilation?: [number, number]; convActivation?: string; dataFormat?: 'channelsFirst';
  poolPadding?: 'same'; poolFormat?: 'channelsFirst'; extraLayer?: 'dropout'; denseActivation?: string; frozen?: boolean;
}

/** A small model of layers no variant combines, with `change` applied. */
function smallModel(change: Change = {}, seed = 4): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  const layers: tfl.layers.Layer[] = [
    tfl.layers.conv2d({ inputShape: [side, side, 1], filters: 4, kernelSize: 3, padding: (change.convPadding ?? 'same') as 'same',
      activation: (change.convActivation ?? 'relu') as 'relu', kernelInitializer: init(1),
      ...(change.dilation ? { dilationRate: change.dilation } : {}), ...(change.dataFormat ? { dataFormat: change.dataFormat } : {}) }),
    tfl.layers.conv2d({ filters: 5, kernelSize: 4, strides: [2, 1], padding: 'valid', activation: 'sigmoid', kernelInitializer: init(2), useBias: false }),
    tfl.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: change.poolPadding ?? 'valid', ...(change.poolFormat ? { dataFormat: change.poolFormat } : {}) }),
    tfl.layers.maxPooling2d({ poolSize: 2, padding: 'valid' }),
  ];
  if (change.extraLayer === 'dropout') layers.push(tfl.layers.dropout({ rate: 0 }));
  if (change.frozen) layers[1]!.trainable = false;
  layers.push(tfl.layers.flatten(), tfl.layers.dense({ units: 12, activation: (change.denseActivation ?? 'sigmoid') as 'sigmoid', kernelInitializer: init(3) }),
    tfl.layers.dense({ units: 10, kernelInitializer: init(4), useBias: false }));
  return withBiases(tfl.sequential({ layers }));
}

/** Biases start at zero: given values, so that a bias the step forgets changes its answer. */
function withBiases(model: tfl.LayersModel): tfl.LayersModel {
  for (const w of model.weights) {
    if (!w.name.endsWith('bias') && !/bias_\d+$/.test(w.name)) continue;
    w.write(tf.tensor(Float32Array.from({ length: w.shape.reduce((a, b) => a * b, 1) }, (_, i) => 0.3 * Math.sin(i + 1)), w.shape));
  }
  return model;
}

/**
 * The tape step's gradients of `n` images, and the direct step's (null: the model went to the tape); `around`
 * wraps the direct step's making and running (a backend without some kernels).
 */
function gradients(model: tfl.LayersModel, n: number, spec: VariantSpec = modern, around: <T>(f: () => T) => T = (f) => f()) {
  const rec = Recipe.parse(spec.recipe);
  const updater = new ModelUpdater(model, rec);
  const order = rangeIndices(n + 10);
  const tape = new Float32Array(updater.size), direct = new Float32Array(updater.size);
  const tapeResult = new BatchGradients(model, spec, rec, mnist.train, 10, updater, 'tape').compute(order, 10, 10 + n, undefined, tape);
  const step = around(() => new BatchGradients(model, spec, rec, mnist.train, 10, updater, 'auto'));
  if (step.kind !== 'direct') return { kind: step.kind, tape, direct: null, tapeResult, directResult: null, offsets: updater.offsets };
  // Whatever the buffer held (the last batch's gradients), each gradient is written, never added to.
  direct.fill(0.25);
  const directResult = around(() => step.compute(order, 10, 10 + n, undefined, direct));
  return { kind: step.kind, tape, direct, tapeResult, directResult, offsets: updater.offsets };
}

function expectSameGradients(r: ReturnType<typeof gradients>): void {
  expect(r.kind).toBe('direct');
  expect(worstRelative(r.tape, r.direct!, r.offsets)).toBeLessThan(2e-4);
  expect(r.directResult!.loss).toBeCloseTo(r.tapeResult.loss, 5);
  expect(r.directResult!.correct).toBe(r.tapeResult.correct);
  // No variable left at zeros by a skipped branch.
  r.offsets.forEach((start, i) => expect(r.direct!.subarray(start, r.offsets[i + 1] ?? r.direct!.length).some((v) => v !== 0)).toBe(true));
}

/** Runs `body` with the backend's fused convolution and product unregistered (a backend without them). */
function withoutFusedKernels<T>(backend: string, body: () => T): T {
  const saved = ['FusedConv2D', '_FusedMatMul'].map((name) => tf.getKernel(name, backend)!);
  expect(saved.every(Boolean)).toBe(true);
  for (const k of saved) tf.unregisterKernel(k.kernelName, backend);
  try {
    return body();
  } finally {
    for (const k of saved) tf.registerKernel(k);
  }
}

describe.each(['wasm', 'cpu'] as const)('the direct step on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it("takes on 'same' padding, a sigmoid convolution strided along its height only and without a bias, overlapping average pooling and a sigmoid dense layer: the tape's gradients", () => {
    for (const n of [1, 6]) {
      const model = smallModel();
      expectSameGradients(gradients(model, n));
      model.dispose();
    }
  });

  it("without FusedConv2D and _FusedMatMul (bias and activation as kernels of their own): the tape's gradients, for the small model and every variant", () => {
    const without = <T>(f: () => T): T => withoutFusedKernels(backend, f);
    const model = smallModel();
    expectSameGradients(gradients(model, 5, modern, without));
    model.dispose();
    for (const variant of VARIANT_NAMES) {
      const spec = getVariant(variant);
      const built = withBiases(spec.build(3));
      expectSameGradients(gradients(built, 5, spec, without));
      built.dispose();
    }
  });

  it("lenet5 with values at C3's removed links (a model file written elsewhere): the layer ignores them and so does the step", () => {
    const spec = getVariant('lenet5');
    const model = withBiases(spec.build(3));
    const c3 = model.weights.find((w) => /kernel/.test(w.name) && w.shape.length === 4 && w.shape[2] === 6 && w.shape[3] === 16)!;
    expect(c3).toBeDefined();
    const values = c3.read().dataSync().slice();
    const removed = values.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
    expect(removed).toBe(25 * 36); // 36 of the 96 links removed, 25 weights each
    c3.write(tf.tensor(values.map((v, i) => (v === 0 ? 0.5 * Math.cos(i) : v)), c3.shape));
    const r = gradients(model, 4, spec);
    expectSameGradients(r);
    // No gradient reaches a removed link.
    const offset = r.offsets[model.trainableWeights.indexOf(c3)]!;
    values.forEach((v, i) => { if (v === 0) expect(Math.abs(r.direct![offset + i]!)).toBe(0); });
    model.dispose();
  });

  it("seed's Gaussian RBF head with centres near its inputs (gradients that do not vanish): the tape's gradients for the centres and below", () => {
    const spec = getVariant('seed');
    const model = withBiases(spec.build(3));
    const centres = model.weights.find((w) => /centres/.test(w.name))!;
    expect(centres.shape).toEqual([10, 84]);
    // F6's sigmoid outputs lie near 0.5: centres there give distances of order 1, not ≈ 84 (the lesson's stall).
    centres.write(tf.tensor(Float32Array.from({ length: 840 }, (_, i) => 0.5 + 0.2 * Math.sin(i * 0.37)), [10, 84]));
    const r = gradients(model, 6, spec);
    expectSameGradients(r);
    const offset = r.offsets[model.trainableWeights.indexOf(centres)]!;
    const largest = r.tape.subarray(offset, offset + 840).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(largest).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it.each<[string, [number, number], [number, number]]>([
    ['the height', [4, 2], [1, 2]], // 4×4 → 1×3 → 1×2, then the whole 1×2
    ['the width', [2, 4], [2, 1]], // 4×4 → 3×1 → 2×1, then the whole 2×1
  ])("convolutions whose window covers their input's %s only, one as big as its map with 'same' padding, and a whole-window one without bias: the tape's gradients", (_what, first, second) => {
    const init = (s: number) => tfl.initializers.glorotUniform({ seed: 20 + s });
    const model = withBiases(tfl.sequential({ layers: [
      tfl.layers.conv2d({ inputShape: [side, side, 1], filters: 3, kernelSize: 4, strides: 4, activation: 'relu', kernelInitializer: init(1) }), // 8×8
      tfl.layers.maxPooling2d({ poolSize: 2 }), // 4×4
      tfl.layers.conv2d({ filters: 4, kernelSize: 4, padding: 'same', activation: 'relu', kernelInitializer: init(2) }), // 4×4
      tfl.layers.conv2d({ filters: 4, kernelSize: first, activation: 'sigmoid', kernelInitializer: init(3) }),
      tfl.layers.conv2d({ filters: 5, kernelSize: second, activation: 'relu', kernelInitializer: init(4) }),
      tfl.layers.conv2d({ filters: 6, kernelSize: second, activation: 'sigmoid', useBias: false, kernelInitializer: init(5) }), // 1×1
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 10, kernelInitializer: init(6) }),
    ] }));
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(model.layers[5]!.outputShape).toEqual([null, 1, 1, 6]);
    expectSameGradients(gradients(model, 5));
    model.dispose();
  });

  it("a model whose loss reads probabilities (softmax-ce, a softmax layer last) trains on the tape", () => {
    const model = smallModel();
    const updater = new ModelUpdater(model, recipe);
    const spec: VariantSpec = { ...modern, loss: 'softmax-ce' };
    expect(new BatchGradients(model, spec, recipe, mnist.train, 10, updater, 'auto').kind).toBe('tape');
    expect(new BatchGradients(model, modern, recipe, mnist.train, 10, updater, 'auto').kind).toBe('direct');
    model.dispose();
  });

  it('a Gaussian RBF head with σ = 2, centres near its inputs: the tape\'s gradients', () => {
    const spec = getVariant('seed');
    const model = withBiases(tfl.sequential({ layers: [
      tfl.layers.flatten({ inputShape: [side, side, 1] }),
      tfl.layers.dense({ units: 12, activation: 'sigmoid', kernelInitializer: tfl.initializers.glorotUniform({ seed: 31 }) }),
      new GaussianRbf({ units: 10, sigma: 2, seed: 32 }),
    ] }));
    const centres = model.weights.find((w) => /centres/.test(w.name))!;
    centres.write(tf.tensor(Float32Array.from({ length: 120 }, (_, i) => 0.5 + 0.3 * Math.sin(i * 0.7)), [10, 12]));
    const r = gradients(model, 6, spec);
    expectSameGradients(r);
    const offset = r.offsets[model.trainableWeights.indexOf(centres)]!;
    expect(r.tape.subarray(offset, offset + 120).reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  // Each change alone, the rest of the model as the accepted one above: the step must hand it to the tape.
  it.each<[string, Change]>([
    ['a convolution dilated along its width only', { dilation: [1, 2] }],
    ['channels first', { dataFormat: 'channelsFirst' }],
    ["'causal' padding", { convPadding: 'causal' }],
    ['a tanh convolution', { convActivation: 'tanh' }],
    ['a softmax dense layer', { denseActivation: 'softmax' }],
    ["'same' pooling", { poolPadding: 'same' }],
    ['channels-first pooling', { poolFormat: 'channelsFirst' }],
    ['a frozen layer (its weights not trained)', { frozen: true }],
    ['a layer it does not know (dropout)', { extraLayer: 'dropout' }],
  ])('leaves a model with %s to the tape', (_what, change) => {
    const model = smallModel(change);
    const updater = new ModelUpdater(model, recipe);
    expect(new BatchGradients(model, modern, recipe, mnist.train, 10, updater, 'auto').kind).toBe('tape');
    expect(() => new BatchGradients(model, modern, recipe, mnist.train, 10, updater, 'direct')).toThrow(/no direct training step/);
    model.dispose();
  });

  it('leaves a model with a shared layer (one layer applied twice, every layer one it knows) to the tape', () => {
    const input = tfl.input({ shape: [side, side, 1] });
    const shared = tfl.layers.dense({ units: 16, activation: 'relu' });
    const first = tfl.layers.dense({ units: 16 }).apply(tfl.layers.flatten().apply(input)) as tfl.SymbolicTensor;
    const twice = shared.apply(shared.apply(first)) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 10 }).apply(twice) as tfl.SymbolicTensor });
    const updater = new ModelUpdater(model, recipe);
    expect(new BatchGradients(model, modern, recipe, mnist.train, 10, updater, 'auto').kind).toBe('tape');
    model.dispose();
  });

  it('takes the same model with the layer applied once', () => {
    const input = tfl.input({ shape: [side, side, 1] });
    const first = tfl.layers.dense({ units: 16 }).apply(tfl.layers.flatten().apply(input)) as tfl.SymbolicTensor;
    const once = tfl.layers.dense({ units: 16, activation: 'relu' }).apply(first) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 10 }).apply(once) as tfl.SymbolicTensor });
    expectSameGradients(gradients(withBiases(model), 4));
    model.dispose();
  });
});

describe('KernelAccess', () => {
  afterEach(async () => {
    await tf.setBackend('wasm');
  });

  it.each(['wasm', 'cpu'] as const)('on %s: has() sees registered kernels, run() names a missing one and refuses several outputs', async (backend) => {
    await tf.setBackend(backend);
    const k = KernelAccess.current()!;
    expect(k.backendName).toBe(backend);
    expect(k.has('Conv2D')).toBe(true);
    expect(k.has('NoSuchKernel')).toBe(false);
    expect(() => k.run('NoSuchKernel', {})).toThrow(`the ${backend} backend has no NoSuchKernel kernel`);
    const x = tf.tensor1d([3, 1, 2]);
    expect(() => k.run('TopK', { x }, { k: 1, sorted: true })).toThrow('TopK returned several outputs');
    x.dispose();
  });

  it('on cpu: upload() copies (the caller may reuse its array), overwrite() writes in place', async () => {
    await tf.setBackend('cpu');
    const k = KernelAccess.current()!;
    const data = Float32Array.of(1, 2, 3);
    const t = k.upload(data, [3]);
    data[0] = 9;
    expect([...k.view(t)]).toEqual([1, 2, 3]);
    k.overwrite(t, Float32Array.of(4, 5, 6));
    expect([...k.view(t)]).toEqual([4, 5, 6]);
    k.free(t);
  });

  it('on wasm: zeros() are zeros where freed memory is reused, and overwrite() keeps the buffer', async () => {
    await tf.setBackend('wasm');
    const k = KernelAccess.current()!;
    for (let round = 0; round < 5; round++) {
      const used = k.upload(new Float32Array(4096).fill(7), [4096]);
      k.free(used);
      const z = k.zeros([4096]);
      expect(k.view(z).every((v) => v === 0)).toBe(true);
      k.free(z);
    }
    const t = k.upload(Float32Array.of(1, 2, 3), [3]);
    const before = k.dataIds();
    k.overwrite(t, Float32Array.of(4, 5, 6));
    expect([...k.view(t)]).toEqual([4, 5, 6]);
    expect(k.dataIds()).toBe(before);
    k.free(t);
  });

  it('is not offered on a backend other than wasm or cpu', async () => {
    const cpu = tf.findBackend('cpu')!;
    tf.registerBackend('lenet-lab-other', () => new (cpu.constructor as new () => tf.KernelBackend)());
    try {
      await tf.setBackend('lenet-lab-other');
      expect(tf.getBackend()).toBe('lenet-lab-other');
      expect(KernelAccess.current()).toBeNull();
      const model = smallModel();
      expect(new BatchGradients(model, modern, recipe, mnist.train, 10, new ModelUpdater(model, recipe), 'auto').kind).toBe('tape');
      model.dispose();
    } finally {
      await tf.setBackend('wasm');
      tf.removeBackend('lenet-lab-other');
    }
  });
});
