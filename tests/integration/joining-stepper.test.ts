// A run that begins on one engine while its second thread starts, and that thread joining it mid-run
// (engine/training/parallel-trainer.ts JoiningStepper). The oracle is a run on two engines from its first
// step (ParallelStepper), driven over the same batches: alone, the first engine computes each batch as the
// two ranks would, so the weights must match bit for bit wherever the join happened, also when it never did.
// The threads run the compiled dist/engine/training/parallel-worker.js: `npm run build:node` first.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../../engine/data/dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe, type VariantName } from '../../common/protocol.js';
import { JoiningStepper, ParallelStepper, busyParallelThreads, endParallelThreads, liveParallelThreads, parallelWorkerUrl, startHelper, type ParallelReport } from '../../engine/training/parallel-trainer.js';
import { LocalStepper, type Stepper } from '../../engine/training/step.js';
import { seededRandom } from '../../engine/training/batches.js';

let mnist: Dataset;
beforeAll(async () => {
  parallelWorkerUrl(); // throws, naming the missing file, when the build is absent
  await initBackend('wasm');
  mnist = loadDataset({ kind: 'mnist' });
});

type Helper = Awaited<ReturnType<typeof startHelper>>;
/** A thread started now and handed over only when `release` is called. */
async function heldHelper(): Promise<{ helper: Promise<Helper>; release: () => void }> {
  const thread = await startHelper('wasm');
  let release!: () => void;
  const helper = new Promise<Helper>((resolve) => (release = () => resolve(thread)));
  return { helper, release };
}
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Drive {
  variant: VariantName;
  recipe: Partial<Recipe>;
  images: number;
  /** Steps before the learning rate is halved (as an epoch's decay would). */
  halveRateAfter: number;
}

/** Trains `drive.images` images in order, batch after batch, with seeded shifts; returns the flat weights after every step. */
async function drive(make: (options: ConstructorParameters<typeof JoiningStepper>[1]) => Promise<Stepper>, d: Drive,
  beforeStep: (step: number) => Promise<void> = async () => undefined, withReport = true) {
  const spec = getVariant(d.variant);
  const recipe = Recipe.parse({ ...spec.recipe, ...d.recipe });
  const model = spec.build(11);
  const report: ParallelReport = { workerTensorCounts: [], copiesIdentical: null };
  const stepper = await make({ model, spec, recipe, split: mnist.train, count: d.images, numClasses: 10, backend: 'wasm', ...(withReport ? { report } : {}) });
  const order = Uint32Array.from({ length: d.images }, (_, i) => (i * 7919) % d.images);
  const random = seededRandom(5);
  const augment = recipe.augmentShift > 0 ? { maxShift: recipe.augmentShift, random } : undefined;
  const losses: number[] = [];
  const outcomes: { correct: number; norms?: number[] }[] = [];
  let step = 0;
  for (let start = 0; start < d.images; start += recipe.batchSize) {
    step++;
    await beforeStep(step);
    if (step === d.halveRateAfter + 1) await stepper.setLearningRate(recipe.learningRate / 2);
    const outcome = await stepper.step(order, start, Math.min(d.images, start + recipe.batchSize), augment, step % 3 === 0);
    expect(outcome.fault).toBeNull();
    losses.push(outcome.loss);
    outcomes.push({ correct: outcome.correct, ...(outcome.norms ? { norms: outcome.norms } : {}) });
  }
  await stepper.sync();
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  await stepper.dispose();
  model.dispose();
  return { weights, losses, outcomes, report };
}

const twoFromTheStart = (d: Drive) => drive((o) => ParallelStepper.start(o), d);

// 517 images in batches of 64: 9 steps, the last of 5 images (split 3 + 2).
const adam: Drive = { variant: 'modern', recipe: { batchSize: 64, augmentShift: 1 }, images: 517, halveRateAfter: 3 };
// 193 images in batches of 32: 7 steps, the last of one image (rank 1's half is empty).
const momentum: Drive = { variant: 'seed', recipe: { batchSize: 32, optimizer: 'sgd', learningRate: 0.05, momentum: 0.9 }, images: 193, halveRateAfter: 2 };

describe('a second engine joining a run (JoiningStepper)', () => {
  for (const [name, d, joinAt] of [['Adam, shifted digits', adam, 5], ['SGD with momentum', momentum, 4]] as const) {
    it(`${name}: joined at step ${joinAt}, the run's weights and losses equal two engines' from the start, bit for bit`, async () => {
      const oracle = await twoFromTheStart(d);
      const { helper, release } = await heldHelper();
      const joinedAt: { step: number; failure?: string }[] = [];
      const joined = await drive((o) => Promise.resolve(new JoiningStepper(new LocalStepper(o.model, o.spec, o.recipe, o.split, 10), o, (j) => joinedAt.push(j), helper)), d,
        async (step) => {
          if (step === joinAt) {
            release();
            await nextTurn();
          }
        });
      expect(joinedAt).toEqual([{ step: joinAt }]);
      expect(joined.report.joinedAtStep).toBe(joinAt);
      expect(joined.report.copiesIdentical).toBe(true); // both ranks' copies matched at the end
      expect(joined.losses).toEqual(oracle.losses);
      expect(joined.outcomes).toEqual(oracle.outcomes); // correct counts, and the gradient norms every third step
      expect(joined.outcomes.filter((o) => o.norms).length).toBeGreaterThan(1);
      expect(joined.weights).toEqual(oracle.weights);
      expect(busyParallelThreads()).toBe(0);
    });
  }

  it('the optimizer state goes over at the join: the same run with rank 1 starting from zero state differs', async () => {
    // Guards the oracle above: were the state not needed, the bit-for-bit match would prove little.
    const { helper, release } = await heldHelper();
    const joinAt = 5;
    const joined = await drive((o) => Promise.resolve(new JoiningStepper(new LocalStepper(o.model, o.spec, o.recipe, o.split, 10), o, () => undefined, helper)), adam,
      async (step) => { if (step === joinAt) { release(); await nextTurn(); } });
    const fresh = await drive(async (o) => {
      const local = new LocalStepper(o.model, o.spec, o.recipe, o.split, 10);
      let steps = 0;
      let parallel: Stepper | null = null;
      return {
        layerNames: local.layerNames,
        async step(order, start, end, augment, norms) {
          if (++steps === joinAt) parallel = await ParallelStepper.start(o); // no state carried over
          return (parallel ?? local).step(order, start, end, augment, norms);
        },
        sync: () => parallel?.sync(),
        setLearningRate: (rate) => (parallel ?? local).setLearningRate(rate),
        dispose: () => parallel?.dispose(),
      };
    }, adam);
    expect(fresh.weights).not.toEqual(joined.weights);
  });

  it('a second engine that cannot start: the run trains alone to the end, as two engines would, and says why once', async () => {
    const oracle = await twoFromTheStart(momentum);
    const told: { step: number; failure?: string }[] = [];
    const alone = await drive((o) => Promise.resolve(new JoiningStepper(new LocalStepper(o.model, o.spec, o.recipe, o.split, 10), o, (j) => told.push(j),
      Promise.reject(new Error('no thread here')))), momentum);
    expect(told).toEqual([{ step: 0, failure: 'no thread here' }]); // it failed before the first step
    expect(alone.report.joinFailure).toBe('no thread here');
    expect(alone.report.joinedAtStep).toBeUndefined();
    expect(alone.losses).toEqual(oracle.losses);
    expect(alone.outcomes).toEqual(oracle.outcomes);
    expect(alone.weights).toEqual(oracle.weights);
  });

  it('without a report to fill, joins and fails the same (the report is optional)', async () => {
    const { helper, release } = await heldHelper();
    const told: { step: number; failure?: string }[] = [];
    await drive((o) => Promise.resolve(new JoiningStepper(new LocalStepper(o.model, o.spec, o.recipe, o.split, 10), o, (j) => told.push(j), helper)), momentum,
      async (step) => { if (step === 2) { release(); await nextTurn(); } }, false);
    await drive((o) => Promise.resolve(new JoiningStepper(new LocalStepper(o.model, o.spec, o.recipe, o.split, 10), o, (j) => told.push(j),
      Promise.reject(new Error('no thread here')))), momentum, undefined, false);
    expect(told).toEqual([{ step: 2 }, { step: 0, failure: 'no thread here' }]);
  });

  it('a run that ends before its second engine is ready leaves that thread idle for the next run, not busy', async () => {
    await endParallelThreads();
    const { helper, release } = await heldHelper();
    const run = await drive((o) => Promise.resolve(new JoiningStepper(new LocalStepper(o.model, o.spec, o.recipe, o.split, 10), o, () => undefined, helper)),
      { ...momentum, images: 64 }, async (step) => { if (step === 2) setTimeout(release, 50); });
    expect(run.report.joinedAtStep).toBeUndefined();
    expect(liveParallelThreads()).toBe(1);
    expect(busyParallelThreads()).toBe(0);
    await endParallelThreads();
  });
});
