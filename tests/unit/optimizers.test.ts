// The flat optimizers against tf.train's, step for step, on the same gradients; and the
// ModelUpdater that applies them to a model's variables.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { FlatAdam, FlatMomentum, createOptimizer } from '../../engine/training/optimizers.js';
import { ModelUpdater } from '../../engine/training/step.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe } from '../../common/protocol.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic values in [-scale, scale). */
function values(n: number, seed: number, scale = 1): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 2 ** 32 * 2 - 1) * scale;
  });
}

const SHAPES = [[5, 5, 1, 6], [6], [120, 84], [84]];
const sizes = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
const total = sizes.reduce((a, b) => a + b, 0);

/** Runs `steps` updates of tf.train's optimizer and of the flat one on the same weights and gradients. */
function compare(make: () => tf.Optimizer, flat: ReturnType<typeof createOptimizer>, steps: number, lrAt?: { step: number; lr: number }) {
  const start = values(total, 1);
  const variables = SHAPES.map((shape, i) => {
    const offset = sizes.slice(0, i).reduce((a, b) => a + b, 0);
    return tf.variable(tf.tensor(start.slice(offset, offset + sizes[i]!), shape), true, `compare_${i}_${Math.random()}`);
  });
  const optimizer = make();
  const weights = start.slice();
  for (let step = 0; step < steps; step++) {
    if (lrAt && step === lrAt.step) {
      (optimizer as unknown as { learningRate: number }).learningRate = lrAt.lr;
      // tf.train.adam and momentum read learningRate when they build their update.
      (optimizer as unknown as { setLearningRate?: (lr: number) => void }).setLearningRate?.(lrAt.lr);
      flat.learningRate = lrAt.lr;
    }
    // Gradients of very different sizes, including zeros, as real ones are.
    const grads = values(total, 100 + step, step % 3 === 0 ? 1e-3 : 2);
    for (let i = 0; i < 7; i++) grads[i * 13] = 0;
    const named: tf.NamedTensorMap = {};
    variables.forEach((v, i) => {
      const offset = sizes.slice(0, i).reduce((a, b) => a + b, 0);
      named[v.name] = tf.tensor(grads.slice(offset, offset + sizes[i]!), v.shape);
    });
    optimizer.applyGradients(named);
    tf.dispose(Object.values(named));
    flat.apply(weights, grads);
  }
  const expected = new Float32Array(total);
  variables.forEach((v, i) => expected.set(v.dataSync() as Float32Array, sizes.slice(0, i).reduce((a, b) => a + b, 0)));
  optimizer.dispose();
  tf.dispose(variables);
  return { expected, actual: weights, start };
}

function expectClose(actual: Float32Array, expected: Float32Array, start: Float32Array) {
  let moved = 0;
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(expected[i]!)));
    if (expected[i] !== start[i]) moved++;
  }
  // The comparison means something only if the weights actually moved.
  expect(moved).toBeGreaterThan(expected.length * 0.9);
}

describe('flat optimizers match tf.train', () => {
  it('Adam, over 12 steps with a learning-rate change (bias correction included)', () => {
    const { expected, actual, start } = compare(() => tf.train.adam(0.002), new FlatAdam(0.002, total), 12, { step: 6, lr: 0.0005 });
    expectClose(actual, expected, start);
  });

  it('SGD with momentum 0.9, over 12 steps with a learning-rate change', () => {
    const { expected, actual, start } = compare(() => tf.train.momentum(0.01, 0.9), new FlatMomentum(0.01, 0.9, total), 12, { step: 5, lr: 0.1 });
    expectClose(actual, expected, start);
  });

  it('plain SGD (momentum 0)', () => {
    const { expected, actual, start } = compare(() => tf.train.sgd(0.05), new FlatMomentum(0.05, 0, total), 5);
    expectClose(actual, expected, start);
  });

  for (const [name, make] of [
    ['Adam', () => new FlatAdam(0.002, total)],
    ['SGD with momentum', () => new FlatMomentum(0.01, 0.9, total)],
    ['plain SGD', () => new FlatMomentum(0.05, 0, total)],
  ] as const) {
    it(`${name} applied in two shares (as the two ranks do, each with its own optimizer) equals applying it whole, bit for bit`, () => {
      const whole = make(), firstRank = make(), secondRank = make();
      const start = values(total, 5);
      const a = start.slice(), b = start.slice();
      const middle = 12; // not a variable boundary
      for (let step = 0; step < 4; step++) {
        const grads = values(total, 200 + step);
        whole.apply(a, grads);
        firstRank.apply(b, grads, 0, middle);
        const copy = b.slice();
        secondRank.apply(copy, grads, middle, total);
        b.set(copy.subarray(middle), middle);
      }
      expect(a).toEqual(b);
      expect(a).not.toEqual(start);
    });
  }

  it('createOptimizer follows the recipe', () => {
    expect(createOptimizer({ optimizer: 'adam', learningRate: 1e-3, momentum: 0 }, 4)).toBeInstanceOf(FlatAdam);
    const sgd = createOptimizer({ optimizer: 'sgd', learningRate: 0.5, momentum: 0 }, 2);
    const w = Float32Array.of(1, 2);
    sgd.apply(w, Float32Array.of(1, -2));
    expect([...w]).toEqual([0.5, 3]);
  });
});

describe('ModelUpdater', () => {
  const recipe = (r: Partial<Recipe>) => Recipe.parse({ ...getVariant('modern').recipe, ...r });

  it('moves every variable by the optimizer step and reads back what others assigned', () => {
    const model = getVariant('modern').build(3);
    const updater = new ModelUpdater(model, recipe({ optimizer: 'sgd', learningRate: 0.5, momentum: 0 }));
    expect(updater.size).toBe(model.trainableWeights.reduce((s, w) => s + w.read().size, 0));
    const before = updater.variables.map((v) => Float32Array.from(v.dataSync()));
    const grads = values(updater.size, 5);
    expect(updater.update(1, grads, false).fault).toBeNull();
    updater.variables.forEach((v, i) => {
      const after = v.dataSync();
      const offset = updater.offsets[i]!;
      for (let j = 0; j < after.length; j += 97) expect(after[j]).toBeCloseTo(before[i]![j]! - 0.5 * grads[offset + j]!, 5);
    });
    // A weight set from outside between steps is what the next step starts from.
    const first = updater.variables[0]!;
    tf.tidy(() => first.assign(tf.zerosLike(first)));
    updater.update(1, new Float32Array(updater.size).fill(1), false);
    expect([...first.dataSync()].every((w) => Math.abs(w + 0.5) < 1e-6)).toBe(true);
  });

  it('flattens named gradients in variable order (zeros for a missing one) and disposes them', () => {
    const model = getVariant('modern').build(3);
    const updater = new ModelUpdater(model, recipe({}));
    const before = tf.memory().numTensors;
    const named: tf.NamedTensorMap = {};
    updater.variables.forEach((v, i) => { if (i !== 1) named[v.name] = tf.fill(v.shape, i + 1); });
    const flat = updater.flatten(named);
    expect(tf.memory().numTensors).toBe(before);
    updater.variables.forEach((v, i) => {
      const offset = updater.offsets[i]!;
      expect(flat[offset]).toBe(i === 1 ? 0 : i + 1);
      expect(flat[offset + v.size - 1]).toBe(i === 1 ? 0 : i + 1);
    });
  });

  it('reports per-layer gradient norms, and on divergence restores the last good weights', () => {
    const model = getVariant('modern').build(3);
    const updater = new ModelUpdater(model, recipe({ optimizer: 'sgd', learningRate: 0.1, momentum: 0 }));
    const ones = new Float32Array(updater.size).fill(1);
    const { norms } = updater.update(1, ones, true);
    updater.layerNames.forEach((layer, l) => {
      const count = updater.variables.reduce((s, v) => s + (v.name.startsWith(`${layer}/`) ? v.size : 0), 0);
      expect(norms![l]).toBeCloseTo(Math.sqrt(count), 4);
    });
    // A healthy loss: the weights it was computed with become the last good ones.
    const good = updater.variables.map((v) => Float32Array.from(v.dataSync()));
    updater.update(1.1, ones, false);
    expect(updater.variables[0]!.dataSync()[0]).not.toBe(good[0]![0]);
    const { fault } = updater.update(Number.NaN, ones, false);
    expect(fault).toMatch(/NaN/);
    updater.variables.forEach((v, i) => expect([...v.dataSync()]).toEqual([...good[i]!]));
  });

  it('hands its state to another updater (a second engine joining a run): the two then step alike, divergence watch and last good weights included', () => {
    const r = recipe({ optimizer: 'adam', learningRate: 0.01 });
    const first = getVariant('modern').build(3);
    const a = new ModelUpdater(first, r);
    const initial = a.readFlat();
    const grads = [values(a.size, 11), values(a.size, 12), values(a.size, 13)];
    // Step 1: loss 1 (the watch's first; healthy: the initial weights are the last good). Step 2: 2.5, over 2× the first: not good.
    a.update(1, grads[0]!, false);
    a.update(2.5, grads[1]!, false);
    a.setLearningRate(0.004);
    const second = getVariant('modern').build(5);
    second.setWeights(first.getWeights());
    const b = new ModelUpdater(second, r, a.state());
    expect(b.learningRate).toBe(0.004);
    // Step 3 (2.5 again) is high for both only if b took the watch's first loss over; then NaN: both go back to
    // the last good weights, the initial ones (b's own would be those it started from, after step 2).
    for (const u of [a, b]) expect(u.update(2.5, grads[2]!, false).fault).toBeNull();
    expect([...b.readFlat()]).toEqual([...a.readFlat()]); // the same Adam step: moments, step count and rate went over
    for (const u of [a, b]) expect(u.update(Number.NaN, grads[1]!, false).fault).toMatch(/NaN/);
    expect([...a.readFlat()]).toEqual([...initial]);
    expect([...b.readFlat()]).toEqual([...initial]);
    first.dispose();
    second.dispose();
  });

  it('a state for another number of parameters is refused', () => {
    const modern = new ModelUpdater(getVariant('modern').build(3), recipe({}));
    const seedModel = getVariant('seed').build(3);
    expect(() => new ModelUpdater(seedModel, Recipe.parse(getVariant('seed').recipe), modern.state()))
      .toThrow(`updater state for ${modern.size} parameters, not ${new ModelUpdater(seedModel, Recipe.parse(getVariant('seed').recipe)).size}`);
  });
});

describe('optimizer state (state() and restore())', () => {
  for (const [name, make] of [
    ['Adam', () => new FlatAdam(0.01, total)],
    ['momentum', () => new FlatMomentum(0.05, 0.9, total)],
  ] as const) {
    it(`${name}: a copy restored into a fresh optimizer continues exactly as the original`, () => {
      const original = make();
      const w1 = values(total, 1);
      for (let step = 0; step < 3; step++) original.apply(w1, values(total, 20 + step));
      original.learningRate = 0.003;
      const copy = make();
      copy.restore(original.state());
      expect(copy.learningRate).toBe(0.003);
      const w2 = w1.slice();
      original.apply(w1, values(total, 30));
      copy.apply(w2, values(total, 30));
      expect([...w2]).toEqual([...w1]);
      // A fresh optimizer (no state) would have moved them elsewhere.
      const w3 = w2.slice();
      const fresh = make();
      fresh.learningRate = 0.003;
      const w4 = w3.slice();
      fresh.apply(w3, values(total, 31));
      copy.apply(w4, values(total, 31));
      expect([...w3]).not.toEqual([...w4]);
    });

    it(`${name}: the state is a copy, and one of another size is refused`, () => {
      const o = make();
      const state = o.state();
      o.apply(values(total, 1), values(total, 2));
      expect(state.arrays.every((a) => a.every((v) => v === 0))).toBe(true);
      const other = name === 'Adam' ? new FlatAdam(0.01, total + 1) : new FlatMomentum(0.05, 0.9, total + 1);
      expect(() => other.restore(state)).toThrow('optimizer state of another kind or size');
    });
  }

  it('a state of the other kind is refused, whatever its arrays\' sizes (each check alone)', () => {
    // Adam's two arrays into momentum's one (same size); momentum's one into Adam's two.
    expect(() => new FlatMomentum(0.05, 0.9, total).restore(new FlatAdam(0.01, total).state())).toThrow('optimizer state of another kind or size');
    expect(() => new FlatAdam(0.01, total).restore(new FlatMomentum(0.05, 0.9, total).state())).toThrow('optimizer state of another kind or size');
    // Adam's arrays each checked: the second alone of another size.
    const state = new FlatAdam(0.01, total).state();
    state.arrays[1] = new Float32Array(total + 1);
    expect(() => new FlatAdam(0.01, total).restore(state)).toThrow('optimizer state of another kind or size');
  });

  it('plain SGD keeps no state (no accumulation): its state is one empty array and its rate', () => {
    const sgd = new FlatMomentum(0.05, 0, total);
    sgd.apply(values(total, 1), values(total, 2));
    expect(sgd.state()).toEqual({ learningRate: 0.05, steps: 0, arrays: [new Float32Array(0)] });
    const restored = new FlatMomentum(0.5, 0, total);
    restored.restore(sgd.state());
    expect(restored.learningRate).toBe(0.05);
  });

  it('Adam restores its step count (bias correction): a restored copy of a 5-step optimizer is not a 1-step one', () => {
    const five = new FlatAdam(0.01, total);
    const w = values(total, 1);
    for (let i = 0; i < 5; i++) five.apply(w, values(total, 40 + i));
    expect(five.state().steps).toBe(5);
    const copy = new FlatAdam(0.01, total);
    copy.restore(five.state());
    expect(copy.state().steps).toBe(5);
  });
});
