// The predictor's forward pass (common/network/forward.ts, plain loops from the layer specs) against the
// tfjs model itself: tfjs-layers' predict on a multi-output view of the model (the old predictor), for
// every variant with random weights, on the cpu backend (the renderer's) and the wasm backend (the engine's).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { KernelAccess } from '../../engine/training/direct-step.js';
import { createPredictor, type Prediction } from '../../common/network/predict.js';
import { toModelInput } from '../../common/preprocess.js';
import { getVariant, probabilitiesFor, type VariantSpec } from '../../common/network/variants.js';
import { SCALED_TANH_A, SCALED_TANH_S, applyActivationSpec, describeNetwork, type LayerSpec } from '../../common/network/specs.js';
import { seededRandom } from '../../common/random.js';
import { buildNetwork } from '../../common/network/build.js';
import { VARIANT_NAMES, type VariantName } from '../../common/protocol.js';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('wasm');
});


/**
 * Every variable of the model (the fixed RBF bitmaps and the removed links of a connection table included)
 * set to seeded values: kernels U(±√(3/fan-in)), everything else U(±0.5) (biases nonzero).
 */
function randomiseWeights(model: tfl.LayersModel, seed: number): void {
  const next = seededRandom(seed);
  for (const w of model.weights) {
    const shape = w.shape as number[];
    const size = shape.reduce((a, d) => a * d, 1);
    const fanIn = shape.length > 1 ? size / shape[shape.length - 1]! : 0;
    const limit = fanIn > 0 && w.originalName.endsWith('/kernel') ? Math.sqrt(3 / fanIn) : 0.5;
    const values = Float32Array.from({ length: size }, () => (2 * next() - 1) * limit);
    const t = tf.tensor(values, shape);
    w.write(t);
    t.dispose();
  }
}

/** A 28×28 digit-like image: a bar of ink with seeded grey levels around it. */
function digit(seed: number): Float32Array {
  const next = seededRandom(seed);
  return Float32Array.from({ length: 28 * 28 }, (_, i) => {
    const y = Math.floor(i / 28), x = i % 28;
    return x >= 12 && x < 16 && y >= 4 && y < 24 ? 1 : next() < 0.15 ? next() : 0;
  });
}

/** The oracle: every layer's map and the probabilities from tfjs-layers' own predict. */
function tfjsOutputs(model: tfl.LayersModel, spec: VariantSpec, pixels28: Float32Array): { maps: Float32Array[]; probabilities: Float32Array } {
  const mapped = spec.layers.filter((l) => l.kind !== 'input');
  const probe = tfl.model({ inputs: model.inputs, outputs: mapped.map((l) => model.getLayer(l.modelLayerName).output as tfl.SymbolicTensor) });
  const size = spec.input.size;
  return tf.tidy(() => {
    const out = probe.predict(tf.tensor4d(toModelInput(pixels28, spec.input), [1, size, size, 1])) as tf.Tensor | tf.Tensor[];
    const raw = Array.isArray(out) ? out : [out];
    const probabilities = probabilitiesFor(spec, raw[raw.length - 1]!).dataSync() as Float32Array;
    return { maps: raw.map((t) => (t.dataSync() as Float32Array).slice()), probabilities: probabilities.slice() };
  });
}

/** Largest |a − b| over the largest |expected| (at least 1e-6). */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-6, diff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
  }
  return diff / scale;
}

function expectMatchesTfjs(prediction: Prediction, model: tfl.LayersModel, spec: VariantSpec, pixels28: Float32Array): void {
  const oracle = tfjsOutputs(model, spec, pixels28);
  expect(prediction.activations.map((a) => a.id)).toEqual(spec.layers.map((l) => l.id));
  expect(prediction.activations[0]!.data).toEqual(toModelInput(pixels28, spec.input));
  oracle.maps.forEach((expected, i) => {
    const a = prediction.activations[i + 1]!;
    expect(a.shape, a.id).toEqual(spec.layers[i + 1]!.outShape);
    expect(relativeError(a.data, expected), a.id).toBeLessThan(1e-5);
  });
  expect(relativeError(prediction.probabilities, oracle.probabilities)).toBeLessThan(1e-5);
  expect(prediction.digit).toBe(oracle.probabilities.indexOf(Math.max(...oracle.probabilities)));
}

const copyOf = (p: Prediction) => structuredClone(p);

describe.each(['cpu', 'wasm'] as const)('the forward pass on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });

  it.each(VARIANT_NAMES)('%s: every map and the probabilities match tfjs-layers with random weights', (name: VariantName) => {
    const spec = getVariant(name);
    const model = spec.build(5);
    randomiseWeights(model, 17);
    const predictor = createPredictor(model, spec);
    const tensors = tf.memory().numTensors;
    for (const seed of [1, 2]) expectMatchesTfjs(predictor.predict(digit(seed)), model, spec, digit(seed));
    const before = predictor.predict(digit(3));
    expect(tf.memory().numTensors - tensors).toBe(0);
    predictor.dispose();
    model.dispose();
    // The outputs are not all the same (seed's are all ≈ 0, as in the lesson, but not equal): the check compared something.
    const outputs = [...before.activations[before.activations.length - 1]!.data];
    expect(Math.max(...outputs) - Math.min(...outputs)).toBeGreaterThan(1e-3 * Math.max(...outputs.map(Math.abs)));
  });

  it('weights changed between two calls change the answer, and the first Prediction stays as it was', () => {
    const spec = getVariant('lenet5');
    const model = spec.build(5);
    randomiseWeights(model, 21);
    const predictor = createPredictor(model, spec);
    const first = predictor.predict(digit(4));
    const kept = copyOf(first);
    randomiseWeights(model, 22);
    const second = predictor.predict(digit(4));
    expectMatchesTfjs(second, model, spec, digit(4));
    expect(relativeError(second.probabilities, first.probabilities)).toBeGreaterThan(1e-3);
    predictor.predict(digit(5));
    expect(first).toEqual(kept);
    predictor.dispose();
    model.dispose();
  });

  it('sees a weight overwritten in its own buffer (as the direct training step writes them)', () => {
    const spec = getVariant('modern');
    const model = spec.build(5);
    randomiseWeights(model, 23);
    const predictor = createPredictor(model, spec);
    const first = predictor.predict(digit(6));
    const bias = model.getLayer('OUT').weights.find((w) => w.originalName === 'OUT/bias')!.read() as tf.Variable;
    const dataId = bias.dataId;
    KernelAccess.current()!.overwrite({ dataId, shape: bias.shape, dtype: 'float32' }, Float32Array.from({ length: 10 }, (_, i) => (i === 7 ? 50 : 0)));
    expect(bias.dataId).toBe(dataId);
    const second = predictor.predict(digit(6));
    expect(second.digit).toBe(7);
    expect(second.activations[second.activations.length - 1]!.data).not.toEqual(first.activations[first.activations.length - 1]!.data);
    expectMatchesTfjs(second, model, spec, digit(6));
    predictor.dispose();
    model.dispose();
  });
});

describe('a connection table', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each(['lenet5', 'lenet1'] as const)('%s: a removed link reads nothing even when its stored kernel is nonzero', (name) => {
    const spec = getVariant(name);
    const c3 = spec.layers.find((l) => l.id === 'C3')!;
    if (c3.kind !== 'conv' || !c3.connections) throw new Error('C3 has no table');
    const table = c3.connections;
    const model = spec.build(5);
    randomiseWeights(model, 31);
    // Only the removed links carry weight: C3 must then be its bias, squashed, everywhere.
    const kernel = model.getLayer('C3').weights.find((w) => w.originalName === 'C3/kernel')!;
    const [k, , inMaps, outMaps] = kernel.shape as number[];
    const values = Float32Array.from({ length: k! * k! * inMaps! * outMaps! }, (_, i) => {
      const pair = i % (inMaps! * outMaps!);
      return table[Math.floor(pair / outMaps!)]![pair % outMaps!] === 1 ? 0 : 0.3 + (i % 7) / 10;
    });
    const written = tf.tensor(values, kernel.shape as number[]);
    kernel.write(written);
    written.dispose();
    const bias = model.getLayer('C3').weights.find((w) => w.originalName === 'C3/bias')!.read().dataSync();
    const predictor = createPredictor(model, spec);
    const pixels = digit(8);
    const map = predictor.predict(pixels).activations.find((a) => a.id === 'C3')!;
    map.data.forEach((v, i) => {
      expect(v).toBeCloseTo(applyActivationSpec(c3.activation, bias[i % outMaps!]!), 6);
    });
    expectMatchesTfjs(predictor.predict(pixels), model, spec, pixels);
    predictor.dispose();
    model.dispose();
  });
});

describe('a network of other shapes than the variants\'', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // 3×3 and 4×4 kernels (the general loops), 3×3 pooling at stride 2, tanh, a table on a convolution whose
  // window covers its whole input (the dense form), and a softmax-ce head (its outputs are the probabilities).
  // The tables' convolutions squash with the scaled tanh: the builder's MaskedConv2D takes no fused activation.
  const SCALED_TANH = { id: 'scaled-tanh', amplitude: SCALED_TANH_A, slope: SCALED_TANH_S } as const;
  const table = (rows: number, cols: number) => Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => ((i + j) % 3 === 0 ? 0 : 1)));
  const layers: LayerSpec[] = [
    { kind: 'input', id: 'INPUT', size: 28 },
    { kind: 'conv', id: 'C1', maps: 4, kernel: 3, stride: 1, padding: 'valid', activation: { id: 'tanh' }, init: 'he-uniform' },
    { kind: 'pool', id: 'S2', pooling: 'average', size: 3, stride: 2, activation: { id: 'none' } },
    { kind: 'conv', id: 'C3', maps: 6, kernel: 5, stride: 1, padding: 'valid', activation: SCALED_TANH, init: 'lecun-uniform', connections: table(4, 6) },
    { kind: 'pool', id: 'S4', pooling: 'max', size: 2, stride: 2, activation: { id: 'none' } },
    { kind: 'conv', id: 'C5', maps: 5, kernel: 4, stride: 1, padding: 'valid', activation: SCALED_TANH, init: 'lecun-uniform', connections: table(6, 5) },
    { kind: 'dense', id: 'OUT', units: 10, activation: { id: 'sigmoid' }, init: 'glorot-uniform' },
  ];

  it('the builder refuses a fused activation on a convolution with a connection table (it would be dropped), each kind alone', () => {
    for (const id of ['relu', 'sigmoid', 'tanh'] as const) {
      const bad = layers.map((l) => (l.id === 'C3' ? { ...l, activation: { id } } : l)) as LayerSpec[];
      expect(() => buildNetwork(describeNetwork(bad), 'bad', 3)).toThrow(`C3: a convolution with a connection table squashes with the scaled tanh or nothing, not ${id}`);
    }
    const none = layers.map((l) => (l.id === 'C3' ? { ...l, activation: { id: 'none' } } : l)) as LayerSpec[];
    buildNetwork(describeNetwork(none), 'none', 3).dispose();
  });

  it('matches tfjs-layers map by map', () => {
    const spec: VariantSpec = { ...getVariant('linear'), loss: 'softmax-ce', layers: describeNetwork(layers) };
    expect(spec.layers.map((l) => l.outShape)).toEqual([[28, 28, 1], [26, 26, 4], [12, 12, 4], [8, 8, 6], [4, 4, 6], [1, 1, 5], [10]]);
    const model = buildNetwork(spec.layers, 'shapes', 3);
    randomiseWeights(model, 41);
    const predictor = createPredictor(model, spec);
    for (const seed of [9, 10]) expectMatchesTfjs(predictor.predict(digit(seed)), model, spec, digit(seed));
    predictor.dispose();
    model.dispose();
  });
});
