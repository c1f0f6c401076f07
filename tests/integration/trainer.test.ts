import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../../engine/data/dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe, type TrainerEvent, type VariantName } from '../../common/protocol.js';
import { DivergenceWatch, Trainer, type TrainerOptions } from '../../engine/training/trainer.js';
import { busyParallelThreads } from '../../engine/training/parallel-trainer.js';

let mnist: Dataset;
beforeAll(async () => {
  await initBackend('wasm');
  mnist = loadDataset({ kind: 'mnist' });
});

const weightsOf = (t: Trainer): Float32Array[] => t.model.getWeights().map((w) => w.dataSync() as Float32Array);
const of = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) =>
  events.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === type);

// Every scenario on one engine (this thread) and on two (data-parallel, parallel-trainer.ts); what
// only two engines add (their copies, their thread) is checked where they run.
describe.each([1, 2] as const)('Trainer on %i engine(s)', (workers) => {
  function trainer(variant: VariantName, recipe: Partial<Recipe>, extra: Partial<TrainerOptions> = {}) {
    const events: TrainerEvent[] = [];
    const spec = getVariant(variant);
    const t = new Trainer({
      runId: 'test', spec, recipe: Recipe.parse({ ...spec.recipe, ...recipe }), dataset: mnist, limit: 1024, testLimit: 500,
      seed: 7, backend: 'wasm', emit: (e) => events.push(e), workers, ...extra,
    });
    return { t, events };
  }

  /** Two engines: both copies agreed at every sync, and no training thread is left busy. */
  const expectEnginesSettled = (t: Trainer): void => {
    if (workers === 1) return;
    expect(t.parallelReport.copiesIdentical).toBe(true);
    expect(busyParallelThreads()).toBe(0);
  };

  it('lowers the loss of a short modern run and reports every kind of event', async () => {
    const { t, events } = trainer('modern', { epochs: 2, batchSize: 32 }, { throttle: { batch: 0, gradients: 0, weights: 0 } });
    const { done, history } = await t.run();
    expect(done.reason).toBe('completed');
    const batches = of(events, 'batch');
    const firstLoss = batches.slice(0, 3).reduce((s, b) => s + b.loss, 0) / 3;
    expect(history[1]!.trainLoss).toBeLessThan(firstLoss * 0.6);
    expect(history[1]!.testAccuracy).toBeGreaterThan(0.7);
    expect(of(events, 'started')[0]).toMatchObject({ backend: 'wasm', engines: workers, trainCount: 1024, testCount: 500, batchesPerEpoch: 32 });
    expect(of(events, 'epoch').map((e) => e.epoch)).toEqual([1, 2]);
    const gradients = of(events, 'gradients');
    expect(gradients[0]!.norms.map((n) => n.layer)).toEqual(expect.arrayContaining(['C1', 'C3', 'F6']));
    expect(gradients.every((g) => g.norms.every((n) => Number.isFinite(n.norm) && n.norm > 0))).toBe(true);
    expect(of(events, 'weights').length).toBeGreaterThan(1);
    expect(of(events, 'weights').at(-1)!.tensors.some((w) => w.name.startsWith('C1'))).toBe(true);
    expect(done.imagesPerSecond).toBeGreaterThan(0);
    expectEnginesSettled(t);
    t.model.dispose();
  });

  it('throttles batch messages instead of sending one per batch', async () => {
    const { t, events } = trainer('modern', { epochs: 1, batchSize: 16 }, { throttle: { batch: 60_000 } });
    await t.run();
    // 64 batches: only the first and the last of the epoch get through a one-minute throttle.
    expect(of(events, 'batch').map((b) => b.batch)).toEqual([1, 64]);
    t.model.dispose();
  });

  it('keeps the tensor count flat across epochs (in both threads with two engines), and leaves none behind', async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const { t } = trainer('lenet5', { epochs: 3, batchSize: 64 }, {
      limit: 256, testLimit: 200, throttle: { weights: Infinity },
      emit: (e) => { if (e.type === 'epoch') counts.push(tf.memory().numTensors); },
    });
    await t.run();
    expect(counts).toHaveLength(3);
    expect(counts[2]).toBe(counts[1]);
    expect(counts[1]).toBe(counts[0]);
    if (workers === 2) {
      const perThread = t.parallelReport.workerTensorCounts;
      expect(perThread).toHaveLength(3);
      expect(perThread.every((c) => c.length === 2 && c[0] === perThread[0]![0] && c[1] === perThread[0]![1])).toBe(true);
    }
    expectEnginesSettled(t);
    t.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is reproducible with the same seed, and a long pause changes nothing', async () => {
    const a = trainer('modern', { epochs: 1, batchSize: 64 }, { limit: 512 });
    await a.t.run();
    const b = trainer('modern', { epochs: 1, batchSize: 64 }, {
      limit: 512, throttle: { batch: 0 },
      emit: (e) => {
        b.events.push(e);
        if (e.type === 'batch' && e.batch === 3) {
          b.t.pause();
          setTimeout(() => b.t.resume(), 300);
        }
      },
    });
    const result = await b.t.run();
    expect(result.done.reason).toBe('completed');
    expect(of(b.events, 'state').map((e) => e.phase)).toEqual(['loading', 'running', 'paused', 'running', 'idle']);
    expect(weightsOf(b.t)).toEqual(weightsOf(a.t));
    expectEnginesSettled(b.t);
    a.t.model.dispose();
    b.t.model.dispose();
  });

  it('stops mid-epoch with the weights of the last finished batch', async () => {
    const { t, events } = trainer('modern', { epochs: 2, batchSize: 32 }, {
      throttle: { batch: 0 },
      emit: (e) => {
        events.push(e);
        if (e.type === 'batch' && e.batch === 5) t.stop();
      },
    });
    const { done } = await t.run();
    expect(done.reason).toBe('stopped');
    expect(done.message).toMatch(/epoch 1, batch 5 of 32/);
    expect(of(events, 'epoch')).toHaveLength(0);
    expect(weightsOf(t).every((w) => w.every(Number.isFinite))).toBe(true);
    expect(Number.isFinite(done.testAccuracy)).toBe(true);
    expectEnginesSettled(t);
    t.model.dispose();
  });

  it('stops on divergence with a clear message and keeps the last good weights', async () => {
    const { t } = trainer('modern', { optimizer: 'sgd', learningRate: 100, momentum: 0.9, epochs: 2, batchSize: 32 });
    const { done } = await t.run();
    expect(done.reason).toBe('diverged');
    expect(done.message).toMatch(/diverged at epoch \d+, batch \d+/);
    expect(done.message).toMatch(/smaller learning rate/);
    expect(weightsOf(t).every((w) => w.every(Number.isFinite))).toBe(true);
    expectEnginesSettled(t);
    t.model.dispose();
  });

  it('calls a saturated lenet5 at learning rate 1000 diverged too, though its RBF loss cannot explode', async () => {
    // At 100 the loss hovers near 2× its first value, and float rounding decides whether it stays above it.
    const { t } = trainer('lenet5', { optimizer: 'sgd', learningRate: 1000, momentum: 0.9, epochs: 1, batchSize: 32 }, { limit: 640 });
    const { done } = await t.run();
    expect(done.reason).toBe('diverged');
    expect(done.message).toMatch(/stayed above 2× its first value/);
    t.model.dispose();
  });

  it('reproduces the seed recipe stall: near chance, with tiny gradients in the first layers', async () => {
    const { t, events } = trainer('seed', { epochs: 1 }, { limit: 4096, testLimit: 1000, throttle: { gradients: 0 } });
    const { done } = await t.run();
    expect(done.testAccuracy).toBeLessThan(0.2);
    const last = of(events, 'gradients').at(-1)!.norms;
    const norm = (layer: string) => last.find((n) => n.layer === layer)!.norm;
    expect(norm('C1')).toBeLessThan(norm('OUT') * 1e-2);
    t.model.dispose();
  });
});

describe('DivergenceWatch', () => {
  it('NaN and explosions at once, a high plateau after 10 batches, noise never', () => {
    expect(new DivergenceWatch().check(NaN).fault).toMatch(/NaN/);
    const exploded = new DivergenceWatch();
    exploded.check(2.3);
    expect(exploded.check(231).fault).toMatch(/exploded/);
    const plateau = new DivergenceWatch();
    plateau.check(2);
    const faults = Array.from({ length: 10 }, () => plateau.check(25).fault);
    expect(faults.slice(0, 9).every((f) => f === null)).toBe(true);
    expect(faults[9]).toMatch(/10 batches/);
    const noisy = new DivergenceWatch();
    noisy.check(2.3);
    for (let i = 0; i < 100; i++) expect(noisy.check(i % 2 ? 30 : 2).fault).toBeNull();
  });
});
