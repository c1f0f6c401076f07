// One training step (engine/training/step.ts), fast enough to run for every mutant of the file: the divergence
// check at each of its boundaries and in its own words, its state handed to another engine, the correct count,
// the layer names, the step kind, and one batch's loss and gradients (tape and direct) against plain loops
// over the linear classifier's softmax cross-entropy, which share no code with the engine. These need no
// training run (training-controls.test.ts trains; the divergence check's tests moved here from it).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { barsSplit } from './bars-dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe } from '../../common/protocol.js';
import {
  BatchGradients, DivergenceWatch, LocalStepper, ModelUpdater, countCorrect, defaultStepKind, layerOf,
} from '../../engine/training/step.js';
import { DirectStep } from '../../engine/training/direct-step.js';

beforeAll(async () => {
  await initBackend('cpu');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

// Copies: on the cpu backend an update written in place changes the arrays dataSync() returned.
const weightsOf = (model: tfl.LayersModel): Float32Array[] => model.getWeights().map((w) => Float32Array.from(w.dataSync()));

describe('the divergence check', () => {
  it('calls a step healthy exactly when its loss is within 2× the first (table)', () => {
    // loss → [fault?, healthy], first loss 2 (so 4 is the line; scale is max(first, 1)).
    const table: [number, boolean, boolean][] = [
      [2, false, true], [4, false, true], [4.0001, false, false], [3.9, false, true], [0.1, false, true],
      [199, false, false], [200, false, false], [200.5, true, false],
    ];
    const watch = new DivergenceWatch();
    for (const [loss, fault, healthy] of table) {
      const result = watch.check(loss);
      expect([loss, result.fault !== null, result.healthy]).toEqual([loss, fault, healthy]);
    }
    // A first loss below 1 scales from 1: 2.0 is healthy, 2.01 is not, 100 is not an explosion, 100.01 is.
    const small = new DivergenceWatch();
    expect(small.check(0.3)).toEqual({ fault: null, healthy: true });
    expect(small.check(2)).toEqual({ fault: null, healthy: true });
    expect(small.check(2.01)).toEqual({ fault: null, healthy: false });
    expect(small.check(100).fault).toBeNull();
    expect(small.check(100.01).fault).toMatch(/exploded/);
    for (const bad of [NaN, Infinity, -Infinity]) expect(new DivergenceWatch().check(bad)).toEqual({ fault: expect.stringContaining(String(bad)), healthy: false });
  });

  it('counts a streak of 10 high losses as divergence; one healthy loss resets it', () => {
    const watch = new DivergenceWatch();
    watch.check(1);
    for (let i = 0; i < 9; i++) expect(watch.check(5).fault).toBeNull();
    expect(watch.check(1).fault).toBeNull(); // resets
    for (let i = 0; i < 9; i++) expect(watch.check(5).fault).toBeNull();
    expect(watch.check(5).fault).toMatch(/10 batches/);
  });

  it('restores the weights of the last healthy step, not those of a high one, when training diverges', () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3], kernelInitializer: 'ones', biasInitializer: 'zeros' })] });
    const updater = new ModelUpdater(model, Recipe.parse({ optimizer: 'sgd', learningRate: 1, momentum: 0, batchSize: 1, epochs: 1 }));
    const grads = new Float32Array(updater.size).fill(0.25);
    const w0 = weightsOf(model);
    expect(updater.update(2, grads, false).fault).toBeNull(); // healthy: w0 is good
    const w1 = weightsOf(model);
    expect(w1).not.toEqual(w0);
    expect(updater.update(5, grads, false).fault).toBeNull(); // high: w1 is not vouched for
    expect(updater.update(NaN, grads, false).fault).toMatch(/NaN/);
    expect(weightsOf(model)).toEqual(w0);
    model.dispose();
  });
});

describe('the divergence check: its words and its state', () => {
  it('says what happened, with three significant digits of the loss and of the first loss', () => {
    expect(new DivergenceWatch().check(NaN)).toEqual({ fault: 'the loss became NaN', healthy: false });
    expect(new DivergenceWatch().check(-Infinity).fault).toBe('the loss became -Infinity');
    const exploded = new DivergenceWatch();
    exploded.check(2.34567);
    expect(exploded.check(1234.5)).toEqual({ fault: 'the loss exploded to 1.23e+3 (it started at 2.35)', healthy: false });
    const stuck = new DivergenceWatch();
    stuck.check(0.5);
    for (let i = 0; i < 9; i++) stuck.check(2.5);
    // A diverged step never counts as healthy (its weights are not the last good ones).
    expect(stuck.check(3.14159)).toEqual({ fault: 'the loss stayed above 2× its first value for 10 batches (now 3.14, it started at 0.500)', healthy: false });
  });

  it('a first loss above the explosion line of later ones is only the first: it sets the scale', () => {
    const watch = new DivergenceWatch();
    expect(watch.check(500)).toEqual({ fault: null, healthy: true });
    expect(watch.check(1000)).toEqual({ fault: null, healthy: true }); // exactly 2× the first
    expect(watch.check(50_000)).toEqual({ fault: null, healthy: false }); // exactly 100× the first: not yet exploded
    expect(watch.check(50_001).fault).toMatch(/exploded/);
  });

  it('the streak counts high losses in a row only: the tenth in a row diverges, nine do not', () => {
    const watch = new DivergenceWatch();
    watch.check(1);
    for (let i = 0; i < 9; i++) expect(watch.check(2.5)).toEqual({ fault: null, healthy: false });
    expect(watch.state()).toEqual({ first: 1, streak: 9 });
    expect(watch.check(2)).toEqual({ fault: null, healthy: true }); // exactly 2×: not high, resets
    expect(watch.state()).toEqual({ first: 1, streak: 0 });
  });

  it('hands its first loss and streak to another watch, which carries on from them', () => {
    const watch = new DivergenceWatch();
    watch.check(1);
    for (let i = 0; i < 9; i++) watch.check(3);
    const other = new DivergenceWatch();
    other.restore(watch.state());
    expect(other.check(3).fault).toMatch(/for 10 batches/);
    // A fresh watch would take 3 as its first loss
    const fresh = new DivergenceWatch();
    fresh.restore({ first: undefined, streak: 0 });
    expect(fresh.check(3)).toEqual({ fault: null, healthy: true });
    expect(fresh.state()).toEqual({ first: 3, streak: 0 });
  });
});

describe('countCorrect, layerOf, defaultStepKind', () => {
  it('counts a row correct when its largest value is on the label; the first of equal largest values wins', () => {
    // 3 classes, 5 rows: argmax 2, 0 (tie 0/1), 1 (tie 1/2), 0 (all equal), 1.
    const probabilities = Float32Array.from([0.1, 0.2, 0.7, 0.4, 0.4, 0.2, 0.2, 0.4, 0.4, 0.3, 0.3, 0.3, 0.1, 0.8, 0.1]);
    expect(countCorrect(probabilities, Uint8Array.from([2, 0, 1, 0, 1]), 5, 3)).toBe(5);
    expect(countCorrect(probabilities, Uint8Array.from([2, 1, 2, 2, 0]), 5, 3)).toBe(1);
    // Only the first n rows
    expect(countCorrect(probabilities, Uint8Array.from([0, 1, 1, 1, 1]), 2, 3)).toBe(0); // row 2 would count
    // Each row's own classes only: the next row's first value (0.9) is not row 0's fourth class.
    expect(countCorrect(Float32Array.from([0.5, 0.2, 0.3, 0.9, 0.05, 0.05]), Uint8Array.from([0, 0]), 2, 3)).toBe(2);
    expect(countCorrect(probabilities, Uint8Array.from([2, 0, 0, 0, 0]), 2, 3)).toBe(2);
  });

  it('names a variable\'s layer: the part before the slash, without a trailing _number', () => {
    const table: [string, string][] = [
      ['C1/kernel', 'C1'], ['C3_12/bias', 'C3'], ['F6_2/kernel', 'F6'], ['conv_1_2/kernel', 'conv_1'], ['OUT', 'OUT'], ['S2_x/kernel', 'S2_x'],
    ];
    expect(table.map(([name]) => layerOf(name))).toEqual(table.map(([, layer]) => layer));
  });

  it('LENET_LAB_STEP=tape or direct chooses the step; anything else is auto', () => {
    expect(defaultStepKind()).toBe('auto');
    for (const [value, kind] of [['tape', 'tape'], ['direct', 'direct'], ['Tape', 'auto'], ['', 'auto'], ['auto', 'auto']] as const) {
      vi.stubEnv('LENET_LAB_STEP', value);
      expect(defaultStepKind()).toBe(kind);
    }
  });
});

describe('one batch\'s loss, correct count and gradients, against plain loops', () => {
  const spec = getVariant('linear');
  const recipe = Recipe.parse({ ...spec.recipe, batchSize: 8 });
  const split = barsSplit(12, 5);
  // The paper's input: background −0.1, ink 1.175, the 28×28 digit as it is (no padding).
  const pixel = (image: number, i: number): number => -0.1 + 1.275 * Math.fround(split.images[image * 784 + i]! / 255);

  /** Softmax cross-entropy of the linear classifier (logits = x·W + b), in float64: mean loss, argmax hits, dW and db. */
  function reference(kernel: Float32Array, bias: Float32Array, images: number[]) {
    const n = images.length;
    let loss = 0, correct = 0;
    const grads = new Float64Array(784 * 10 + 10);
    for (const image of images) {
      const logits = Array.from({ length: 10 }, (_, k) => {
        let sum = bias[k]!;
        for (let i = 0; i < 784; i++) sum += pixel(image, i) * kernel[i * 10 + k]!;
        return sum;
      });
      const top = Math.max(...logits);
      const exps = logits.map((z) => Math.exp(z - top));
      const total = exps.reduce((a, b) => a + b, 0);
      const label = split.labels[image]!;
      loss -= Math.log(exps[label]! / total) / n;
      if (logits.indexOf(top) === label) correct++;
      for (let k = 0; k < 10; k++) {
        const delta = (exps[k]! / total - (k === label ? 1 : 0)) / n;
        for (let i = 0; i < 784; i++) grads[i * 10 + k] += pixel(image, i) * delta;
        grads[7840 + k] += delta;
      }
    }
    return { loss, correct, grads };
  }

  for (const kind of ['tape', 'direct'] as const) {
    it(`${kind}: images order[start..end), their mean loss, their correct count and every parameter's gradient`, () => {
      const model = spec.build(6);
      // Bigger weights than the initial ones, so that some digits are classified right and the loss is far from log 10.
      const scaled = model.getWeights().map((w) => tf.mul(w, 40));
      model.setWeights(scaled);
      tf.dispose(scaled);
      const [kernel, bias] = weightsOf(model);
      const updater = new ModelUpdater(model, recipe);
      const gradients = new BatchGradients(model, spec, recipe, split, 10, updater, kind);
      expect(gradients.kind).toBe(kind);
      // The kind named is the one that runs (the tape gives the same numbers, several times slower).
      const direct = vi.spyOn(DirectStep.prototype, 'compute');
      const order = Uint32Array.from([11, 3, 7, 0, 9, 4, 1, 8, 2, 10, 5, 6]);
      const into = new Float32Array(updater.size).fill(Number.NaN);
      const tensors = tf.memory().numTensors;
      let result: { loss: number; correct: number };
      try {
        result = gradients.compute(order, 2, 7, undefined, into);
        expect(tf.memory().numTensors).toBe(tensors); // nothing of the batch left behind
        expect(direct).toHaveBeenCalledTimes(kind === 'direct' ? 1 : 0);
      } finally {
        direct.mockRestore(); // a failed check must not leave the spy for the file's later tests
      }
      const { loss, correct } = result;
      const expected = reference(kernel!, bias!, [7, 0, 9, 4, 1]);
      expect(loss).toBeCloseTo(expected.loss, 4);
      expect(correct).toBe(expected.correct);
      let worst = 0;
      for (let j = 0; j < into.length; j++) worst = Math.max(worst, Math.abs(into[j]! - expected.grads[j]!));
      expect(worst).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('a direct step asked for where there is none is refused in words; auto then takes the tape', () => {
    const model = spec.build(6);
    const updater = new ModelUpdater(model, recipe);
    const probabilityOutput = { ...spec, loss: 'softmax-ce' as const };
    expect(() => new BatchGradients(model, probabilityOutput, recipe, split, 10, updater, 'direct')).toThrow('no direct training step for linear on the cpu backend');
    expect(new BatchGradients(model, probabilityOutput, recipe, split, 10, updater, 'auto').kind).toBe('tape');
    expect(new BatchGradients(model, spec, recipe, split, 10, updater, 'auto').kind).toBe('direct');
    model.dispose();
  });
});

describe('LocalStepper: a step on this engine', () => {
  const spec = getVariant('linear');
  const split = barsSplit(12, 5);
  const order = Uint32Array.from({ length: 12 }, (_, i) => i);

  it('moves the weights by the rate times the mean gradient (plain SGD), at the rate it was last given', () => {
    const recipe = Recipe.parse({ ...spec.recipe, optimizer: 'sgd', learningRate: 0.5, momentum: 0 });
    const model = spec.build(2);
    const stepper = new LocalStepper(model, spec, recipe, split, 10, 'tape');
    expect(stepper.kind).toBe('tape');
    expect(stepper.layerNames).toEqual(['OUT']);
    const probe = new LocalStepper(spec.build(2), spec, recipe, split, 10, 'tape');
    const grads = new Float32Array(probe.updater.size);
    probe.gradients.compute(order, 0, 4, undefined, grads);
    probe.updater.model.dispose();
    stepper.setLearningRate(0.25);
    const before = weightsOf(model).map((w) => w.slice());
    const outcome = stepper.step(order, 0, 4, undefined, true);
    expect(outcome.fault).toBeNull();
    expect(outcome.norms).toHaveLength(1);
    expect(outcome.norms![0]).toBeCloseTo(Math.hypot(...grads), 4);
    const after = weightsOf(model);
    expect(after[0]![100]).toBeCloseTo(before[0]![100]! - 0.25 * grads[100]!, 6);
    expect(after[1]![3]).toBeCloseTo(before[1]![3]! - 0.25 * grads[7843]!, 6);
    expect(stepper.step(order, 4, 8, undefined, false).norms).toBeUndefined();
    model.dispose();
  });

  it('a step that diverges counts no correct digit and leaves the last good weights', () => {
    const recipe = Recipe.parse({ ...spec.recipe, optimizer: 'sgd', learningRate: 0.1, momentum: 0 });
    const model = spec.build(2);
    // Weights already NaN: the loss is NaN, and every row's first class is its "largest" (the batch holds a 0).
    const broken = model.getWeights().map((w) => tf.fill(w.shape, Number.NaN));
    model.setWeights(broken);
    tf.dispose(broken);
    expect(Array.from(split.labels)).toContain(0);
    const before = weightsOf(model).map((w) => w.slice());
    const stepper = new LocalStepper(model, spec, recipe, split, 10, 'tape');
    const outcome = stepper.step(order, 0, 12, undefined, true);
    expect(outcome.fault).toBe('the loss became NaN');
    expect(outcome.correct).toBe(0);
    expect(outcome.norms).toBeUndefined();
    expect(weightsOf(model)).toEqual(before);
    model.dispose();
  });
});

describe('ModelUpdater: its state, its flat gradients, where the new weights are written', () => {
  const dense = () => tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3], kernelInitializer: 'ones', biasInitializer: 'zeros' })] });
  const sgd = Recipe.parse({ optimizer: 'sgd', learningRate: 1, momentum: 0, batchSize: 1, epochs: 1 });

  it('its state is a copy: the updater training on does not change a state already taken', () => {
    const model = dense();
    const updater = new ModelUpdater(model, sgd);
    const state = updater.state();
    expect(Array.from(state.lastGood)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    updater.update(1, new Float32Array(updater.size).fill(0.5), false); // healthy: these weights become the last good
    updater.update(1, new Float32Array(updater.size).fill(0.5), false);
    expect(Array.from(updater.state().lastGood)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.5, -0.5]);
    expect(Array.from(state.lastGood)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    model.dispose();
  });

  it('flattens into a given array: a variable without a gradient gets zeros there, whatever the array held', () => {
    const model = dense();
    const updater = new ModelUpdater(model, sgd);
    const into = new Float32Array(updater.size).fill(7);
    const kernel = updater.variables[0]!;
    const flat = updater.flatten({ [kernel.name]: tf.fill(kernel.shape, 2) }, into);
    expect(flat).toBe(into);
    expect(Array.from(into)).toEqual([2, 2, 2, 2, 2, 2, 0, 0]);
    model.dispose();
  });

  it('a tensor sharing a variable\'s data (a clone) keeps the old values: the variables get copies', () => {
    const model = dense();
    const updater = new ModelUpdater(model, sgd);
    const [kernel, bias] = updater.variables as [tf.Variable, tf.Variable];
    // One variable shared, then every one: in place would change the clones too.
    for (const [shared, expected] of [[[kernel], 0.75], [[kernel, bias], 0.5]] as const) {
      const clones = shared.map((v) => tf.clone(v));
      const before = clones.map((c) => Array.from(c.dataSync()));
      updater.update(1, new Float32Array(updater.size).fill(0.25), false);
      expect(Array.from(kernel.dataSync())).toEqual(Array(6).fill(expected));
      clones.forEach((c, i) => expect(Array.from(c.dataSync())).toEqual(before[i]));
      tf.dispose(clones);
    }
    expect(Array.from(bias.dataSync())).toEqual([-0.5, -0.5]);
    // With nothing sharing them, the next step writes in place, and the values are the same arithmetic.
    updater.update(1, new Float32Array(updater.size).fill(0.25), false);
    expect(Array.from(kernel.dataSync())).toEqual(Array(6).fill(0.25));
    expect(Array.from(bias.dataSync())).toEqual([-0.75, -0.75]);
    model.dispose();
  });
});
