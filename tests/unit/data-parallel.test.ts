// Both ranks of data-parallel training (engine/training/data-parallel.ts) in this one thread, from the sources.
// In a run, rank 1 is a thread running the compiled dist/, so only rank 0's side of the exchange is ever tested
// from the sources; here rank 1 is a second DataParallelRank, and each time one rank would block waiting for
// the other (Atomics.wait), the test runs the other's side of the step instead. The oracle is one engine
// (LocalStepper, no data-parallel code) trained on the whole batch with the same shift draws; the
// exchange's arithmetic is also checked against literal values.
import * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { barsSplit } from './bars-dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe } from '../../common/protocol.js';
import { Control, DataParallelRank, createSharedBuffers, meanOfHalves } from '../../engine/training/data-parallel.js';
import { LocalStepper } from '../../engine/training/step.js';
import { seededRandom } from '../../engine/training/batches.js';

beforeAll(async () => {
  await initBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('meanOfHalves: the batch\'s mean gradient from its halves\' means', () => {
  const first = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const second = Float32Array.from([10, 20, 30, 40, 50, 60]);

  it('weighs each half by its images, and writes elements [start, end) only', () => {
    const mean = new Float32Array(6).fill(-7);
    // 3 images and 1: weights 3/4 and 1/4.
    meanOfHalves([{ n: 3, slot: first }, { n: 1, slot: second }], 4, mean, 1, 4);
    expect(Array.from(mean)).toEqual([-7, 6.5, 9.75, 13, -7, -7]);
  });

  it('one half (the other was empty): its mean as it is, in [start, end) only', () => {
    const mean = new Float32Array(6).fill(-7);
    meanOfHalves([{ n: 1, slot: second }], 1, mean, 2, 6);
    expect(Array.from(mean)).toEqual([-7, -7, 30, 40, 50, 60]);
  });
});

const spec = getVariant('linear');
const split = barsSplit(45, 1);

/** Two ranks over one shared block, each with its own copy of the same initial model, and a third copy for the oracle. */
function pair(recipe: Recipe) {
  const models = [spec.build(3), spec.build(3)];
  const parameters = models[0]!.trainableWeights.reduce((s, w) => s + w.read().size, 0);
  const shared = createSharedBuffers(split, split.count, parameters, recipe.batchSize);
  const ranks = models.map((m, r) => new DataParallelRank(r, m, spec, recipe, split, 10, shared, 'auto')) as [DataParallelRank, DataParallelRank];
  return { models, ranks, shared, parameters };
}

/**
 * While a rank waits for the other, the other's next piece of work runs (there is no second thread). `waited`
 * and `woken`: the control slots waited on and notified (a slot waited on and never notified would cost a
 * real thread the whole poll interval, 200 ms, at every step).
 */
function runOtherWhileWaiting(): (() => void)[] & { waited: Set<number>; woken: Set<number> } {
  const queue = Object.assign([] as (() => void)[], { waited: new Set<number>(), woken: new Set<number>() });
  vi.spyOn(Atomics, 'wait').mockImplementation((_, index) => {
    queue.waited.add(index);
    const other = queue.shift();
    if (!other) throw new Error('a rank waited with nothing left for the other to do');
    other();
    return 'ok';
  });
  const notify = Atomics.notify.bind(Atomics);
  vi.spyOn(Atomics, 'notify').mockImplementation((array, index, count) => {
    queue.woken.add(index);
    return notify(array, index, count);
  });
  return queue;
}

const flat = (model: tfl.LayersModel): Float32Array => Float32Array.from(model.getWeights().flatMap((w) => Array.from(w.dataSync())));

/** Batches of 16, 15 (8 + 7), one image (rank 1's half empty) and 13 (7 + 6). */
const BATCHES: [number, number][] = [[0, 16], [16, 31], [31, 32], [32, 45]];

describe('two ranks, one step at a time: the same training as one engine on the whole batch', () => {
  for (const [name, overrides] of [
    ['Adam, digits shifted by up to 2 pixels', { optimizer: 'adam', learningRate: 0.01, augmentShift: 2 }],
    ['SGD with momentum, no shift', { optimizer: 'sgd', learningRate: 0.05, momentum: 0.9, augmentShift: 0 }],
  ] as const) {
    it(name, () => {
      const recipe = Recipe.parse({ ...spec.recipe, batchSize: 16, lrDecay: 1, ...overrides });
      const { models, ranks: [zero, one] } = pair(recipe);
      const oracleModel = spec.build(3);
      const oracle = new LocalStepper(oracleModel, spec, recipe, split, 10, 'auto');
      const initial = flat(oracleModel);
      const order = Uint32Array.from({ length: split.count }, (_, i) => (i * 17) % split.count);
      zero.order.set(order);
      const random = seededRandom(9);
      const queue = runOtherWhileWaiting();
      BATCHES.forEach(([start, end], i) => {
        const sequence = i + 1;
        const n = end - start, firstHalf = Math.ceil(n / 2), middle = start + firstHalf;
        const draws = recipe.augmentShift > 0 ? Float64Array.from({ length: 2 * n }, () => random()) : null;
        const wantNorms = i % 2 === 1;
        let theirs: ReturnType<DataParallelRank['combine']> | undefined;
        queue.push(
          () => { one.computeHalf(sequence, middle, end, draws?.subarray(2 * firstHalf) ?? null, recipe.augmentShift); one.arrive(sequence); },
          () => { theirs = one.combine(sequence, false); },
        );
        zero.computeHalf(sequence, start, middle, draws, recipe.augmentShift);
        zero.arrive(sequence);
        const mine = zero.combine(sequence, wantNorms);
        expect(queue).toHaveLength(0);
        // Rank 0 waited for rank 1 at both meetings, and rank 1 woke it at each.
        expect([...queue.waited].sort((a, b) => a - b)).toEqual([Control.Barrier + 1, Control.Exchange + 1]);
        for (const slot of queue.waited) expect(queue.woken).toContain(slot);

        let next = 0;
        const expected = oracle.step(order, start, end, draws ? { maxShift: recipe.augmentShift, random: () => draws[next++]! } : undefined, wantNorms);
        expect(mine.fault).toBeNull();
        expect(mine.loss).toBeCloseTo(expected.loss, 5);
        expect(mine.correct).toBe(expected.correct);
        expect(theirs).toMatchObject({ fault: null, correct: mine.correct });
        expect(theirs!.loss).toBe(mine.loss);
        if (wantNorms) {
          expect(mine.norms).toHaveLength(1);
          expect(mine.norms![0]).toBeCloseTo(expected.norms![0]!, 4);
        } else {
          expect(mine.norms).toBeUndefined();
        }
        // Both copies bit for bit the same, and one engine's up to float rounding.
        const [a, b, c] = [flat(models[0]!), flat(models[1]!), flat(oracleModel)];
        expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
        let worst = 0;
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - c[j]!));
        expect(worst).toBeLessThan(1e-5);
        // Training moved both ranks' shares: the kernel's first weight and the last class's bias.
        expect(a[0]).not.toBe(initial[0]);
        expect(a.at(-1)).not.toBe(initial.at(-1));
      });
      [...models, oracleModel].forEach((m) => m.dispose());
    });
  }
});

describe('a rank\'s failure, silence, and published weights', () => {
  const recipe = Recipe.parse({ ...spec.recipe, batchSize: 16 });

  it('rank 0 failing stops rank 1 at either meeting with rank 0\'s words', () => {
    const { models, ranks: [zero, one] } = pair(recipe);
    zero.fail('the trainer was stopped');
    expect(() => one.arrive(1)).toThrow(/^training thread 0: the trainer was stopped$/);
    expect(() => one.arrive(1, Control.Exchange)).toThrow(/^training thread 0: the trainer was stopped$/);
    models.forEach((m) => m.dispose());
  });

  it('a failing rank wakes the other wherever it may wait: at either meeting (its own slots) and for a command', () => {
    const { models, ranks } = pair(recipe);
    ranks.forEach((rank, r) => {
      const queue = runOtherWhileWaiting();
      rank.fail(`rank ${r} failed`);
      expect([...queue.woken].sort((a, b) => a - b)).toEqual([Control.Sequence, Control.Barrier + r, Control.Exchange + r].sort((a, b) => a - b));
      vi.restoreAllMocks();
    });
    models.forEach((m) => m.dispose());
  });

  it('the failure\'s words: the latest message whole, a long one cut to the block, none said as "failed"', () => {
    const { models, ranks: [zero, one] } = pair(recipe);
    zero.fail('');
    expect(one.failureMessage()).toBe('failed');
    zero.fail('a long message that fills more of the block');
    zero.fail('short');
    expect(one.failureMessage()).toBe('short');
    zero.fail('x'.repeat(5000));
    expect(one.failureMessage()).toBe('x'.repeat(1023));
    models.forEach((m) => m.dispose());
  });

  it('a rank that hears nothing gives the other up after 60 s, not at 60 s exactly', () => {
    const { models, ranks: [zero, one] } = pair(recipe);
    const queue = runOtherWhileWaiting();
    // The deadline is taken at 1000 ms; the rank then looks at the clock each time round its wait.
    const clock = vi.spyOn(performance, 'now');
    // Exactly at the deadline the rank still waits, and the other's arrival then lets it through.
    clock.mockReturnValueOnce(1000).mockReturnValue(61_000);
    queue.push(() => { one.arrive(1); });
    expect(() => zero.arrive(1)).not.toThrow();
    expect(queue).toHaveLength(0);
    // One millisecond past it: given up, in words that say how long.
    clock.mockReset().mockReturnValueOnce(1000).mockReturnValue(61_001);
    expect(() => zero.arrive(2)).toThrow(/^training thread 1 stopped answering \(no step for 60 s\)$/);
    models.forEach((m) => m.dispose());
  });

  it('rank 1\'s weights and tensor count, published for rank 0 to compare', () => {
    const { models, ranks: [zero, one] } = pair(recipe);
    const changed = models[1]!.getWeights().map((w) => tf.add(w, 0.5));
    models[1]!.setWeights(changed);
    tf.dispose(changed);
    one.publishWeights(4);
    const { weights, tensors } = zero.published(4);
    expect(Array.from(weights)).toEqual(Array.from(flat(models[1]!)));
    expect(weights[0]).not.toBe(flat(models[0]!)[0]);
    expect(tensors).toBe(tf.memory().numTensors);
    // Another command's header slot (the other parity) holds nothing
    expect(zero.published(5).tensors).toBe(0);
    models.forEach((m) => m.dispose());
  });
});
