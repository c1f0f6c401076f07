// The training run as the page sees it: phase, progress, and histories for the
// charts and the Filters timeline, all built incrementally from trainerEvents.
// Histories are $state.raw arrays replaced by append-and-reassign; each is capped
// (thinned by half when full), so one event never copies more than a bounded array.
import type { BackendName, Recipe, RunPhase, TrainConfig, TrainerEvent, TrainerEventOf, VariantName } from '../../../common/protocol.js';
import type { LabApi, LabError, Result } from '../../../common/contract.js';
import type { ErrorLike } from '../../../common/i18n/index.js';
import { decodeWireTensors, type TensorData } from '../lib/wire-tensor.js';
import { smoothAlongSteps, smoothingWindow, stepsPerPoint } from '../lib/smoothing.js';
import { phaseAfterAnswer } from '../lib/run-phase.js';
import { withEngines } from '../lib/train-status.js';

export interface WeightSnapshot {
  step: number;
  epoch: number;
  batch: number;
  tensors: Map<string, TensorData>;
}

export interface BatchPoint {
  step: number;
  epoch: number;
  batch: number;
  loss: number;
  accuracy: number;
  /** Images in this batch: the batch size, fewer in an epoch's last batch. */
  images: number;
  imagesPerSecond: number;
}

/** The batch curves smoothed along the steps (lib/smoothing.ts); index i belongs to batches[i]. */
export interface SmoothedBatches {
  loss: Float64Array;
  accuracy: Float64Array;
  /** The smoothing time constant, in steps. */
  window: number;
}

export interface EpochPoint {
  epoch: number;
  /** Global step at the end of the epoch, so test points sit on the batch x-axis. */
  step: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  imagesPerSecond: number;
  learningRate: number;
}

export interface GradientPoint {
  step: number;
  epoch: number;
  batch: number;
  /** norms[i] belongs to gradientLayers[i]; NaN when that layer was not reported. */
  norms: number[];
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  imagesPerSecond: number;
  etaSeconds: number | null;
  /** 0..1 over the whole run. */
  fraction: number;
}

export type DoneEvent = TrainerEventOf<'done'>;
export type StartedEvent = TrainerEventOf<'started'>;

const MAX_BATCH_POINTS = 4000;
const MAX_GRADIENT_POINTS = 2000;
const MAX_SNAPSHOTS = 200;
const SNAPSHOT_BYTES_BUDGET = 64 * 1024 * 1024;

const EMPTY_PROGRESS: TrainProgress = { epoch: 0, epochs: 0, batch: 0, batchesPerEpoch: 0, imagesPerSecond: 0, etaSeconds: null, fraction: 0 };

/** Append; when over the cap drop every other point (keeping the first and the newest), so the whole run stays visible. */
function appendCapped<T>(list: readonly T[], item: T, cap: number): T[] {
  if (list.length < cap) return [...list, item];
  const thinned = list.filter((_, i) => i === 0 || i % 2 === 1);
  thinned.push(item);
  return thinned;
}

export class TrainingStore {
  phase = $state<RunPhase>('idle');
  runId = $state<string | null>(null);
  variant = $state<VariantName | null>(null);
  recipe = $state.raw<Recipe | null>(null);
  backend = $state<BackendName | null>(null);
  dataset = $state<string | null>(null);
  trainCount = $state(0);
  testCount = $state(0);
  seed = $state<number | null>(null);
  started = $state.raw<StartedEvent | null>(null);
  progress = $state.raw<TrainProgress>(EMPTY_PROGRESS);
  batches = $state.raw<BatchPoint[]>([]);
  epochs = $state.raw<EpochPoint[]>([]);
  gradients = $state.raw<GradientPoint[]>([]);
  /** Layer names of the gradient norms, in first-seen order. */
  gradientLayers = $state.raw<string[]>([]);
  snapshots = $state.raw<WeightSnapshot[]>([]);
  /** Steps the whole run will take (epochs × batches per epoch); sets the smoothing window. */
  totalSteps = $state(0);
  /** The train curves smoothed over a window that scales with the run's length (computed when read). */
  smoothed = $derived.by((): SmoothedBatches => {
    const batches = this.batches;
    const steps = batches.map((b) => b.step);
    const window = smoothingWindow(this.totalSteps || (steps.at(-1) ?? 0), stepsPerPoint(steps));
    return {
      loss: smoothAlongSteps(steps, batches.map((b) => b.loss), window, batches.map((b) => b.images)),
      accuracy: smoothAlongSteps(steps, batches.map((b) => b.accuracy), window, batches.map((b) => b.images)),
      window,
    };
  });
  done = $state.raw<DoneEvent | null>(null);
  /** Why the run failed: the worker's message, or the trainer's crash (worded by the view). */
  error = $state.raw<ErrorLike | null>(null);
  /** True from start() until the run is over (including 'loading'). */
  active = $derived(this.phase !== 'idle');
  private lastStep = 0;
  private ipsSmooth = 0;
  private weightListeners = new Set<(event: TrainerEventOf<'weights'>, snapshot: WeightSnapshot) => void>();

  constructor(private readonly lab: LabApi) {
    lab.onTrainerEvent((event) => this.handle(event));
    lab.onTrainerCrashed(() => {
      if (this.phase !== 'idle') this.error = { code: 'run-lost' };
      this.phase = 'idle';
    });
  }

  /** Every 'weights' event, decoded once here and shared (the ModelStore applies them to the page's model). */
  onWeights(listener: (event: TrainerEventOf<'weights'>, snapshot: WeightSnapshot) => void): () => void {
    this.weightListeners.add(listener);
    return () => this.weightListeners.delete(listener);
  }

  /** Learn the phase of a run that started before this page loaded. */
  async init(): Promise<void> {
    const status = await this.lab.status({});
    if (status.ok) {
      this.phase = status.value.phase;
      this.runId = status.value.runId;
    }
  }

  async start(config: TrainConfig): Promise<Result<{ runId: string }>> {
    this.error = null;
    this.done = null;
    const result = await this.lab.train(config);
    if (result.ok) {
      this.runId = result.value.runId;
      if (this.phase === 'idle') this.phase = 'loading';
    }
    return result;
  }

  pause() {
    return this.applyStatus(this.lab.pause({}));
  }
  resume() {
    return this.applyStatus(this.lab.resume({}));
  }
  stop() {
    return this.applyStatus(this.lab.stop({}));
  }

  private async applyStatus(pending: ReturnType<LabApi['status']>): Promise<LabError | null> {
    const result = await pending;
    if (!result.ok) return result.error;
    this.phase = phaseAfterAnswer({ phase: this.phase, runId: this.runId, endedRunId: this.done?.runId ?? null }, result.value);
    return null;
  }

  handle(event: TrainerEvent): void {
    if (event.type !== 'started' && this.runId !== null && event.runId !== this.runId) {
      // A run this page never saw start (reload mid-run): adopt it.
      if (event.type === 'done' || event.type === 'error') return;
      this.runId = event.runId;
    }
    switch (event.type) {
      case 'started':
        this.reset(event);
        break;
      case 'batch':
        this.onBatch(event);
        break;
      case 'epoch':
        this.onEpoch(event);
        break;
      case 'weights':
        this.handleWeights(event);
        break;
      case 'gradients':
        this.onGradients(event);
        break;
      case 'engines':
        if (this.started) this.started = withEngines(this.started, event);
        break;
      case 'state':
        this.runId = event.runId;
        this.phase = event.phase;
        break;
      case 'done':
        this.done = event;
        this.phase = 'idle';
        this.progress = { ...this.progress, etaSeconds: 0, fraction: event.reason === 'completed' ? 1 : this.progress.fraction };
        break;
      case 'error':
        this.error = { code: 'run-failed', message: event.message, params: { message: event.message } };
        this.phase = 'idle';
        break;
    }
  }

  private reset(event: StartedEvent): void {
    this.started = event;
    this.runId = event.runId;
    this.variant = event.variant;
    this.recipe = event.recipe;
    this.backend = event.backend;
    this.dataset = event.dataset;
    this.trainCount = event.trainCount;
    this.testCount = event.testCount;
    this.seed = event.seed;
    this.phase = 'running';
    this.done = null;
    this.error = null;
    this.batches = [];
    this.epochs = [];
    this.gradients = [];
    this.gradientLayers = [];
    this.snapshots = [];
    this.lastStep = 0;
    this.ipsSmooth = 0;
    this.totalSteps = event.recipe.epochs * event.batchesPerEpoch;
    this.progress = {
      ...EMPTY_PROGRESS,
      epoch: 1,
      epochs: event.recipe.epochs,
      batchesPerEpoch: event.batchesPerEpoch,
    };
  }

  private onBatch(event: TrainerEventOf<'batch'>): void {
    const point: BatchPoint = {
      step: event.step,
      epoch: event.epoch,
      batch: event.batch,
      loss: event.loss,
      accuracy: event.accuracy,
      images: this.batchImages(event.batch, event.batchesPerEpoch),
      imagesPerSecond: event.imagesPerSecond,
    };
    this.batches = appendCapped(this.batches, point, MAX_BATCH_POINTS);
    this.lastStep = event.step;
    if (this.phase === 'loading' || this.phase === 'idle') this.phase = 'running';
    this.updateProgress(event.epoch, event.batch, event.batchesPerEpoch, event.imagesPerSecond);
  }

  /** The images in batch `batch` of an epoch (the last one holds the remainder). */
  private batchImages(batch: number, batchesPerEpoch: number): number {
    const batchSize = this.recipe?.batchSize ?? 1;
    if (batch < batchesPerEpoch || this.trainCount <= 0) return batchSize;
    return Math.max(1, this.trainCount - (batchesPerEpoch - 1) * batchSize);
  }

  private updateProgress(epoch: number, batch: number, batchesPerEpoch: number, imagesPerSecond: number): void {
    const epochs = this.recipe?.epochs ?? Math.max(epoch, this.progress.epochs);
    const batchSize = this.recipe?.batchSize ?? 1;
    this.ipsSmooth = this.ipsSmooth > 0 ? 0.9 * this.ipsSmooth + 0.1 * imagesPerSecond : imagesPerSecond;
    const total = Math.max(1, epochs * batchesPerEpoch);
    const doneBatches = Math.min(total, (epoch - 1) * batchesPerEpoch + batch);
    const remainingImages = (total - doneBatches) * batchSize;
    this.progress = {
      epoch,
      epochs,
      batch,
      batchesPerEpoch,
      imagesPerSecond: imagesPerSecond,
      etaSeconds: this.ipsSmooth > 0 ? remainingImages / this.ipsSmooth : null,
      fraction: doneBatches / total,
    };
  }

  private onEpoch(event: TrainerEventOf<'epoch'>): void {
    this.epochs = [
      ...this.epochs,
      {
        epoch: event.epoch,
        step: this.lastStep,
        trainLoss: event.trainLoss,
        trainAccuracy: event.trainAccuracy,
        testLoss: event.testLoss,
        testAccuracy: event.testAccuracy,
        seconds: event.seconds,
        imagesPerSecond: event.imagesPerSecond,
        learningRate: event.learningRate,
      },
    ];
  }

  private onGradients(event: TrainerEventOf<'gradients'>): void {
    let layers = this.gradientLayers;
    const fresh = event.norms.filter((norm) => !layers.includes(norm.layer)).map((norm) => norm.layer);
    if (fresh.length > 0) this.gradientLayers = layers = [...layers, ...fresh];
    const byLayer = new Map(event.norms.map((norm) => [norm.layer, norm.norm]));
    const point: GradientPoint = {
      step: event.step,
      epoch: event.epoch,
      batch: event.batch,
      norms: layers.map((layer) => byLayer.get(layer) ?? Number.NaN),
    };
    this.gradients = appendCapped(this.gradients, point, MAX_GRADIENT_POINTS);
  }

  private handleWeights(event: TrainerEventOf<'weights'>): void {
    const tensors = decodeWireTensors(event.tensors);
    const snapshot: WeightSnapshot = { step: event.step, epoch: event.epoch, batch: event.batch, tensors };
    let bytes = 0;
    for (const tensor of tensors.values()) bytes += tensor.data.byteLength;
    const cap = Math.max(20, Math.min(MAX_SNAPSHOTS, Math.floor(SNAPSHOT_BYTES_BUDGET / Math.max(1, bytes))));
    this.snapshots = appendCapped(this.snapshots, snapshot, cap);
    for (const listener of this.weightListeners) listener(event, snapshot);
  }
}
