// Data-parallel training over two worker threads (engine/training/parallel-trainer.ts). The threads run
// the compiled dist/engine/training/parallel-worker.js: `npm run build:node` first (npm test builds).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WASM_DIR_ENV, initBackend } from '../../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../../engine/data/dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe, type TrainerEvent, type VariantName } from '../../common/protocol.js';
import {
  busyParallelThreads, endParallelThreads, liveParallelThreads, parallelEngineReady, parallelWorkerUrl, startEngineForRun, warmParallelEngine,
} from '../../engine/training/parallel-trainer.js';
import { Control, DataParallelRank, createSharedBuffers } from '../../engine/training/data-parallel.js';
import { Trainer, trainingWorkers, type TrainerOptions } from '../../engine/training/trainer.js';
import { runCli } from '../../cli/lenet-lab.js';
import type { Io } from '../../cli/commands.js';

let mnist: Dataset;
beforeAll(async () => {
  parallelWorkerUrl(); // throws, naming the missing file, when the build is absent
  await initBackend('wasm');
  mnist = loadDataset({ kind: 'mnist' });
});

function trainer(variant: VariantName, recipe: Partial<Recipe>, extra: Partial<TrainerOptions> = {}) {
  const events: TrainerEvent[] = [];
  const spec = getVariant(variant);
  const t = new Trainer({
    runId: 'test', spec, recipe: Recipe.parse({ ...spec.recipe, ...recipe }), dataset: mnist, limit: 512, testLimit: 300,
    seed: 7, backend: 'wasm', emit: (e) => events.push(e), workers: 2, ...extra,
  });
  return { t, events };
}

const weightsOf = (t: Trainer): Float32Array[] => t.model.getWeights().map((w) => w.dataSync() as Float32Array);
const of = <T extends TrainerEvent['type']>(events: TrainerEvent[], type: T) =>
  events.filter((e): e is Extract<TrainerEvent, { type: T }> => e.type === type);
const maxDifference = (a: Float32Array[], b: Float32Array[]): number =>
  Math.max(...a.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - b[i]![j]!)))));

// Stop, pause, divergence, events and tensor counts run on both engine counts in trainer.test.ts.
describe('parallel Trainer (workers: 2)', () => {
  it('is the same run as one worker: loss curve, accuracy and weights, with shifts, an odd last batch and two epochs', async () => {
    // 517 images in batches of 64: the last batch has 5 images, split 3 + 2.
    const recipe = { epochs: 2, batchSize: 64, augmentShift: 1 };
    const one = trainer('modern', recipe, { limit: 517, workers: 1, throttle: { batch: 0 } });
    const two = trainer('modern', recipe, { limit: 517, throttle: { batch: 0 } });
    const a = await one.t.run();
    const b = await two.t.run();
    expect(b.done.reason).toBe('completed');
    const lossesA = of(one.events, 'batch').map((e) => e.loss);
    const lossesB = of(two.events, 'batch').map((e) => e.loss);
    expect(lossesB).toHaveLength(18);
    expect(lossesB.length).toBe(lossesA.length);
    lossesB.forEach((loss, i) => expect(loss).toBeCloseTo(lossesA[i]!, 3));
    expect(of(two.events, 'batch').map((e) => e.accuracy)).toEqual(of(one.events, 'batch').map((e) => e.accuracy));
    b.history.forEach((record, i) => {
      expect(record.trainLoss).toBeCloseTo(a.history[i]!.trainLoss, 4);
      expect(record.trainAccuracy).toBe(a.history[i]!.trainAccuracy);
    });
    expect(maxDifference(weightsOf(two.t), weightsOf(one.t))).toBeLessThan(1e-3);
    expect(two.t.parallelReport.copiesIdentical).toBe(true);
    expect(busyParallelThreads()).toBe(0);
    one.t.model.dispose();
    two.t.model.dispose();
  });

  it('matches one worker for SGD with momentum when the last batch has a single image (one thread idle)', async () => {
    const one = trainer('seed', { epochs: 1, batchSize: 32 }, { limit: 513, workers: 1 });
    const two = trainer('seed', { epochs: 1, batchSize: 32 }, { limit: 513 });
    const a = await one.t.run();
    const b = await two.t.run();
    expect(b.history[0]!.trainLoss).toBeCloseTo(a.history[0]!.trainLoss, 4);
    expect(maxDifference(weightsOf(two.t), weightsOf(one.t))).toBeLessThan(1e-4);
    expect(two.t.parallelReport.copiesIdentical).toBe(true);
    one.t.model.dispose();
    two.t.model.dispose();
  });

  it('fails cleanly, leaving no thread behind, when a thread cannot start its backend', async () => {
    // tfjs-node is not installed here, so each thread's ladder refuses 'tensorflow'.
    const { t, events } = trainer('modern', { epochs: 1 }, { backend: 'tensorflow' });
    await expect(t.run()).rejects.toThrow(/training thread \d: backend 'tensorflow' is not available/);
    expect(of(events, 'started')).toHaveLength(0);
    expect(t.phase).toBe('idle');
    expect(busyParallelThreads()).toBe(0);
    t.model.dispose();
  });

  it('unasked, a run trains on two engines, and says so', async () => {
    await warmParallelEngine('wasm', []); // ready: the run starts on both (one still starting joins later: joining-stepper.test.ts)
    const { t, events } = trainer('modern', { epochs: 1, batchSize: 64 }, { workers: undefined, limit: 256 });
    await t.run();
    expect(of(events, 'started')[0]).toMatchObject({ engines: 2 });
    expect(t.parallelReport.copiesIdentical).toBe(true);
    expect(busyParallelThreads()).toBe(0);
    t.model.dispose();
  });

  it('unasked, a run whose second engine cannot start trains on one and says why', async () => {
    await endParallelThreads(); // a warm idle thread would be reused
    const saved = process.env[WASM_DIR_ENV];
    // The second engine loads its own wasm backend, from a folder without the binaries.
    process.env[WASM_DIR_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'no-wasm-'));
    try {
      // The run begins alone; the thread's failure is said when it arrives, at the latest when the run ends.
      const { t, events } = trainer('modern', { epochs: 1, batchSize: 64 }, { workers: undefined, limit: 128 });
      const { done } = await t.run();
      expect(done.reason).toBe('completed');
      const started = of(events, 'started')[0]!;
      expect(started.engines).toBe(1);
      expect(started.enginesNote).toBeUndefined();
      const [engines, ...more] = of(events, 'engines');
      expect(more).toEqual([]);
      expect(engines!.engines).toBe(1);
      expect(engines!.enginesNote).toMatch(/one engine: a second could not start \(training thread 1: .*tfjs-backend-wasm-simd\.wasm/);
      expect(t.parallelReport.joinedAtStep).toBeUndefined();
      expect(busyParallelThreads()).toBe(0);
      t.model.dispose();
    } finally {
      if (saved === undefined) delete process.env[WASM_DIR_ENV];
      else process.env[WASM_DIR_ENV] = saved;
    }
  });

  it('keeps rank 1 warm between runs: the next run reuses it, and it holds no tensors in between', async () => {
    await endParallelThreads();
    expect(liveParallelThreads()).toBe(0);
    const counts: number[] = [];
    for (const variant of ['modern', 'seed', 'modern'] as const) {
      const { t, events } = trainer(variant, { epochs: 1, batchSize: 64 }, { limit: 128 });
      const { done } = await t.run();
      expect(done.reason).toBe('completed');
      expect(of(events, 'started')[0]).toMatchObject({ engines: 2 });
      expect(liveParallelThreads()).toBe(1); // the same thread, idle again
      expect(busyParallelThreads()).toBe(0);
      counts.push(t.parallelReport.helperTensorsAfterRun!);
      t.model.dispose();
    }
    // Whatever the variant, nothing of a run's model stays behind in the thread.
    expect(counts[1]).toBe(counts[0]);
    expect(counts[2]).toBe(counts[0]);
    await endParallelThreads();
    expect(liveParallelThreads()).toBe(0);
  });

  it('starts rank 1 ahead of a run, warmed, and the run takes that thread even while it is still warming', async () => {
    await endParallelThreads();
    // Not awaited: the run below must wait for this thread, not start a second one.
    const warming = warmParallelEngine('wasm', ['modern']);
    expect(liveParallelThreads()).toBe(1);
    const { t } = trainer('modern', { epochs: 1, batchSize: 64 }, { limit: 128 });
    const { done } = await t.run();
    await warming;
    expect(done.reason).toBe('completed');
    expect(liveParallelThreads()).toBe(1);
    expect(busyParallelThreads()).toBe(0);
    // Warming again with a thread idle starts nothing.
    await warmParallelEngine('wasm', ['modern']);
    expect(liveParallelThreads()).toBe(1);
    t.model.dispose();
    await endParallelThreads();
    expect(liveParallelThreads()).toBe(0);
  });

  it('one rank 1 thread at a time: a second warm-up joins the first, an idle thread on the backend starts nothing, another backend replaces it', async () => {
    await endParallelThreads();
    // Threads are counted from the moment they are created, before they answer: a second start would show at once.
    const first = warmParallelEngine('wasm', []);
    const second = warmParallelEngine('wasm', []);
    expect(liveParallelThreads()).toBe(1);
    await Promise.all([first, second]);
    expect(parallelEngineReady('wasm')).toBe(true);
    const again = warmParallelEngine('wasm', []);
    expect(liveParallelThreads()).toBe(1);
    await again;
    // The run's own start (the CLI's) on the same backend finds it: nothing new.
    startEngineForRun('wasm', 'seed');
    expect(liveParallelThreads()).toBe(1);
    // Another backend: a thread for it, and the idle one ends once the new one is ready (at most one idle).
    const cpu = warmParallelEngine('cpu', []);
    expect(liveParallelThreads()).toBe(2);
    await cpu;
    expect(liveParallelThreads()).toBe(1);
    expect(parallelEngineReady('cpu')).toBe(true);
    expect(parallelEngineReady('wasm')).toBe(false);
    await endParallelThreads();
    // With nothing idle, the run's own start starts one.
    startEngineForRun('wasm', 'seed');
    expect(liveParallelThreads()).toBe(1);
    await warmParallelEngine('wasm', ['seed']);
    expect(parallelEngineReady('wasm')).toBe(true);
    await endParallelThreads();
    expect(liveParallelThreads()).toBe(0);
  });

  it('a rank that fails stops the other at the barrier with its message, instead of leaving it waiting', () => {
    const spec = getVariant('modern');
    const recipe = Recipe.parse(spec.recipe);
    const models = [spec.build(1), spec.build(1)];
    const parameters = models[0]!.trainableWeights.reduce((s, w) => s + w.read().size, 0);
    const shared = createSharedBuffers(mnist.train, 64, parameters, recipe.batchSize);
    const [first, second] = models.map((m, r) => new DataParallelRank(r, m, spec, recipe, mnist.train, 10, shared));
    second!.fail('out of memory in a kernel');
    expect(() => first!.arrive(1)).toThrow('training thread 1: out of memory in a kernel');
    // Also at the step's second meeting, where each waits for the other's share of the new weights.
    expect(() => first!.arrive(1, Control.Exchange)).toThrow('training thread 1: out of memory in a kernel');
    models.forEach((m) => m.dispose());
  });

  it('two engines by default where there are two cores; tfjs-node keeps one unless asked (it uses every core)', () => {
    expect(trainingWorkers(undefined, 'tensorflow', 8)).toBe(1);
    expect(trainingWorkers(2, 'tensorflow', 8)).toBe(2);
    expect(trainingWorkers(undefined, 'wasm', 2)).toBe(2);
    expect(trainingWorkers(undefined, 'cpu', 4)).toBe(2);
    expect(trainingWorkers(undefined, 'wasm', 1)).toBe(1);
    expect(trainingWorkers(1, 'wasm', 2)).toBe(1);
  });
});

describe('lenet-lab train --workers', () => {
  const run = async (...argv: string[]) => {
    const out: string[] = [];
    let err = '';
    const io: Io = { out: (l) => out.push(l), log: (t) => (err += t), interactive: false };
    const code = await runCli(argv, io);
    return { code, out, err };
  };

  it('trains on two threads and saves the model', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-workers-')), 'm');
    const r = await run('train', '--variant', 'modern', '--epochs', '1', '--limit', '256', '--test-limit', '100', '--seed', '3', '--workers', '2', '--out', dir, '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/engines: 2, data-parallel on two cores/);
    const done = JSON.parse(r.out.at(-1)!) as Record<string, unknown>;
    expect(done).toMatchObject({ type: 'done', reason: 'completed', backend: 'wasm' });
    expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(true);
    expect(busyParallelThreads()).toBe(0);
  });

  it('rejects a thread count other than 1 or 2', async () => {
    const r = await run('train', '--variant', 'modern', '--workers', '3', '--out', 'never');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--workers/);
  });
});
