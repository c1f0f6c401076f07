// The training loop. It reports through one tagged union (TrainerEvent),
// throttled and incremental, and can be paused, resumed and stopped between
// batches. It never leaks tensors: everything per step lives in tidy/dispose.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/dataset.js';
import type { BackendName, Recipe, RunPhase, TrainerEvent, TrainerEventOf } from '../../common/protocol.js';
import type { VariantSpec } from '../../common/network/variants.js';
import { modelToWire } from '../../common/network/wire.js';
import { seededRandom, shuffledIndices } from './batches.js';
import { evaluate } from './evaluate.js';
import { LocalStepper, type Stepper } from './step.js';
import type { ParallelReport } from './parallel-trainer.js';
import { errorMessage } from '../../common/errors.js';

export { DivergenceWatch } from './step.js';

export type EpochRecord = Omit<TrainerEventOf<'epoch'>, 'type' | 'runId'>;
export type DoneEvent = TrainerEventOf<'done'>;

export interface TrainerOptions {
  runId: string;
  spec: VariantSpec;
  recipe: Recipe;
  dataset: Dataset;
  /** Train on the first N training images. */
  limit?: number;
  /** Evaluate on the first N test images. */
  testLimit?: number;
  seed: number;
  backend: BackendName;
  emit: (event: TrainerEvent) => void;
  /** Minimum milliseconds between progress messages of each kind; Infinity = only at epoch ends. */
  throttle?: Partial<Record<'batch' | 'weights' | 'gradients', number>>;
  /**
   * Engines that train: 1 = this thread; 2 = data-parallel on this thread and a worker thread (Node
   * only, see parallel-trainer.ts), the same run up to float rounding. Unset: trainingWorkers decides,
   * and a second engine that cannot start leaves the run on one (the started event says why).
   */
  workers?: 1 | 2;
}

/**
 * Engines for a run: the request, else two (one per core: the fastest on two cores, BENCHMARKS.md)
 * where there are two cores — except that tfjs-node (the tensorflow backend) already uses every
 * core, so it defaults to one engine.
 */
export function trainingWorkers(requested: number | undefined, backend: BackendName, cores: number): 1 | 2 {
  if (requested === 1 || requested === 2) return requested;
  return backend === 'tensorflow' || cores < 2 ? 1 : 2;
}

const oneEngineNote = (reason: string): string => `one engine: a second could not start (${reason})`.slice(0, 500);

export interface TrainResult {
  model: tfl.LayersModel;
  /** Batches trained; 0 when the run was stopped before its first batch (nothing to save). */
  steps: number;
  history: EpochRecord[];
  done: DoneEvent;
}

const DEFAULT_THROTTLE = { batch: 150, weights: 1000, gradients: 500 };

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

export class Trainer {
  private phaseNow: RunPhase = 'idle';
  private stopRequested = false;
  private resumeWaiter: (() => void) | null = null;
  readonly model: tfl.LayersModel;

  constructor(private readonly options: TrainerOptions) {
    this.model = options.spec.build(options.seed);
  }

  get phase(): RunPhase {
    return this.phaseNow;
  }

  pause(): void {
    if (this.phaseNow !== 'running') return;
    this.setPhase('paused');
  }

  resume(): void {
    if (this.phaseNow !== 'paused') return;
    this.setPhase('running');
    this.resumeWaiter?.();
    this.resumeWaiter = null;
  }

  /** Stops the run at any moment from run() on: during start-up (before the first batch), running or paused. */
  stop(): void {
    if (this.phaseNow === 'idle' || this.phaseNow === 'stopping') return;
    this.stopRequested = true;
    const wasPaused = this.phaseNow === 'paused';
    this.setPhase('stopping');
    if (wasPaused) {
      this.resumeWaiter?.();
      this.resumeWaiter = null;
    }
  }

  private setPhase(phase: RunPhase): void {
    this.phaseNow = phase;
    this.options.emit({ type: 'state', runId: this.options.runId, phase });
  }

  /** With two engines: both ranks' live tensor counts at every sync, whether the copies matched each time, and rank 1's count after the run. */
  readonly parallelReport: ParallelReport = { workerTensorCounts: [], copiesIdentical: null };

  private async createStepper(trainCount: number): Promise<{ stepper: Stepper; engines: 1 | 2; enginesNote?: string }> {
    const { spec, recipe, dataset, backend, workers: requested } = this.options;
    const local = (): LocalStepper => new LocalStepper(this.model, spec, recipe, dataset.train, dataset.numClasses);
    // Node only (worker_threads, os): loaded on demand so browser bundles of the engine never see it.
    const { JoiningStepper, ParallelStepper, availableCores, parallelEngineReady } = await import('./parallel-trainer.js');
    if (trainingWorkers(requested, backend, availableCores()) === 1) return { stepper: local(), engines: 1 };
    const { lowerRuntimeThreads } = await import('./runtime-threads.js');
    const options = { model: this.model, spec, recipe, split: dataset.train, count: trainCount, numClasses: dataset.numClasses, backend, report: this.parallelReport };
    // A second engine still starting joins the run when ready instead of holding up its first steps (two asked for: it is waited for).
    if (requested !== 2 && !parallelEngineReady(backend)) {
      const { runId, emit } = this.options;
      const joined = ({ step, failure }: { step: number; failure?: string }): void => {
        if (failure === undefined) lowerRuntimeThreads();
        emit(failure === undefined
          ? { type: 'engines', runId, engines: 2, step }
          : { type: 'engines', runId, engines: 1, step, enginesNote: oneEngineNote(failure) });
      };
      return { stepper: new JoiningStepper(local(), options, joined), engines: 1 };
    }
    try {
      const stepper = await ParallelStepper.start(options);
      lowerRuntimeThreads(); // both engines on both cores from here: V8's compile jobs wait for an idle moment
      return { stepper, engines: 2 };
    } catch (e) {
      if (requested === 2) throw e;
      return { stepper: local(), engines: 1, enginesNote: oneEngineNote(errorMessage(e)) };
    }
  }

  async run(): Promise<TrainResult> {
    const { runId, spec, recipe, dataset, seed, backend, emit } = this.options;
    const throttle = { ...DEFAULT_THROTTLE, ...this.options.throttle };
    const model = this.model;
    const train = dataset.train;
    const trainCount = Math.min(train.count, this.options.limit ?? train.count);
    const testCount = Math.min(dataset.test.count, this.options.testLimit ?? dataset.test.count);
    const batchSize = recipe.batchSize;
    const batchesPerEpoch = Math.ceil(trainCount / batchSize);
    const random = seededRandom(seed ^ 0x9e3779b9);
    const augment = recipe.augmentShift > 0 ? { maxShift: recipe.augmentShift, random } : undefined;
    const history: EpochRecord[] = [];
    const started = performance.now();
    let trainSeconds = 0;
    let imagesTrained = 0;
    let step = 0;
    let learningRate = recipe.learningRate;
    const lastEmit = { batch: -Infinity, weights: -Infinity, gradients: -Infinity };
    let lastYield = performance.now();
    let finish: { reason: DoneEvent['reason']; message: string } | null = null;

    // Starting the engines takes a while (a second thread, its wasm): a stop meanwhile must end the run.
    this.setPhase('loading');
    let created: Awaited<ReturnType<Trainer['createStepper']>>;
    try {
      created = await this.createStepper(trainCount);
    } catch (e) {
      this.phaseNow = 'idle'; // the run never started; its host reports the error
      throw e;
    }
    const { stepper, engines, enginesNote } = created;
    const layerNames = stepper.layerNames;
    if (this.stopRequested) {
      finish = { reason: 'stopped', message: 'Stopped before the first batch: nothing was trained.' };
    } else {
      this.setPhase('running');
      emit({
        type: 'started', runId, variant: spec.name, backend, engines, ...(enginesNote ? { enginesNote } : {}),
        recipe, dataset: dataset.name, trainCount, testCount, batchesPerEpoch, seed,
      });
    }

    const due = (kind: keyof typeof lastEmit, now: number, force: boolean): boolean => {
      if (!force && (throttle[kind] === Infinity || now - lastEmit[kind] < throttle[kind])) return false;
      lastEmit[kind] = now;
      return true;
    };
    const emitWeights = async (epoch: number, batch: number): Promise<void> => {
      await stepper.sync();
      emit({ type: 'weights', runId, epoch, batch, step, tensors: modelToWire(model) });
    };

    let epoch = 0;
    let testAccuracy = NaN;
    let testLoss = NaN;
    try {
      for (epoch = 1; epoch <= recipe.epochs && !finish; epoch++) {
        const order = shuffledIndices(trainCount, random);
        const epochStart = performance.now();
        let epochTrainSeconds = 0;
        let lossSum = 0;
        let correctSum = 0;
        let seen = 0;
        for (let batch = 1; batch <= batchesPerEpoch; batch++) {
          if (this.phaseNow === 'paused') await new Promise<void>((resolve) => (this.resumeWaiter = resolve));
          if (this.stopRequested) {
            finish = { reason: 'stopped', message: `Stopped at epoch ${epoch}, batch ${batch - 1} of ${batchesPerEpoch}.` };
            break;
          }
          const stepStart = performance.now();
          const start = (batch - 1) * batchSize;
          const end = Math.min(trainCount, start + batchSize);
          const wantNorms = due('gradients', stepStart, batch === batchesPerEpoch);
          const { loss, correct, fault, norms } = await stepper.step(order, start, end, augment, wantNorms);
          if (fault) {
            finish = {
              reason: 'diverged',
              message: `Training diverged at epoch ${epoch}, batch ${batch}: ${fault}. ` +
                `The last good weights are kept and can be saved. Try a smaller learning rate than ${learningRate}.`,
            };
            break;
          }
          if (norms) emit({ type: 'gradients', runId, epoch, batch, step: step + 1, norms: layerNames.map((layer, i) => ({ layer, norm: norms[i]! })) });
          step++;

          const n = end - start;
          lossSum += loss * n;
          correctSum += correct;
          seen += n;
          imagesTrained += n;
          const stepSeconds = (performance.now() - stepStart) / 1000;
          epochTrainSeconds += stepSeconds;
          trainSeconds += stepSeconds;

          const after = performance.now();
          if (due('batch', after, batch === batchesPerEpoch || batch === 1)) {
            emit({ type: 'batch', runId, epoch, batch, batchesPerEpoch, loss, accuracy: correct / n, imagesPerSecond: imagesTrained / trainSeconds, step });
          }
          if (due('weights', after, false)) await emitWeights(epoch, batch);
          if (after - lastYield > 40) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
        }
        if (finish) break;
        await stepper.sync();
        const test = evaluate(model, spec, dataset.test, dataset.numClasses, testCount);
        const record: EpochRecord = {
          epoch, epochs: recipe.epochs, trainLoss: lossSum / seen, trainAccuracy: correctSum / seen,
          testLoss: test.loss, testAccuracy: test.accuracy, seconds: (performance.now() - epochStart) / 1000,
          imagesPerSecond: seen / epochTrainSeconds, learningRate,
        };
        history.push(record);
        emit({ type: 'epoch', runId, ...record });
        await emitWeights(epoch, batchesPerEpoch);
        learningRate *= recipe.lrDecay;
        await stepper.setLearningRate(learningRate);
        await yieldToEventLoop();
      }
      const final = history.at(-1);
      testAccuracy = final?.testAccuracy ?? NaN;
      testLoss = final?.testLoss ?? NaN;
      if (finish) {
        // Stopped or diverged mid-epoch: report the weights we keep.
        await stepper.sync();
        const test = evaluate(model, spec, dataset.test, dataset.numClasses, testCount);
        testAccuracy = test.accuracy;
        testLoss = test.loss;
        await emitWeights(Math.max(1, epoch), 0);
      }
    } finally {
      await stepper.dispose();
    }

    const done: DoneEvent = {
      type: 'done', runId, reason: finish?.reason ?? 'completed',
      message: finish?.message ?? `Trained ${history.length} epoch${history.length === 1 ? '' : 's'}: test accuracy ${(testAccuracy * 100).toFixed(2)}%.`,
      testAccuracy, testLoss, backend, imagesPerSecond: trainSeconds > 0 ? imagesTrained / trainSeconds : 0,
      epochsCompleted: history.length, seconds: (performance.now() - started) / 1000,
    };
    this.phaseNow = 'idle';
    emit({ type: 'state', runId, phase: 'idle' });
    emit(done);
    return { model, steps: step, history, done };
  }
}
