// The training loop's bookkeeping on one engine, fast enough to run for every mutant of trainer.ts: the
// linear classifier on 70 synthetic digits (batches of 16: four full ones and an odd last one of 6), the
// cpu backend. Expectations are literal (event order, batch numbering, messages) or recomputed from the
// events with plain loops, never by the trainer's own code. training-controls.test.ts runs the same
// controls on MNIST and two engines.
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { barsDataset, barsSplit } from './bars-dataset.js';
import type { DataSplit } from '../../engine/data/dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe, TrainerEvent, type RunPhase, type TrainerEventOf } from '../../common/protocol.js';
import { Trainer, trainingWorkers, type TrainerOptions } from '../../engine/training/trainer.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const dataset = barsDataset(70, 20);

/** Noise with arbitrary labels: nothing to learn, so a huge learning rate throws the loss far up. */
function noise(count: number): DataSplit {
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16;
  for (let i = 0; i < images.length; i++) images[i] = next() & 255;
  for (let i = 0; i < count; i++) labels[i] = next() % 10;
  return { images, labels, count, rows: 28, cols: 28 };
}

const phases = (events: TrainerEvent[]): RunPhase[] => events.flatMap((e) => (e.type === 'state' ? [e.phase] : []));
const ofType = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) =>
  events.filter((e): e is TrainerEventOf<T> => e.type === type);
const weightsOf = (model: tfl.LayersModel): Float32Array[] => model.getWeights().map((w) => w.dataSync() as Float32Array);

function makeTrainer(recipe: Partial<Recipe>, extra: Partial<TrainerOptions> = {}) {
  const events: TrainerEvent[] = [];
  const spec = getVariant('linear');
  const t: Trainer = new Trainer({
    runId: 'loop', spec, recipe: Recipe.parse({ ...spec.recipe, batchSize: 16, epochs: 2, learningRate: 0.01, lrDecay: 1, ...recipe }),
    dataset, seed: 4, backend: 'cpu', workers: 1, throttle: { batch: 0, weights: Infinity, gradients: Infinity },
    emit: (e) => events.push(e), ...extra,
  });
  return { t, events };
}

describe('the training loop on one engine', () => {
  it('numbers batches and steps, weighs the odd last batch in the epoch means, and reports a finished run', async () => {
    const { t, events } = makeTrainer({ epochs: 2 });
    const { done, steps, history } = await t.run();
    expect(phases(events)).toEqual(['loading', 'running', 'idle']);
    expect(events.at(-1)).toBe(done);
    const started = ofType(events, 'started');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ runId: 'loop', variant: 'linear', backend: 'cpu', engines: 1, dataset: 'bars', trainCount: 70, testCount: 20, batchesPerEpoch: 5, seed: 4 });
    expect(started[0]!.enginesNote).toBeUndefined();
    const batches = ofType(events, 'batch');
    expect(batches.map((b) => [b.epoch, b.batch, b.step, b.batchesPerEpoch])).toEqual([
      [1, 1, 1, 5], [1, 2, 2, 5], [1, 3, 3, 5], [1, 4, 4, 5], [1, 5, 5, 5],
      [2, 1, 6, 5], [2, 2, 7, 5], [2, 3, 8, 5], [2, 4, 9, 5], [2, 5, 10, 5],
    ]);
    expect(steps).toBe(10);
    // Epoch means weigh each batch by its images: 16, 16, 16, 16 and 6 (a plain loop over the events).
    const sizes = [16, 16, 16, 16, 6];
    for (const epoch of [1, 2]) {
      const mine = batches.filter((b) => b.epoch === epoch);
      let loss = 0;
      let correct = 0;
      mine.forEach((b, i) => {
        loss += b.loss * sizes[i]!;
        correct += b.accuracy * sizes[i]!;
      });
      expect(history[epoch - 1]!.trainLoss).toBeCloseTo(loss / 70, 5);
      expect(history[epoch - 1]!.trainAccuracy).toBeCloseTo(correct / 70, 5);
      expect(Math.round(mine.at(-1)!.accuracy * 6)).toBeCloseTo(mine.at(-1)!.accuracy * 6, 5); // the last batch holds 6
    }
    expect(history.map((h) => [h.epoch, h.epochs])).toEqual([[1, 2], [2, 2]]);
    for (const h of history) {
      expect(h.seconds).toBeGreaterThan(0);
      expect(h.imagesPerSecond).toBeGreaterThan(0);
      expect(h.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(h.testAccuracy).toBeLessThanOrEqual(1);
    }
    expect(history[1]!.trainLoss).toBeLessThan(history[0]!.trainLoss);
    expect(ofType(events, 'epoch').map((e) => e.epoch)).toEqual([1, 2]);
    expect(done).toMatchObject({ type: 'done', runId: 'loop', reason: 'completed', epochsCompleted: 2, backend: 'cpu' });
    expect(done.testAccuracy).toBe(history[1]!.testAccuracy);
    expect(done.testLoss).toBe(history[1]!.testLoss);
    expect(done.message).toBe(`Trained 2 epochs: test accuracy ${(done.testAccuracy * 100).toFixed(2)}%.`);
    expect(done.imagesPerSecond).toBeGreaterThan(0);
    expect(done.seconds).toBeGreaterThan(0);
    // Weights only at the end of each epoch (throttled to never otherwise), with the step and batch reached.
    expect(ofType(events, 'weights').map((w) => [w.epoch, w.batch, w.step])).toEqual([[1, 5, 5], [2, 5, 10]]);
    // Gradients only where forced: the last batch of each epoch, one norm per trained layer.
    expect(ofType(events, 'gradients').map((g) => [g.epoch, g.batch, g.step, g.norms.map((n) => n.layer)])).toEqual([[1, 5, 5, ['OUT']], [2, 5, 10, ['OUT']]]);
    for (const e of events) expect(TrainerEvent.safeParse(JSON.parse(JSON.stringify(e))).success, e.type).toBe(true);
    t.model.dispose();
  });

  it('says "1 epoch" for one, and throttled batch messages keep the first and the last of each epoch', async () => {
    const { t, events } = makeTrainer({ epochs: 1 }, { throttle: { batch: Infinity, weights: Infinity, gradients: Infinity } });
    const { done } = await t.run();
    expect(done.message).toMatch(/^Trained 1 epoch: test accuracy \d+\.\d\d%\.$/);
    expect(ofType(events, 'batch').map((b) => b.batch)).toEqual([1, 5]);
    t.model.dispose();
  });

  it('with no throttle for weights and gradients, sends them after every batch', async () => {
    const { t, events } = makeTrainer({ epochs: 1 }, { throttle: { batch: 0, weights: 0, gradients: 0 } });
    await t.run();
    expect(ofType(events, 'gradients').map((g) => g.batch)).toEqual([1, 2, 3, 4, 5]);
    // After each batch, and again at the end of the epoch.
    expect(ofType(events, 'weights').map((w) => w.batch)).toEqual([1, 2, 3, 4, 5, 5]);
    t.model.dispose();
  });

  it('a finite throttle (a minute) sends the first of each kind at once, then only what is forced', async () => {
    const { t, events } = makeTrainer({ epochs: 2 }, { throttle: { batch: 60_000, weights: 60_000, gradients: 60_000 } });
    await t.run();
    // Batches: the first and last of each epoch are forced.
    expect(ofType(events, 'batch').map((b) => [b.epoch, b.batch])).toEqual([[1, 1], [1, 5], [2, 1], [2, 5]]);
    // Gradients: the run's first batch (nothing sent yet), then only the forced last batch of each epoch.
    expect(ofType(events, 'gradients').map((g) => [g.epoch, g.batch])).toEqual([[1, 1], [1, 5], [2, 5]]);
    // Weights: the run's first batch, then only each epoch's end.
    expect(ofType(events, 'weights').map((w) => [w.epoch, w.batch])).toEqual([[1, 1], [1, 5], [2, 5]]);
    t.model.dispose();
  });

  it('reports times in seconds and speeds in images per second, within the wall-clock time of the run', async () => {
    const { t, events } = makeTrainer({ epochs: 2 });
    const t0 = performance.now();
    const { done, history } = await t.run();
    const wall = (performance.now() - t0) / 1000;
    expect(t.phase).toBe('idle');
    // Training time is part of the wall time, so every speed is at least images / wall time.
    let images = 0;
    for (const b of ofType(events, 'batch')) {
      images += b.batch === 5 ? 6 : 16;
      expect(b.imagesPerSecond, `batch ${b.epoch}.${b.batch}`).toBeGreaterThanOrEqual(images / wall);
      expect(Number.isFinite(b.imagesPerSecond)).toBe(true);
    }
    for (const h of history) {
      expect(h.seconds).toBeGreaterThan(0);
      expect(h.seconds).toBeLessThanOrEqual(wall);
      expect(h.imagesPerSecond).toBeGreaterThanOrEqual(70 / wall);
    }
    expect(done.seconds).toBeGreaterThanOrEqual(history[0]!.seconds + history[1]!.seconds);
    expect(done.seconds).toBeLessThanOrEqual(wall);
    expect(done.imagesPerSecond).toBeGreaterThanOrEqual(140 / wall);
    t.model.dispose();
  });

  it('lets timers run during a long epoch: a stop given from a timer lands before the epoch ends', async () => {
    // 300 batches of 2: far longer than the 40 ms between yields, on any machine.
    const long = { ...dataset, train: barsSplit(600, 0) };
    const { t } = makeTrainer({ epochs: 1, batchSize: 2 }, {
      dataset: long,
      emit: (e) => {
        if (e.type === 'batch' && e.batch === 1) setTimeout(() => t.stop(), 0);
      },
    });
    const { done, steps } = await t.run();
    expect(done.reason).toBe('stopped');
    expect(steps).toBeGreaterThanOrEqual(1);
    expect(steps).toBeLessThan(300);
    expect(done.message).toBe(`Stopped at epoch 1, batch ${steps} of 300.`);
    t.model.dispose();
  });

  it('gives the decayed rate to the optimizer after each epoch: same seed, other decay, other weights', async () => {
    const run = async (lrDecay: number, epochs: number) => {
      const { t } = makeTrainer({ optimizer: 'sgd', momentum: 0, learningRate: 0.05, lrDecay, epochs });
      const { history } = await t.run();
      const weights = weightsOf(t.model);
      t.model.dispose();
      return { weights, rates: history.map((h) => h.learningRate) };
    };
    const constant = await run(1, 3);
    const decayed = await run(0.5, 3);
    expect(constant.rates).toEqual([0.05, 0.05, 0.05]);
    expect(decayed.rates).toEqual([0.05, 0.025, 0.0125]);
    expect(decayed.weights).not.toEqual(constant.weights);
    expect((await run(0.5, 1)).weights).toEqual((await run(1, 1)).weights);
  });

  it('stops during start-up before any batch, and still evaluates the untrained model', async () => {
    const { t, events } = makeTrainer({ epochs: 3 });
    const before = weightsOf(t.model);
    const running = t.run();
    expect(t.phase).toBe('loading');
    t.pause();
    t.resume();
    expect(t.phase).toBe('loading');
    t.stop();
    t.stop();
    const { done, steps, history } = await running;
    expect(done).toMatchObject({ reason: 'stopped', epochsCompleted: 0, message: 'Stopped before the first batch: nothing was trained.', imagesPerSecond: 0 });
    expect(Number.isFinite(done.testAccuracy)).toBe(true);
    expect(steps).toBe(0);
    expect(history).toEqual([]);
    expect(phases(events)).toEqual(['loading', 'stopping', 'idle']);
    expect(ofType(events, 'started')).toEqual([]);
    expect(ofType(events, 'batch')).toEqual([]);
    // The weights kept are reported once, as epoch 1, batch 0.
    expect(ofType(events, 'weights').map((w) => [w.epoch, w.batch, w.step])).toEqual([[1, 0, 0]]);
    expect(weightsOf(t.model)).toEqual(before);
    t.model.dispose();
  });

  it('wakes a paused run that is stopped: no batch after the pause, and the message says where it stopped', async () => {
    const { t, events } = makeTrainer({ epochs: 3 }, {
      emit: (e) => {
        events.push(e);
        if (e.type === 'batch' && e.epoch === 2 && e.batch === 2) {
          t.pause();
          setTimeout(() => t.stop(), 20);
        }
      },
    });
    const { done, steps, history } = await t.run();
    expect(done.reason).toBe('stopped');
    expect(done.message).toBe('Stopped at epoch 2, batch 2 of 5.');
    expect(steps).toBe(7);
    expect(history.map((h) => h.epoch)).toEqual([1]);
    expect(done.epochsCompleted).toBe(1);
    expect(ofType(events, 'batch').at(-1)).toMatchObject({ epoch: 2, batch: 2 });
    expect(phases(events)).toEqual(['loading', 'running', 'paused', 'stopping', 'idle']);
    // A stop mid-epoch evaluates and reports the weights it keeps, as batch 0 of the epoch it stopped in.
    expect(ofType(events, 'weights').map((w) => [w.epoch, w.batch, w.step])).toEqual([[1, 5, 5], [2, 0, 7]]);
    expect(Number.isFinite(done.testAccuracy)).toBe(true);
    t.model.dispose();
  });

  it('pause and resume change nothing but the time; a resume without a pause and a pause while paused are no-ops', async () => {
    const plain = makeTrainer({ epochs: 2 });
    await plain.t.run();
    const paused = makeTrainer({ epochs: 2 }, {
      emit: (e) => {
        paused.events.push(e);
        if (e.type === 'batch' && e.batch === 3) {
          paused.t.resume(); // running: nothing to resume
          paused.t.pause();
          paused.t.pause();
          setTimeout(() => paused.t.resume(), 10);
        }
      },
    });
    const { done } = await paused.t.run();
    expect(done.reason).toBe('completed');
    expect(phases(paused.events)).toEqual(['loading', 'running', 'paused', 'running', 'paused', 'running', 'idle']);
    expect(weightsOf(paused.t.model)).toEqual(weightsOf(plain.t.model));
    plain.t.model.dispose();
    paused.t.model.dispose();
  });

  it('pause, resume and stop do nothing before the run starts', () => {
    const { t, events } = makeTrainer({});
    t.pause();
    t.resume();
    t.stop();
    expect(t.phase).toBe('idle');
    expect(events).toEqual([]);
    t.model.dispose();
  });

  it('takes a pause and a resume, or a pause and a stop, given at once before the loop waits', async () => {
    // Both arrive within one batch's messages: the loop has not started waiting, so nothing is there to wake yet.
    const quick = makeTrainer({ epochs: 1 }, {
      emit: (e) => {
        quick.events.push(e);
        if (e.type === 'batch' && e.batch === 2) {
          quick.t.pause();
          quick.t.resume();
        }
      },
    });
    expect((await quick.t.run()).done.reason).toBe('completed');
    expect(phases(quick.events)).toEqual(['loading', 'running', 'paused', 'running', 'idle']);
    quick.t.model.dispose();

    const stopped = makeTrainer({ epochs: 1 }, {
      emit: (e) => {
        stopped.events.push(e);
        if (e.type === 'batch' && e.batch === 2) {
          stopped.t.pause();
          stopped.t.stop();
        }
      },
    });
    const { done, steps } = await stopped.t.run();
    expect(done.message).toBe('Stopped at epoch 1, batch 2 of 5.');
    expect(steps).toBe(2);
    expect(phases(stopped.events)).toEqual(['loading', 'running', 'paused', 'stopping', 'idle']);
    stopped.t.model.dispose();
  });

  it('ends a diverged run with where it happened and the advice, at the batch that diverged', async () => {
    const { t, events } = makeTrainer({ optimizer: 'sgd', momentum: 0.9, learningRate: 1000, epochs: 4 }, { dataset: { ...dataset, train: noise(70) } });
    const { done, history } = await t.run();
    expect(done.reason).toBe('diverged');
    expect(done.message).toMatch(/^Training diverged at epoch 1, batch 2: the loss exploded to .+\. The last good weights are kept and can be saved\. Try a smaller learning rate than 1000\.$/);
    expect(done.epochsCompleted).toBe(0);
    expect(history).toEqual([]);
    // The diverged batch is not counted or reported; the kept weights are, as batch 0.
    expect(ofType(events, 'batch').map((b) => b.batch)).toEqual([1]);
    expect(ofType(events, 'weights').map((w) => [w.epoch, w.batch, w.step])).toEqual([[1, 0, 1]]);
    expect(phases(events)).toEqual(['loading', 'running', 'idle']);
    t.model.dispose();
  });
});

describe('engines for a run', () => {
  it('follows the request, else one per core, except tfjs-node (table)', () => {
    const table: [1 | 2 | undefined, 'wasm' | 'cpu' | 'tensorflow', number, 1 | 2][] = [
      [1, 'wasm', 2, 1], [2, 'wasm', 1, 2], [2, 'tensorflow', 2, 2], [1, 'tensorflow', 8, 1],
      [undefined, 'wasm', 2, 2], [undefined, 'wasm', 1, 1], [undefined, 'cpu', 8, 2],
      [undefined, 'tensorflow', 2, 1], [undefined, 'tensorflow', 1, 1],
    ];
    for (const [requested, backend, cores, engines] of table) {
      expect([requested, backend, cores, trainingWorkers(requested, backend, cores)]).toEqual([requested, backend, cores, engines]);
    }
  });
});
