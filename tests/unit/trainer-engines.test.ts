// How the trainer picks its engines, with the second engine replaced (the real one, a worker thread, is
// tested by training-controls and integration/parallel-trainer): a second engine that starts is used and
// said; one that cannot start leaves the run on one engine with the reason, unless two were asked for, when
// the run fails and the trainer is idle again. Fast enough for every mutant of trainer.ts (tests/mutation).
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { barsDataset } from './bars-dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe, type TrainerEvent, type TrainerEventOf } from '../../common/protocol.js';
import type { Augment, Stepper } from '../../engine/training/step.js';
import { Trainer, type TrainerOptions } from '../../engine/training/trainer.js';

/** The stand-in second engine: it trains on this thread (a LocalStepper) and records what it was given. */
const engine = vi.hoisted(() => ({
  cores: 2,
  failure: null as Error | null,
  starts: [] as { count: number; report: unknown }[],
  augments: [] as Augment[],
  disposed: 0,
  /** Whether a second engine waits idle and ready (else the run begins alone and the engine joins). */
  ready: true,
  /** The joining stand-in: the step it reports rank 1 joined at, or the failure it reports before that step. */
  join: { step: 2, failure: undefined as string | undefined },
  joins: [] as { count: number; report: unknown }[],
}));
vi.mock('../../engine/training/parallel-trainer.js', async () => {
  const { LocalStepper } = await import('../../engine/training/step.js');
  /** The stand-in JoiningStepper: trains on the LocalStepper it is given and reports the join (or its failure) at `engine.join.step`. */
  class JoiningStepper implements Stepper {
    private steps = 0;
    constructor(private readonly local: InstanceType<typeof LocalStepper>, o: { count: number; report: unknown },
      private readonly joined: (outcome: { step: number; failure?: string }) => void) {
      engine.joins.push({ count: o.count, report: o.report });
    }
    get layerNames(): string[] { return this.local.layerNames; }
    step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean) {
      this.steps++;
      const { step, failure } = engine.join;
      if (this.steps === step) this.joined(failure === undefined ? { step } : { step: step - 1, failure });
      return this.local.step(order, start, end, augment, wantNorms);
    }
    sync(): void { this.local.sync(); }
    setLearningRate(rate: number): void { this.local.setLearningRate(rate); }
    dispose(): void { engine.disposed++; }
  }
  return {
    availableCores: () => engine.cores,
    parallelEngineReady: () => engine.ready,
    JoiningStepper,
    ParallelStepper: {
      start: async (o: { model: never; spec: never; recipe: never; split: never; count: number; numClasses: number; report: unknown }): Promise<Stepper> => {
        engine.starts.push({ count: o.count, report: o.report });
        if (engine.failure) throw engine.failure;
        const local = new LocalStepper(o.model, o.spec, o.recipe, o.split, o.numClasses);
        return {
          layerNames: local.layerNames,
          step: (order, start, end, augment, wantNorms) => {
            engine.augments.push(augment);
            return local.step(order, start, end, augment, wantNorms);
          },
          sync: () => local.sync(),
          setLearningRate: (rate) => local.setLearningRate(rate),
          dispose: () => {
            engine.disposed++;
            return local.dispose();
          },
        };
      },
    },
  };
});

beforeAll(async () => {
  await initBackend('cpu');
});
beforeEach(() => {
  engine.cores = 2;
  engine.failure = null;
  engine.starts = [];
  engine.augments = [];
  engine.disposed = 0;
  engine.ready = true;
  engine.join = { step: 2, failure: undefined };
  engine.joins = [];
});

const dataset = barsDataset(40, 12);

function makeTrainer(recipe: Partial<Recipe>, extra: Partial<TrainerOptions> = {}) {
  const events: TrainerEvent[] = [];
  const spec = getVariant('linear');
  const t = new Trainer({
    runId: 'engines', spec, recipe: Recipe.parse({ ...spec.recipe, batchSize: 16, epochs: 1, learningRate: 0.01, lrDecay: 1, augmentShift: 0, ...recipe }),
    dataset, seed: 4, backend: 'cpu', throttle: { batch: 0, weights: Infinity, gradients: Infinity },
    emit: (e) => events.push(e), ...extra,
  });
  return { t, events };
}
const startedOf = (events: TrainerEvent[]) => events.filter((e): e is TrainerEventOf<'started'> => e.type === 'started');
const weightsOf = (t: Trainer): number[][] => t.model.getWeights().map((w) => Array.from(w.dataSync()));

describe('the engines a run trains on', () => {
  it('two cores: starts the second engine with the training count and its report, and says two engines', async () => {
    const { t, events } = makeTrainer({}, { limit: 33 });
    expect(t.parallelReport).toEqual({ workerTensorCounts: [], copiesIdentical: null });
    const { done } = await t.run();
    expect(done.reason).toBe('completed');
    expect(engine.starts).toEqual([{ count: 33, report: t.parallelReport }]);
    const [started] = startedOf(events);
    expect(started).toMatchObject({ engines: 2, trainCount: 33, batchesPerEpoch: 3 });
    expect(started!.enginesNote).toBeUndefined();
    // The second engine is ended with the run (a thread would otherwise stay busy).
    expect(engine.disposed).toBe(1);
    t.model.dispose();
  });

  it('ends the second engine when the run is stopped, too', async () => {
    const { t } = makeTrainer({ epochs: 3 }, {
      emit: (e) => {
        if (e.type === 'batch' && e.batch === 2) t.stop();
      },
    });
    expect((await t.run()).done.reason).toBe('stopped');
    expect(engine.disposed).toBe(1);
    t.model.dispose();
  });

  it('one core: one engine, the second never started', async () => {
    engine.cores = 1;
    const { t, events } = makeTrainer({});
    await t.run();
    expect(engine.starts).toEqual([]);
    expect(startedOf(events)[0]).toMatchObject({ engines: 1 });
    t.model.dispose();
  });

  it('a second engine that cannot start leaves the run on one, and the started event says why', async () => {
    engine.failure = new Error('no thread here');
    const { t, events } = makeTrainer({});
    const { done } = await t.run();
    expect(done.reason).toBe('completed');
    expect(engine.starts).toHaveLength(1);
    const [started] = startedOf(events);
    expect(started).toMatchObject({ engines: 1, enginesNote: 'one engine: a second could not start (no thread here)' });
    t.model.dispose();
  });

  it('two engines asked for and the second cannot start: the run fails, and the trainer is idle again', async () => {
    engine.failure = new Error('no thread here');
    const { t, events } = makeTrainer({}, { workers: 2 });
    await expect(t.run()).rejects.toThrow('no thread here');
    expect(t.phase).toBe('idle');
    expect(events.filter((e) => e.type === 'state').map((e) => (e as TrainerEventOf<'state'>).phase)).toEqual(['loading']);
    // Idle: the controls do nothing.
    t.stop();
    t.pause();
    expect(t.phase).toBe('idle');
    expect(events).toHaveLength(1);
    t.model.dispose();
  });

  it('gives the steps no augmentation when the recipe has none, and shifts otherwise (the same seed, other weights)', async () => {
    const plain = makeTrainer({ augmentShift: 0, epochs: 2 });
    await plain.t.run();
    expect(engine.augments.length).toBe(6);
    expect(engine.augments.every((a) => a === undefined)).toBe(true);

    engine.augments = [];
    const shifted = makeTrainer({ augmentShift: 2, epochs: 2 });
    await shifted.t.run();
    expect(engine.augments.map((a) => a?.maxShift)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(weightsOf(shifted.t)).not.toEqual(weightsOf(plain.t));
    const again = makeTrainer({ augmentShift: 2, epochs: 2 });
    await again.t.run();
    expect(weightsOf(again.t)).toEqual(weightsOf(shifted.t));
    for (const r of [plain, shifted, again]) r.t.model.dispose();
  });

  it('trains on the first `limit` images and tests on the first `testLimit`; limits past the sets take the sets', async () => {
    const small = makeTrainer({}, { limit: 17, testLimit: 5, workers: 1 });
    await small.t.run();
    expect(startedOf(small.events)[0]).toMatchObject({ trainCount: 17, testCount: 5, batchesPerEpoch: 2 });
    const large = makeTrainer({}, { limit: 1000, testLimit: 1000, workers: 1 });
    await large.t.run();
    expect(startedOf(large.events)[0]).toMatchObject({ trainCount: 40, testCount: 12, batchesPerEpoch: 3 });
    for (const r of [small, large]) r.t.model.dispose();
  });

  it('a second engine still starting: the run begins on one at once, and says from which batch the second joined', async () => {
    engine.ready = false;
    const { t, events } = makeTrainer({}, { limit: 33 });
    const { done } = await t.run();
    expect(done.reason).toBe('completed');
    expect(engine.starts).toEqual([]);
    expect(engine.joins).toEqual([{ count: 33, report: t.parallelReport }]);
    expect(startedOf(events)[0]).toMatchObject({ engines: 1 });
    expect(startedOf(events)[0]!.enginesNote).toBeUndefined();
    const order = events.filter((e) => e.type === 'batch' || e.type === 'engines').map((e) => (e.type === 'batch' ? `batch ${e.batch}` : e));
    expect(order).toEqual(['batch 1', { type: 'engines', runId: 'engines', engines: 2, step: 2 }, 'batch 2', 'batch 3']);
    expect(engine.disposed).toBe(1);
    t.model.dispose();
  });

  it('a second engine still starting that fails: the run stays on one, and the engines event says why', async () => {
    engine.ready = false;
    engine.join = { step: 3, failure: 'no thread here' };
    const { t, events } = makeTrainer({});
    await t.run();
    expect(events.filter((e) => e.type === 'engines')).toEqual([
      { type: 'engines', runId: 'engines', engines: 1, step: 2, enginesNote: 'one engine: a second could not start (no thread here)' },
    ]);
    t.model.dispose();
  });

  it('two engines asked for while the second is still starting: the run waits for it instead of beginning alone', async () => {
    engine.ready = false;
    const { t, events } = makeTrainer({}, { workers: 2 });
    await t.run();
    expect(engine.joins).toEqual([]);
    expect(engine.starts).toHaveLength(1);
    expect(startedOf(events)[0]).toMatchObject({ engines: 2 });
    t.model.dispose();
  });
});
