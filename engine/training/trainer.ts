// The training loop. It reports through one tagged union (TrainerEvent),
// throttled and incremental, and can be paused, resumed and stopped between
// batches. It never leaks tensors: everything per step lives in tidy/dispose.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Dataset } from '../data/dataset.js';
import type { BackendName, Recipe, RunPhase, TrainerEvent, TrainerEventOf } from '../protocol.js';
import { lossFor, probabilitiesFor, type VariantSpec } from '../models/variants.js';
import { modelToWire } from '../models/wire.js';
import { BatchMaker, seededRandom, shuffledIndices } from './batches.js';
import { evaluate } from './evaluate.js';

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
}

export interface TrainResult {
  model: tfl.LayersModel;
  history: EpochRecord[];
  done: DoneEvent;
}

const DEFAULT_THROTTLE = { batch: 150, weights: 1000, gradients: 500 };

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** Layer name of a variable: 'C1/kernel' → 'C1'. */
const layerOf = (variableName: string): string => variableName.split('/')[0]!.replace(/_\d+$/, '');

/**
 * Divergence, even where the loss stays finite: a loss 100× the first batch's has exploded; one that stays
 * above 2× it for 10 batches in a row has blown the network into saturation (bounded losses such as the
 * RBF output's cannot explode, but they can get stuck far above where they started).
 */
export class DivergenceWatch {
  private first: number | undefined;
  private streak = 0;
  static readonly EXPLODED = 100;
  static readonly HIGH = 2;
  static readonly HIGH_BATCHES = 10;

  /** Why this step's loss means training diverged, or null. `healthy` says whether its weights count as good. */
  check(loss: number): { fault: string | null; healthy: boolean } {
    if (!Number.isFinite(loss)) return { fault: `the loss became ${loss}`, healthy: false };
    this.first ??= loss;
    const scale = Math.max(this.first, 1);
    const start = `it started at ${this.first.toPrecision(3)}`;
    if (loss > DivergenceWatch.EXPLODED * scale) return { fault: `the loss exploded to ${loss.toPrecision(3)} (${start})`, healthy: false };
    const high = loss > DivergenceWatch.HIGH * scale;
    this.streak = high ? this.streak + 1 : 0;
    if (this.streak >= DivergenceWatch.HIGH_BATCHES) {
      return { fault: `the loss stayed above ${DivergenceWatch.HIGH}× its first value for ${this.streak} batches (now ${loss.toPrecision(3)}, ${start})`, healthy: false };
    }
    return { fault: null, healthy: !high };
  }
}

export function createOptimizer(recipe: Recipe): tf.Optimizer {
  if (recipe.optimizer === 'adam') return tf.train.adam(recipe.learningRate);
  return recipe.momentum > 0 ? tf.train.momentum(recipe.learningRate, recipe.momentum) : tf.train.sgd(recipe.learningRate);
}

function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const withSetter = optimizer as tf.Optimizer & { setLearningRate?: (lr: number) => void; learningRate: number };
  if (withSetter.setLearningRate) withSetter.setLearningRate(learningRate);
  else withSetter.learningRate = learningRate;
}

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

  stop(): void {
    if (this.phaseNow === 'idle') return;
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
    const maker = new BatchMaker(train, spec.input, dataset.numClasses, batchSize);
    const lossFn = lossFor(spec);
    const optimizer = createOptimizer(recipe);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const variableLayers = variables.map((v) => layerOf(v.name));
    const layerNames = [...new Set(variableLayers)];
    // The weights that last gave a finite loss, restored if training diverges.
    const lastGood = variables.map((v) => Float32Array.from(v.dataSync()));
    const history: EpochRecord[] = [];
    const started = performance.now();
    let trainSeconds = 0;
    let imagesTrained = 0;
    let step = 0;
    let learningRate = recipe.learningRate;
    const lastEmit = { batch: -Infinity, weights: -Infinity, gradients: -Infinity };
    let lastYield = performance.now();
    const watch = new DivergenceWatch();
    let finish: { reason: DoneEvent['reason']; message: string } | null = null;

    this.setPhase('running');
    emit({ type: 'started', runId, variant: spec.name, backend, recipe, dataset: dataset.name, trainCount, testCount, batchesPerEpoch, seed });

    const due = (kind: keyof typeof lastEmit, now: number, force: boolean): boolean => {
      if (!force && (throttle[kind] === Infinity || now - lastEmit[kind] < throttle[kind])) return false;
      lastEmit[kind] = now;
      return true;
    };
    const emitWeights = (epoch: number, batch: number): void => {
      emit({ type: 'weights', runId, epoch, batch, step, tensors: modelToWire(model) });
    };

    let epoch = 0;
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
          const { x, y, labels } = maker.make(order, start, end, { maxShift: recipe.augmentShift, random });
          const kept: { probabilities?: tf.Tensor } = {};
          const { value, grads } = tf.variableGrads(() => {
            const out = model.apply(x, { training: true }) as tf.Tensor;
            kept.probabilities = tf.keep(probabilitiesFor(spec, out));
            return lossFn(y, out);
          }, variables);
          const loss = value.dataSync()[0]!;
          const probs = kept.probabilities!.dataSync();
          tf.dispose([x, y, value, kept.probabilities!]);
          const { fault, healthy } = watch.check(loss);
          if (fault) {
            tf.dispose(grads);
            variables.forEach((v, i) => v.assign(tf.tensor(lastGood[i]!, v.shape)));
            finish = {
              reason: 'diverged',
              message: `Training diverged at epoch ${epoch}, batch ${batch}: ${fault}. ` +
                `The last good weights are kept and can be saved. Try a smaller learning rate than ${learningRate}.`,
            };
            break;
          }
          if (healthy) variables.forEach((v, i) => lastGood[i]!.set(v.dataSync() as Float32Array));
          const now = performance.now();
          if (due('gradients', now, batch === batchesPerEpoch)) {
            const norms = tf.tidy(() => layerNames.map((layer) => {
              const squares = variables.flatMap((v, i) => (variableLayers[i] === layer ? [tf.sum(tf.square(grads[v.name]!))] : []));
              return tf.sqrt(tf.addN(squares));
            }));
            const values = norms.map((n) => n.dataSync()[0]!);
            tf.dispose(norms);
            emit({ type: 'gradients', runId, epoch, batch, step: step + 1, norms: layerNames.map((layer, i) => ({ layer, norm: values[i]! })) });
          }
          optimizer.applyGradients(grads);
          tf.dispose(grads);
          step++;

          const n = end - start;
          let correct = 0;
          const classes = dataset.numClasses;
          for (let i = 0; i < n; i++) {
            let best = 0;
            for (let c = 1; c < classes; c++) if (probs[i * classes + c]! > probs[i * classes + best]!) best = c;
            if (best === labels[i]) correct++;
          }
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
          if (due('weights', after, false)) emitWeights(epoch, batch);
          if (after - lastYield > 40) {
            await yieldToEventLoop();
            lastYield = performance.now();
          }
        }
        if (finish) break;
        const test = evaluate(model, spec, dataset.test, dataset.numClasses, testCount);
        const record: EpochRecord = {
          epoch, epochs: recipe.epochs, trainLoss: lossSum / seen, trainAccuracy: correctSum / seen,
          testLoss: test.loss, testAccuracy: test.accuracy, seconds: (performance.now() - epochStart) / 1000,
          imagesPerSecond: seen / epochTrainSeconds, learningRate,
        };
        history.push(record);
        emit({ type: 'epoch', runId, ...record });
        emitWeights(epoch, batchesPerEpoch);
        learningRate *= recipe.lrDecay;
        setLearningRate(optimizer, learningRate);
        await yieldToEventLoop();
      }
    } finally {
      optimizer.dispose();
    }

    const final = history.at(-1);
    let testAccuracy = final?.testAccuracy ?? NaN;
    let testLoss = final?.testLoss ?? NaN;
    if (finish) {
      // Stopped or diverged mid-epoch: report the weights we keep.
      const test = evaluate(model, spec, dataset.test, dataset.numClasses, testCount);
      testAccuracy = test.accuracy;
      testLoss = test.loss;
      emitWeights(Math.max(1, epoch), 0);
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
    return { model, history, done };
  }
}
