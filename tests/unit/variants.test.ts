import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianRbf, LENET5_C3_CONNECTIONS, applyConnectionMasks, LenetLabModel, MaskedConv2D, RbfOutput, ScaledTanh, TrainableSubsampling,
  countModelParams, countModelTrainableParams, trainableParamsOf,
} from '../../common/network/layers.js';
import { RBF_BITMAP_ROWS, RBF_PROTOTYPES } from '../../common/network/rbf-bitmaps.js';
import { createPredictor } from '../../common/network/predict.js';
import { RBF_TEMPERATURE, VARIANTS, getVariant, lossFor, probabilitiesFor, type VariantSpec } from '../../common/network/variants.js';
import { VARIANT_NAMES, type VariantName } from '../../common/protocol.js';

const BITMAPS_TXT = fileURLToPath(new URL('../../assets/reference/rbf-bitmaps-7x12.txt', import.meta.url));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const models: tfl.LayersModel[] = [];
function build(name: VariantName, seed = 1): tfl.LayersModel {
  const model = VARIANTS[name].build(seed);
  models.push(model);
  return model;
}
afterAll(() => {
  for (const m of models) m.dispose();
});

/** A deterministic batch of digit-like random images (background with 20% ink pixels), labels 0..9. */
function randomBatch(spec: VariantSpec, n: number, seed = 3): { x: tf.Tensor4D; y: tf.Tensor2D; labels: number[] } {
  const { background, ink, size } = spec.input;
  const x = tf.tidy(() => {
    const shape: [number, number, number, number] = [n, size, size, 1];
    const u = tf.randomUniform(shape, 0, 1, 'float32', seed);
    return tf.where(tf.greater(u, 0.8), tf.fill(shape, ink), tf.fill(shape, background));
  }) as tf.Tensor4D;
  const labels = Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10) as tf.Tensor2D;
  return { x, y, labels };
}

function c3Layer(model: tfl.LayersModel): MaskedConv2D {
  const layer = model.getLayer('C3');
  if (!(layer instanceof MaskedConv2D)) throw new Error('C3 is not a MaskedConv2D');
  return layer;
}

/** Indices into the flat [5,5,6,16] kernel whose (input, output) pair the C3 table removes. */
function maskedIndices(): number[] {
  const out: number[] = [];
  for (let k = 0; k < 25; k++) {
    for (let i = 0; i < 6; i++) {
      for (let o = 0; o < 16; o++) if (LENET5_C3_CONNECTIONS[i]![o] === 0) out.push((k * 6 + i) * 16 + o);
    }
  }
  return out;
}

describe('parameter counts', () => {
  it('lenet5 matches the 1998 table layer by layer (60,000 trainable, 840 fixed)', () => {
    const model = build('lenet5');
    const paper: Record<string, [number, number]> = {
      C1: [156, 156], S2: [12, 12], C3: [1516, 1516], S4: [32, 32], C5: [48120, 48120], F6: [10164, 10164], OUT: [840, 0],
    };
    for (const [name, [params, trainable]] of Object.entries(paper)) {
      const layer = model.getLayer(name);
      expect(layer.countParams(), name).toBe(params);
      expect(trainableParamsOf(layer), name).toBe(trainable);
    }
    expect(model.countParams()).toBe(60840);
    expect(countModelTrainableParams(model)).toBe(60000);
    const rbf = model.getLayer('OUT');
    expect(rbf.trainableWeights).toHaveLength(0);
    expect(rbf.nonTrainableWeights.map((w) => w.shape)).toEqual([[10, 84]]);
  });

  it('summary() totals use the paper\'s counts', () => {
    const model = build('lenet5');
    const lines: string[] = [];
    model.summary(120, undefined, (line?: unknown) => lines.push(String(line)));
    expect(lines).toContain('Total params: 60840');
    expect(lines).toContain('Trainable params: 60000');
    expect(lines).toContain('Non-trainable params: 840');
    expect(lines.find((l) => l.startsWith('C3 (MaskedConv2D)'))).toMatch(/\b1516\s*$/);
  });

  it.each(VARIANT_NAMES)('%s: the diagram spec agrees with the model, and totals add up', (name) => {
    const spec = VARIANTS[name];
    const model = build(name);
    let total = 0;
    let trainable = 0;
    for (const d of spec.layers) {
      if (d.kind === 'input') continue;
      const layer = model.getLayer(d.id);
      expect(layer.countParams(), d.id).toBe(d.params);
      expect(trainableParamsOf(layer), d.id).toBe(d.trainableParams);
      total += d.params;
      trainable += d.trainableParams;
    }
    expect(countModelParams(model)).toBe(total);
    expect(model.countParams()).toBe(total);
    expect(countModelTrainableParams(model)).toBe(trainable);
    const expectedTotals: Record<VariantName, number> = { lenet5: 60840, seed: 61696, modern: 61706, linear: 7850, lenet1: 2678, lenet4: 51090 };
    expect(total).toBe(expectedTotals[name]);
  });

  it('reports multiply-adds per image from the layer shapes', () => {
    const macs = Object.fromEntries(VARIANTS.lenet5.layers.map((d) => [d.id, d.macs]));
    // The paper's connection counts minus one bias connection per output unit.
    expect(macs).toMatchObject({ C1: 122304 - 4704, C3: 151600 - 1600, C5: 48000, F6: 10080, OUT: 840 });
  });
});

describe('shapes and names', () => {
  const LAYER_IDS: Record<VariantName, string[]> = {
    lenet5: ['INPUT', 'C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'OUT'],
    seed: ['INPUT', 'C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'OUT'],
    modern: ['INPUT', 'C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'OUT'],
    linear: ['INPUT', 'OUT'],
    lenet1: ['INPUT', 'C1', 'S2', 'C3', 'S4', 'OUT'],
    lenet4: ['INPUT', 'C1', 'S2', 'C3', 'S4', 'C5', 'OUT'],
  };
  const INPUT_SIDE: Record<VariantName, number> = { lenet5: 32, seed: 32, modern: 32, linear: 28, lenet1: 28, lenet4: 32 };

  it.each(VARIANT_NAMES)('%s: every diagram layer names a model layer with the stated output shape', (name) => {
    const spec = getVariant(name);
    const model = build(name);
    const side = INPUT_SIDE[name];
    expect(model).toBeInstanceOf(LenetLabModel);
    expect(model.inputs[0]!.shape).toEqual([null, side, side, 1]);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(spec.layers.map((d) => d.id)).toEqual(LAYER_IDS[name]);
    for (const d of spec.layers) {
      expect(model.getLayer(d.modelLayerName).outputShape, d.id).toEqual([null, ...d.outShape]);
    }
    for (const conv of spec.layers.filter((d) => d.kind === 'conv').map((d) => d.id)) {
      expect(model.getLayer(conv).weights.map((w) => w.originalName)).toContain(`${conv}/kernel`);
    }
    const { x } = randomBatch(spec, 3);
    const y = model.predict(x) as tf.Tensor;
    expect(y.shape).toEqual([3, 10]);
    tf.dispose([x, y]);
  });

  it.each(VARIANT_NAMES)('%s: the predictor gives every layer\'s activations and probabilities that sum to 1', (name) => {
    const spec = getVariant(name);
    const predictor = createPredictor(build(name), spec);
    const digit = new Float32Array(28 * 28);
    digit.fill(1, 10 * 28, 18 * 28);
    const prediction = predictor.predict(digit);
    expect(prediction.activations.map((a) => a.id)).toEqual(spec.layers.map((d) => d.id));
    prediction.activations.forEach((a, i) => expect(a.shape, a.id).toEqual(spec.layers[i]!.outShape));
    expect(prediction.probabilities).toHaveLength(10);
    expect(prediction.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    predictor.dispose();
  });

  it('build(seed) is deterministic for a seed and differs between seeds', () => {
    for (const name of VARIANT_NAMES) {
      const [a, b, c] = [build(name, 11), build(name, 11), build(name, 12)];
      const wa = a.getWeights().map((t) => Array.from(t.dataSync()));
      const wb = b.getWeights().map((t) => Array.from(t.dataSync()));
      const wc = c.getWeights().map((t) => Array.from(t.dataSync()));
      expect(wb, name).toEqual(wa);
      expect(wc, name).not.toEqual(wa);
    }
  });

  it('getVariant rejects unknown names', () => {
    expect(() => getVariant('lenet7' as VariantName)).toThrow(/unknown variant "lenet7"/);
  });
});

describe('C3 connection table', () => {
  it('has the paper\'s 60 links in its documented pattern', () => {
    const table = LENET5_C3_CONNECTIONS;
    expect(table.flat().reduce((a, v) => a + v, 0)).toBe(60);
    const column = (o: number) => table.map((row) => row[o]!);
    const inputsOf = (o: number) => column(o).flatMap((v, i) => (v ? [i] : []));
    const sorted = (a: number[]) => [...a].sort((p, q) => p - q);
    for (let o = 0; o < 6; o++) expect(inputsOf(o)).toEqual(sorted([0, 1, 2].map((d) => (o + d) % 6)));
    for (let o = 6; o < 12; o++) expect(inputsOf(o)).toEqual(sorted([0, 1, 2, 3].map((d) => (o - 6 + d) % 6)));
    expect([12, 13, 14].map(inputsOf)).toEqual([[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5]]);
    expect(inputsOf(15)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('removed links start at exactly 0 and stay 0 through real SGD-momentum and Adam steps', () => {
    const spec = VARIANTS.lenet5;
    const lossFn = lossFor(spec);
    const masked = maskedIndices();
    expect(masked).toHaveLength(36 * 25);
    for (const optimizer of [tf.train.momentum(0.05, 0.9), tf.train.adam(0.01)]) {
      const model = build('lenet5', 5);
      const c3 = c3Layer(model);
      const kernelVar = c3.weights.find((w) => w.originalName === 'C3/kernel')!;
      const before = kernelVar.read().dataSync().slice();
      expect(masked.every((i) => before[i] === 0)).toBe(true);
      const { x, y } = randomBatch(spec, 4);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      for (let step = 0; step < 3; step++) {
        const loss = optimizer.minimize(() => lossFn(y, model.apply(x, { training: true }) as tf.Tensor), true, vars);
        loss?.dispose();
      }
      const after = kernelVar.read().dataSync();
      expect(masked.filter((i) => after[i] !== 0)).toEqual([]);
      const live = Array.from(after.keys()).filter((i) => !masked.includes(i));
      expect(live.filter((i) => after[i] !== before[i]).length).toBeGreaterThan(live.length / 2);
      tf.dispose([x, y]);
      optimizer.dispose();
    }
  });

  it('applyMask() and the saved weights zero links that someone wrote into', async () => {
    const model = build('lenet5');
    const c3 = c3Layer(model);
    const kernelVar = c3.weights.find((w) => w.originalName === 'C3/kernel')!;
    const ones = tf.ones(kernelVar.shape as number[]);
    kernelVar.write(ones);
    ones.dispose();
    let saved: tf.io.ModelArtifacts | null = null;
    applyConnectionMasks(model);
    await model.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const artifacts = saved as unknown as tf.io.ModelArtifacts;
    const decoded = tf.io.decodeWeights(artifacts.weightData!, artifacts.weightSpecs!);
    const values = decoded['C3/kernel']!.dataSync();
    const masked = new Set(maskedIndices());
    for (let i = 0; i < values.length; i++) expect(values[i]).toBe(masked.has(i) ? 0 : 1);
    tf.dispose(Object.values(decoded));
  });
});

describe('custom layers', () => {
  it('RBF prototypes are the bitmaps of assets/reference/rbf-bitmaps-7x12.txt', () => {
    const text = readFileSync(BITMAPS_TXT, 'utf8');
    const digits = new Map<number, string[]>();
    let current: string[] | null = null;
    for (const line of text.split('\n').map((l) => l.trim())) {
      const header = /^digit (\d)$/.exec(line);
      if (header) {
        current = [];
        digits.set(Number(header[1]), current);
      } else if (current && /^[#.]{7}$/.test(line)) {
        current.push(line);
      }
    }
    expect([...digits.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let d = 0; d < 10; d++) {
      expect(digits.get(d), `digit ${d}`).toHaveLength(12);
      expect(RBF_BITMAP_ROWS[d], `digit ${d}`).toEqual(digits.get(d));
      const expected = digits.get(d)!.join('').split('').map((c) => (c === '#' ? 1 : -1));
      expect(RBF_PROTOTYPES[d]).toEqual(expected);
    }
    const model = build('lenet5');
    const [prototypes] = model.getLayer('OUT').getWeights();
    expect(Array.from(prototypes!.dataSync())).toEqual(RBF_PROTOTYPES.flat());
  });

  it('ScaledTanh is 1.7159·tanh(2a/3): f(±1) ≈ ±1, saturates at ±1.7159', () => {
    const layer = new ScaledTanh();
    const a = [-40, -3, -1, -0.5, 0, 0.25, 1, 2, 40];
    const out = layer.apply(tf.tensor1d(a)) as tf.Tensor;
    const got = Array.from(out.dataSync());
    a.forEach((v, i) => expect(got[i]).toBeCloseTo(1.7159 * Math.tanh((2 * v) / 3), 6));
    expect(got[6]).toBeCloseTo(1, 4);
    expect(got[2]).toBeCloseTo(-1, 4);
    expect(got[8]).toBeCloseTo(1.7159, 6);
    out.dispose();
  });

  it('TrainableSubsampling is (sum of each 2×2 block)·coefficient + bias, per map', () => {
    const [n, h, w, c] = [2, 4, 6, 3];
    const values = Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i * 1.7));
    const layer = new TrainableSubsampling();
    const x = tf.tensor4d(values, [n, h, w, c]);
    layer.apply(x); // builds
    const coef = [0.5, -2, 3];
    const bias = [0.1, 0.2, -0.3];
    layer.setWeights([tf.tensor1d(coef), tf.tensor1d(bias)]);
    const y = layer.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([n, h / 2, w / 2, c]);
    const got = y.dataSync();
    const at = (b: number, i: number, j: number, k: number) => values[((b * h + i) * w + j) * c + k]!;
    for (let b = 0; b < n; b++) for (let i = 0; i < h / 2; i++) for (let j = 0; j < w / 2; j++) for (let k = 0; k < c; k++) {
      const sum = at(b, 2 * i, 2 * j, k) + at(b, 2 * i + 1, 2 * j, k) + at(b, 2 * i, 2 * j + 1, k) + at(b, 2 * i + 1, 2 * j + 1, k);
      expect(got[((b * (h / 2) + i) * (w / 2) + j) * c + k]).toBeCloseTo(sum * coef[k]! + bias[k]!, 5);
    }
    expect(layer.countParams()).toBe(6);
    tf.dispose([x, y]);
    layer.dispose();
  });

  it('RbfOutput gives squared distances to the fixed bitmaps; GaussianRbf gives exp(−d/2σ²)', () => {
    const input = Array.from({ length: 2 * 84 }, (_, i) => Math.cos(i));
    const x = tf.tensor2d(input, [2, 84]);
    const rbf = new RbfOutput();
    const d = rbf.apply(x) as tf.Tensor;
    const dist = (row: number, proto: readonly number[]) =>
      proto.reduce((s, w, j) => s + (input[row * 84 + j]! - w) ** 2, 0);
    const got = d.dataSync();
    for (let r = 0; r < 2; r++) for (let i = 0; i < 10; i++) expect(got[r * 10 + i]).toBeCloseTo(dist(r, RBF_PROTOTYPES[i]!), 3);

    const gauss = new GaussianRbf({ units: 10, sigma: 2, seed: 1 });
    gauss.apply(x);
    const centres = RBF_PROTOTYPES.map((p) => p.map((v) => v * 0.1));
    gauss.setWeights([tf.tensor2d(centres.map((c) => [...c]))]);
    const g = (gauss.apply(x) as tf.Tensor).dataSync();
    for (let r = 0; r < 2; r++) for (let i = 0; i < 10; i++) {
      expect(g[r * 10 + i]).toBeCloseTo(Math.exp(-dist(r, centres[i]!) / (2 * 4)), 5);
    }
    expect(gauss.trainableWeights).toHaveLength(1);
    tf.dispose([x, d]);
    rbf.dispose();
    gauss.dispose();
  });
});

describe('losses', () => {
  it('rbf-map is softmax cross-entropy over −distances / temperature; probabilities favour the nearest bitmap', () => {
    const spec = VARIANTS.lenet5;
    const d = tf.tensor2d([[3, 1, 2, 9, 9, 9, 9, 9, 9, 9], [5, 5, 0.5, 5, 5, 5, 5, 5, 5, 5]]);
    const y = tf.oneHot(tf.tensor1d([1, 0], 'int32'), 10);
    const manual = [[3, 1, 2, 9, 9, 9, 9, 9, 9, 9], [5, 5, 0.5, 5, 5, 5, 5, 5, 5, 5]].map((row, r) => {
      const z = row.map((v) => Math.exp(-v / RBF_TEMPERATURE));
      const s = z.reduce((a, v) => a + v, 0);
      return -Math.log(z[[1, 0][r]!]! / s);
    });
    expect(lossFor(spec)(y, d).dataSync()[0]).toBeCloseTo((manual[0]! + manual[1]!) / 2, 5);
    const p = probabilitiesFor(spec, d);
    const rows = p.arraySync() as number[][];
    expect(rows.map((r) => r.indexOf(Math.max(...r)))).toEqual([1, 2]);
    for (const r of rows) expect(r.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    tf.dispose([d, y, p]);
  });

  it('logits-ce is softmax cross-entropy over the outputs', () => {
    const logits = tf.tensor2d([[2, 0, -1, 0, 0, 0, 0, 0, 0, 0]]);
    const y = tf.oneHot(tf.tensor1d([0], 'int32'), 10);
    const z = [2, 0, -1, 0, 0, 0, 0, 0, 0, 0].map(Math.exp);
    const expected = -Math.log(z[0]! / z.reduce((a, v) => a + v, 0));
    expect(lossFor(VARIANTS.modern)(y, logits).dataSync()[0]).toBeCloseTo(expected, 5);
    expect(lossFor(VARIANTS.seed)(y, logits).dataSync()[0]).toBeCloseTo(expected, 5);
    tf.dispose([logits, y]);
  });
});

describe('training', () => {
  const optimizerFor = (recipe: VariantSpec['recipe']): tf.Optimizer =>
    recipe.optimizer === 'adam' ? tf.train.adam(recipe.learningRate) : tf.train.momentum(recipe.learningRate, recipe.momentum);

  // Small batches: tfjs's own cpu Conv2DBackpropFilter is slow, and a fixed batch is enough to see learning.
  const trainSteps = (model: tfl.LayersModel, spec: VariantSpec, optimizer: tf.Optimizer, steps: number): number[] => {
    const lossFn = lossFor(spec);
    const { x, y } = randomBatch(spec, 8, 9);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const loss = optimizer.minimize(() => lossFn(y, model.apply(x, { training: true }) as tf.Tensor), true, vars)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    optimizer.dispose();
    tf.dispose([x, y]);
    return losses;
  };

  it.each(['lenet5', 'modern'] as const)('%s: a few steps of its default recipe on a fixed batch reduce the loss', (name) => {
    const spec = VARIANTS[name];
    const losses = trainSteps(build(name, 21), spec, optimizerFor(spec.recipe), 8);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);
  });

  it('seed as the lesson wrote it: RBF outputs ≈ 0, loss ≈ ln 10, vanishing gradients', () => {
    const spec = VARIANTS.seed;
    const model = build('seed', 21);
    const { x, y } = randomBatch(spec, 8, 4);
    const out = model.predict(x) as tf.Tensor;
    expect(Math.max(...out.dataSync())).toBeLessThan(1e-10);
    const loss = lossFor(spec)(y, out);
    expect(loss.dataSync()[0]).toBeCloseTo(Math.log(10), 5);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads, value } = tf.variableGrads(() => lossFor(spec)(y, model.apply(x, { training: true }) as tf.Tensor), vars);
    const maxGrad = Math.max(...Object.values(grads).map((g) => tf.max(tf.abs(g)).dataSync()[0]!));
    expect(maxGrad).toBeLessThan(1e-8);
    tf.dispose([x, y, out, loss, value, ...Object.values(grads)]);
  });

  it('seed trains once its RBF centres sit where the sigmoid outputs are (the head itself is trainable)', () => {
    const spec = VARIANTS.seed;
    const model = build('seed', 21);
    const head = model.getLayer('OUT');
    const centres = tf.tidy(() => tf.add(0.5, tf.mul(0.05, tf.randomNormal([10, 84], 0, 1, 'float32', 2))));
    head.setWeights([centres]);
    centres.dispose();
    const losses = trainSteps(model, spec, tf.train.adam(0.003), 8);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! - 0.003);
  });
});

describe('the first convolution under a gradient tape', () => {
  const withConvolutions = VARIANT_NAMES.filter((name) => VARIANTS[name].layers.some((d) => d.kind === 'conv'));
  it.each(withConvolutions)('%s: skips the input images\' gradient, computes the same outputs, and its kernel gradient is the loss\'s slope', async (name) => {
    const spec = VARIANTS[name];
    const model = build(name, 5);
    const { x, y } = randomBatch(spec, 4, 12);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const c1Kernel = vars.find((v) => v.name.startsWith('C1') && v.name.includes('kernel'))!;
    const lossOf = () => lossFor(spec)(y, model.apply(x, { training: true }) as tf.Tensor);
    // Only the deeper convolutions pass a gradient down to their inputs (C3 and C5); C1's input is the images.
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(lossOf, vars);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const deeperConvolutions = spec.layers.filter((d) => d.kind === 'conv').length - 1;
    expect(profile.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length).toBe(deeperConvolutions);
    // The unfused path under the tape gives the same activations as the fused one outside it.
    const c1 = tfl.model({ inputs: model.inputs, outputs: model.getLayer('C1').output as tfl.SymbolicTensor });
    const plain = c1.predict(x) as tf.Tensor;
    let taped: tf.Tensor | undefined;
    const pass = tf.variableGrads(() => {
      taped = tf.keep(c1.apply(x, { training: true }) as tf.Tensor);
      return tf.sum(taped);
    }, [c1Kernel]);
    const difference = tf.max(tf.abs(tf.sub(plain, taped!))).dataSync()[0]!;
    expect(difference).toBeLessThan(1e-5);
    tf.dispose([plain, taped!, pass.value, ...Object.values(pass.grads)]);
    // Central differences on a few C1 weights (float32 and ReLU kinks: a loose tolerance).
    const { grads } = tf.variableGrads(lossOf, vars);
    const grad = grads[c1Kernel.name]!.dataSync();
    const original = c1Kernel.dataSync().slice();
    const h = 1e-3;
    for (const i of [0, 7, 31, 77, 149].filter((w) => w < original.length)) {
      const at = (delta: number) => {
        const w = original.slice();
        w[i] = w[i]! + delta;
        c1Kernel.assign(tf.tensor(w, c1Kernel.shape));
        return tf.tidy(() => lossOf().dataSync()[0]!);
      };
      const slope = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(slope - grad[i]!)).toBeLessThan(2e-2 * Math.abs(grad[i]!) + 2e-3);
    }
    c1Kernel.assign(tf.tensor(original, c1Kernel.shape));
    tf.dispose([x, y, ...Object.values(grads)]);
  });
});

describe('serialisation', () => {
  it.each(VARIANT_NAMES)('%s: model.json → loadLayersModel → identical predictions', async (name) => {
    const model = build(name, 8);
    let artifacts: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const saved = artifacts as unknown as tf.io.ModelArtifacts;
    // Through real JSON text, as model.json would be.
    const topology = JSON.parse(JSON.stringify(saved.modelTopology)) as {};
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: saved.weightSpecs, weightData: saved.weightData }));
    models.push(loaded);
    expect(loaded).toBeInstanceOf(LenetLabModel);
    expect(loaded.countParams()).toBe(model.countParams());
    expect(loaded.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual(model.layers.map((l) => `${l.name}:${l.getClassName()}`));
    const { x } = randomBatch(VARIANTS[name], 4, 6);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
  });

  it('custom layer configs round-trip', () => {
    const masked = new MaskedConv2D({ name: 'm', filters: 2, kernelSize: 3, connections: [[1, 0], [1, 1]], seed: 4 });
    const copy = MaskedConv2D.fromConfig(MaskedConv2D, masked.getConfig()) as MaskedConv2D;
    expect(copy.getConfig()).toEqual(masked.getConfig());
    expect(copy.countParams()).toBe(3 * 9 + 2);
    expect(() => new MaskedConv2D({ filters: 2, kernelSize: 3, connections: [[1, 2]] })).toThrow(/0\/1 rows/);
    const gauss = new GaussianRbf({ units: 4, sigma: 0.5, seed: 2 });
    expect((GaussianRbf.fromConfig(GaussianRbf, gauss.getConfig()) as GaussianRbf).getConfig()).toEqual(gauss.getConfig());
  });
});
