// One training step, shared by the Trainer (one engine), each thread of the parallel trainer
// and the bench: gradients of one batch, the divergence check, the optimizer update.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplit } from '../data/dataset.js';
import type { Recipe } from '../../common/protocol.js';
import { lossFor, probabilitiesFor, type VariantSpec } from '../../common/network/variants.js';
import { BatchMaker } from './batches.js';
import { createOptimizer, type FlatOptimizer, type OptimizerState } from './optimizers.js';
import { DirectStep, KernelAccess } from './direct-step.js';

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

  /** The first loss and the current streak, for a second engine joining the run. */
  state(): { first: number | undefined; streak: number } {
    return { first: this.first, streak: this.streak };
  }

  restore(state: { first: number | undefined; streak: number }): void {
    this.first = state.first;
    this.streak = state.streak;
  }
}

/** Layer name of a variable: 'C1/kernel' → 'C1'. */
export const layerOf = (variableName: string): string => variableName.split('/')[0]!.replace(/_\d+$/, '');

export const trainableVariables = (model: tfl.LayersModel): tf.Variable[] => model.trainableWeights.map((w) => w.read() as tf.Variable);

/** Forward, loss and class probabilities of one batch, and the loss's gradient for every variable. Caller disposes `grads`. */
export function computeGradients(model: tfl.LayersModel, spec: VariantSpec, lossFn: ReturnType<typeof lossFor>, variables: tf.Variable[], x: tf.Tensor, y: tf.Tensor):
  { loss: number; probabilities: Float32Array; grads: tf.NamedTensorMap } {
  const kept: { probabilities?: tf.Tensor } = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor;
    kept.probabilities = tf.keep(probabilitiesFor(spec, out));
    return lossFn(y, out);
  }, variables);
  const loss = value.dataSync()[0]!;
  const probabilities = kept.probabilities!.dataSync() as Float32Array;
  tf.dispose([value, kept.probabilities!]);
  return { loss, probabilities, grads };
}

/** How many of the `n` rows of `probabilities` put their largest value on the label (first maximum wins). */
export function countCorrect(probabilities: Float32Array, labels: Uint8Array, n: number, classes: number): number {
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[i * classes + c]! > probabilities[i * classes + best]!) best = c;
    if (best === labels[i]) correct++;
  }
  return correct;
}

export interface StepOutcome {
  /** The batch's mean loss. */
  loss: number;
  /** Correctly classified images of the batch (before the update). */
  correct: number;
  /** Why training diverged at this step (the last good weights are back in place, nothing was applied), or null. */
  fault: string | null;
  /** Per-layer gradient L2 norms, in `layerNames` order, when asked for. */
  norms?: number[];
}

export type Augment = { maxShift: number; random: () => number } | undefined;

/** One rank's share of a data-parallel update: parameters [from, to), and how the others' shares arrive. */
export interface WeightShare {
  from: number;
  to: number;
  /** Publishes weights [from, to) and copies in every other parameter, once every rank has published. */
  exchange(weights: Float32Array): void;
}

/** What a ModelUpdater's next step depends on besides the weights, for another engine to continue from. */
export interface UpdaterState {
  lastGood: Float32Array;
  watch: { first: number | undefined; streak: number };
  optimizer: OptimizerState;
}

/**
 * What turns a batch's gradients into the next weights: the divergence check, the snapshot of the last
 * good weights (restored on divergence), the gradient norms and the optimizer update. It works on flat
 * Float32Arrays (every trainable parameter, variable after variable, in `offsets` order): one read of
 * the weights, one optimizer pass, one write back per variable.
 */
export class ModelUpdater {
  readonly variables: tf.Variable[];
  readonly layerNames: string[];
  /** Where each variable starts in the flat arrays. */
  readonly offsets: number[];
  /** Trainable parameters in all. */
  readonly size: number;
  private readonly variableLayers: string[];
  private readonly optimizer: FlatOptimizer;
  private readonly watch = new DivergenceWatch();
  private readonly weights: Float32Array;
  // The weights that last gave a healthy loss, restored if training diverges.
  private readonly lastGood: Float32Array;
  private readonly gradients: Float32Array;

  /** `from`: another updater's state (its weights are already in `model`), when a second engine joins a run. */
  constructor(readonly model: tfl.LayersModel, recipe: Recipe, from?: UpdaterState) {
    this.variables = trainableVariables(model);
    this.variableLayers = this.variables.map((v) => layerOf(v.name));
    this.layerNames = [...new Set(this.variableLayers)];
    this.offsets = [];
    let size = 0;
    for (const v of this.variables) {
      this.offsets.push(size);
      size += v.size;
    }
    this.size = size;
    this.optimizer = createOptimizer(recipe, size);
    this.weights = new Float32Array(size);
    this.gradients = new Float32Array(size);
    this.readWeights(this.weights);
    this.lastGood = this.weights.slice();
    if (from) {
      if (from.lastGood.length !== size) throw new Error(`updater state for ${from.lastGood.length} parameters, not ${size}`);
      this.lastGood.set(from.lastGood);
      this.watch.restore(from.watch);
      this.optimizer.restore(from.optimizer);
    }
  }

  /** A copy of this updater's state (UpdaterState). */
  state(): UpdaterState {
    return { lastGood: this.lastGood.slice(), watch: this.watch.state(), optimizer: this.optimizer.state() };
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /** Copies `grads` (disposed) into a flat array (`into`, else this updater's own), variable by variable; a variable without a gradient gets zeros. */
  flatten(grads: tf.NamedTensorMap, into: Float32Array = this.gradients): Float32Array {
    this.variables.forEach((v, i) => {
      const grad = grads[v.name];
      if (grad) into.set(grad.dataSync() as Float32Array, this.offsets[i]);
      else into.fill(0, this.offsets[i], this.offsets[i]! + v.size);
    });
    tf.dispose(grads);
    return into;
  }

  /** This updater's own flat gradient buffer (what flatten() fills by default). */
  get gradientBuffer(): Float32Array {
    return this.gradients;
  }

  /**
   * Checks `loss`, then applies the flat gradients `grads` unless training diverged. With `share`, this
   * updater computes only parameters [from, to) (only those of `grads` need be set, all of them for the
   * norms), and `share.exchange` fills in the rest of the new weights (another rank's share) before they
   * are written to the variables.
   */
  update(loss: number, grads: Float32Array, wantNorms: boolean, share?: WeightShare): { fault: string | null; norms?: number[] } {
    const { fault, healthy } = this.watch.check(loss);
    if (fault) {
      this.writeWeights(this.lastGood);
      return { fault };
    }
    // Whatever else assigned the variables (loading, the threads' start) is what we update.
    this.readChangedWeights();
    if (healthy) this.lastGood.set(this.weights);
    const norms = wantNorms ? this.norms(grads) : undefined;
    this.optimizer.apply(this.weights, grads, share?.from ?? 0, share?.to ?? this.size);
    share?.exchange(this.weights);
    this.writeWeights(this.weights);
    return { fault: null, ...(norms ? { norms } : {}) };
  }

  /** The variables' current values, flat (a new array). */
  readFlat(): Float32Array {
    const out = new Float32Array(this.size);
    this.readWeights(out);
    return out;
  }

  private readWeights(into: Float32Array): void {
    this.variables.forEach((v, i) => into.set(v.dataSync() as Float32Array, this.offsets[i]));
  }

  /**
   * The data each variable held when this updater last wrote it in place (wasm and cpu). A variable whose
   * data is still that one holds what `weights` holds, and is not read back.
   */
  private readonly written: (object | null)[] = [];
  private readonly access = KernelAccess.current();

  private readChangedWeights(): void {
    this.variables.forEach((v, i) => {
      if (this.written[i] !== v.dataId) this.weights.set(v.dataSync() as Float32Array, this.offsets[i]);
    });
  }

  private writeWeights(from: Float32Array): void {
    const access = this.access;
    // In place where the variable's data is its own (a tensor sharing it, such as a clone, would change
    // with it); on wasm, overwrite also drops XNNPACK's packed copies of the old filters.
    if (access && this.variables.every((v) => access.refCount(v.dataId) === 1)) {
      this.variables.forEach((v, i) => {
        access.overwrite({ dataId: v.dataId, shape: v.shape, dtype: 'float32' }, from.subarray(this.offsets[i], this.offsets[i]! + v.size));
        this.written[i] = v.dataId;
      });
      return;
    }
    // A copy per variable: the cpu backend keeps the array it is given, and `from` is reused.
    tf.tidy(() => this.variables.forEach((v, i) => {
      v.assign(tf.tensor(from.slice(this.offsets[i], this.offsets[i]! + v.size), v.shape));
      this.written[i] = v.dataId;
    }));
  }

  private norms(grads: Float32Array): number[] {
    const squares = new Map(this.layerNames.map((layer) => [layer, 0]));
    this.variables.forEach((v, i) => {
      let sum = 0;
      for (let j = this.offsets[i]!, end = j + v.size; j < end; j++) sum += grads[j]! * grads[j]!;
      const layer = this.variableLayers[i]!;
      squares.set(layer, squares.get(layer)! + sum);
    });
    return this.layerNames.map((layer) => Math.sqrt(squares.get(layer)!));
  }

  setLearningRate(learningRate: number): void {
    this.optimizer.learningRate = learningRate;
  }
}

/**
 * How a training loop advances the model by one batch. The Trainer's loop is the same whichever
 * stepper runs the batches: this process's engine (LocalStepper) or both cores (parallel-trainer.ts).
 */
export interface Stepper {
  readonly layerNames: string[];
  /** Trains on images `order[start..end)`; `augment` draws the batch's shifts exactly as BatchMaker.make would. */
  step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): StepOutcome | Promise<StepOutcome>;
  /** Makes the caller's model hold the trained weights (nothing to do when it trains them itself). */
  sync(): void | Promise<void>;
  setLearningRate(learningRate: number): void | Promise<void>;
  dispose(): void | Promise<void>;
}

/**
 * How a batch's gradients are computed: 'direct' (direct-step.ts: the layers' forward and backward written
 * against the kernels, on wasm and cpu) or 'tape' (tfjs-layers and tf.variableGrads, any backend). 'auto'
 * is direct where the backend and every layer allow it. LENET_LAB_STEP=tape makes 'auto' mean the tape.
 */
export type StepKind = 'auto' | 'direct' | 'tape';

export function defaultStepKind(): StepKind {
  const env = typeof process === 'undefined' ? undefined : process.env['LENET_LAB_STEP'];
  return env === 'tape' || env === 'direct' ? env : 'auto';
}

/** One batch of images `order[start..end)`: its gradients into a flat array, its loss and correct count. */
export class BatchGradients {
  private readonly maker: BatchMaker;
  private readonly lossFn: ReturnType<typeof lossFor>;
  private readonly direct: DirectStep | null;

  constructor(private readonly model: tfl.LayersModel, private readonly spec: VariantSpec, recipe: Recipe, split: DataSplit,
    private readonly numClasses: number, private readonly updater: ModelUpdater, kind: StepKind = defaultStepKind()) {
    this.maker = new BatchMaker(split, spec.input, numClasses, recipe.batchSize);
    this.lossFn = lossFor(spec);
    this.direct = kind === 'tape' ? null : DirectStep.forModel(model, spec, updater.variables, updater.offsets);
    if (kind === 'direct' && !this.direct) throw new Error(`no direct training step for ${spec.name} on the ${tf.getBackend()} backend`);
  }

  /** Which step computes the gradients. */
  get kind(): 'direct' | 'tape' {
    return this.direct ? 'direct' : 'tape';
  }

  compute(order: ArrayLike<number>, start: number, end: number, augment: Augment, into: Float32Array): { loss: number; correct: number } {
    const n = end - start;
    if (this.direct) {
      const { input, labels } = this.maker.fill(order, start, end, augment);
      const { loss, probabilities } = this.direct.compute(input, labels, n, this.numClasses, into);
      return { loss, correct: countCorrect(probabilities, labels, n, this.numClasses) };
    }
    const { x, y, labels } = this.maker.make(order, start, end, augment);
    const { loss, probabilities, grads } = computeGradients(this.model, this.spec, this.lossFn, this.updater.variables, x, y);
    tf.dispose([x, y]);
    this.updater.flatten(grads, into);
    return { loss, correct: countCorrect(probabilities, labels, n, this.numClasses) };
  }
}

/** The trainer's step on this thread's tfjs engine. */
export class LocalStepper implements Stepper {
  /** Public for a second engine joining the run (parallel-trainer.ts): it carries on with these. */
  readonly updater: ModelUpdater;
  readonly gradients: BatchGradients;

  constructor(model: tfl.LayersModel, spec: VariantSpec, recipe: Recipe, split: DataSplit, numClasses: number, kind: StepKind = defaultStepKind()) {
    this.updater = new ModelUpdater(model, recipe);
    this.gradients = new BatchGradients(model, spec, recipe, split, numClasses, this.updater, kind);
  }

  get layerNames(): string[] {
    return this.updater.layerNames;
  }

  /** Which step computes the gradients. */
  get kind(): 'direct' | 'tape' {
    return this.gradients.kind;
  }

  step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): StepOutcome {
    const grads = this.updater.gradientBuffer;
    const { loss, correct } = this.gradients.compute(order, start, end, augment, grads);
    const { fault, norms } = this.updater.update(loss, grads, wantNorms);
    return { loss, correct: fault ? 0 : correct, fault, ...(norms ? { norms } : {}) };
  }

  sync(): void { /* the model is trained in place */ }

  setLearningRate(learningRate: number): void {
    this.updater.setLearningRate(learningRate);
  }

  dispose(): void {
    // Nothing to free: the optimizer's state is plain arrays and the model is the caller's.
  }
}
