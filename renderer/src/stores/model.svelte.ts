// The current model, mirrored in the page: a tfjs (cpu backend) copy of the
// worker's model, so the drawing pad and feature maps run here without waiting
// for training. Weights come from currentModel() at start, after modelChanged and
// at the end of a run, and from every live 'weights' event in between.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { VariantName, WireTensor } from '../../../common/protocol.js';
import type { LabApi, ModelSummary, Result } from '../../../common/contract.js';
import { getVariant, type VariantSpec } from '../../../common/network/variants.js';
import { wireToWeights } from '../../../common/network/wire.js';
import { createPredictor, type Prediction, type Predictor } from '../../../common/network/predict.js';
import { decodeWireTensors, type TensorData } from '../lib/wire-tensor.js';
import type { TrainingStore } from './training.svelte.js';

/** Predictions run once when a model is built, before the student draws. */
const PAD_WARM_UP_PREDICTIONS = 10;

export class ModelStore {
  summary = $state.raw<ModelSummary | null>(null);
  /** The variant of the weights the page holds (follows a running training's variant). */
  variant = $state<VariantName>('lenet5');
  spec = $derived<VariantSpec>(getVariant(this.variant));
  /** Bumps on every weight change: views re-render kernels and re-run predictions on it. */
  version = $state(0);
  weights = $state.raw<Map<string, TensorData>>(new Map());
  /** True once the page has a model with real weights. */
  ready = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Milliseconds the last predict() took (shown as a hint; inference is local). */
  lastPredictMs = $state(0);
  /**
   * Where the open model came from: 'run' = the run trained in this page (its live history and snapshots are
   * the training store's), 'opened' = a model opened, restored or loaded at launch.
   */
  origin = $state<'run' | 'opened'>('opened');
  /** Bumps each time another model is opened: what belongs to the open model (its timeline) is fetched again. */
  openSeq = $state(0);

  private tfModel: tfl.LayersModel | null = null;
  private predictor: Predictor | null = null;
  private builtVariant: VariantName | null = null;
  private reloadSeq = 0;
  private backendReady: Promise<void> | null = null;
  /** While a save is in flight its modelChanged only renames the model: the weights stay. */
  private saving = 0;

  constructor(private readonly lab: LabApi, private readonly training: TrainingStore) {
    lab.onModelChanged((summary) => {
      const before = this.summary;
      this.summary = summary;
      const sameModel = this.saving > 0 || (before !== null && before.dir === summary.dir && before.variant === summary.variant);
      // While training, live weight events keep the page in sync; otherwise fetch the new weights.
      if (!sameModel && !this.training.active) {
        this.markOpened();
        void this.reload();
      }
    });
    lab.onTrainerEvent((event) => {
      if (event.type === 'started') {
        // A reload asked for before the run (the page's start-up) must not put that model over the run's: drop it.
        this.reloadSeq++;
        this.loading = false;
        this.origin = 'run';
        // The run trains a new model, unnamed (the worker names it when the run ends; the top bar says "new model"). Keep the old weights on screen
        // until the run's first 'weights' event rebuilds the page's model for its variant.
        this.summary = {
          name: '', dir: '', variant: event.variant, dataset: event.dataset, backend: event.backend,
          testAccuracy: null, savedAt: '', builtin: false, unsaved: true,
        };
      } else if (event.type === 'epoch') {
        if (this.summary && this.summary.dir === '') this.summary = { ...this.summary, testAccuracy: event.testAccuracy };
      } else if (event.type === 'done') {
        void this.reload();
      }
    });
    training.onWeights((event, snapshot) =>
      this.applyWireTensors(event.tensors, this.training.variant ?? this.variant, snapshot.tensors));
  }

  async init(): Promise<void> {
    await this.ensureBackend();
    await this.reload();
  }

  private ensureBackend(): Promise<void> {
    this.backendReady ??= (async () => {
      await tf.setBackend('cpu');
      await tf.ready();
    })();
    return this.backendReady;
  }

  /** Save the current model under a name (in the models folder); the summary follows. */
  async save(name: string): Promise<Result<ModelSummary>> {
    this.saving++;
    try {
      const result = await this.lab.saveModel({ name });
      if (result.ok) this.summary = result.value;
      return result;
    } finally {
      this.saving--;
    }
  }

  /** Another model was opened in the worker (Open dialog): show its summary now, then fetch its weights. */
  opened(summary: ModelSummary): Promise<void> {
    this.summary = summary;
    this.markOpened();
    return this.reload();
  }

  private markOpened(): void {
    this.origin = 'opened';
    this.openSeq++;
  }

  /** Fetch the worker's current model and its weights. */
  async reload(): Promise<void> {
    const seq = ++this.reloadSeq;
    this.loading = true;
    try {
      await this.ensureBackend();
      const result = await this.lab.currentModel({});
      if (seq !== this.reloadSeq) return;
      if (!result.ok) {
        this.error = result.error.message;
        return;
      }
      this.summary = result.value.summary;
      this.applyWireTensors(result.value.tensors, result.value.summary.variant);
    } finally {
      if (seq === this.reloadSeq) this.loading = false;
    }
  }

  private ensureBuilt(variant: VariantName): tfl.LayersModel {
    if (this.tfModel && this.builtVariant === variant) return this.tfModel;
    this.predictor?.dispose();
    this.tfModel?.dispose();
    const spec = getVariant(variant);
    const built = spec.build(0);
    this.tfModel = built;
    this.predictor = createPredictor(built, spec);
    this.builtVariant = variant;
    this.variant = variant;
    this.ready = false;
    return built;
  }

  private applyWireTensors(tensors: readonly WireTensor[], variant: VariantName, decoded?: Map<string, TensorData>): void {
    if (tensors.length === 0) return;
    try {
      const rebuilt = this.builtVariant !== variant;
      const built = this.ensureBuilt(variant);
      wireToWeights(built, tensors);
      // An event may carry only some weights: merge, unless the model was just rebuilt.
      const merged = rebuilt ? new Map<string, TensorData>() : new Map(this.weights);
      for (const [name, tensor] of decoded ?? decodeWireTensors(tensors)) merged.set(name, tensor);
      this.weights = merged;
      // A few throwaway predictions so the first strokes on the pad do not run the forward pass's loops
      // unoptimised (its first calls take a few ms each until V8 has compiled them; BENCHMARKS.md).
      if (rebuilt) {
        const probe = new Float32Array(28 * 28);
        probe.fill(1, 10 * 28, 18 * 28);
        for (let i = 0; i < PAD_WARM_UP_PREDICTIONS; i++) this.predictor?.predict(probe);
      }
      this.ready = true;
      this.error = null;
      this.version++;
    } catch (e) {
      this.error = `Could not load the model's weights: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Classify one 28×28 digit (0 = background, 1 = ink); null until a model is loaded. */
  predict(pixels28: Float32Array): Prediction | null {
    if (!this.predictor || !this.ready) return null;
    const started = performance.now();
    const prediction = this.predictor.predict(pixels28);
    this.lastPredictMs = performance.now() - started;
    return prediction;
  }
}
