// The renderer's shared state: one instance of each store, created once.
// Views import from here only. Stores subscribe to the bridge once each.
//
//   lab        the LabApi (Electron preload or the browser-mode WebSocket bridge)
//   app        host info, toasts (app.unwrap(result, 'What failed')), crash banner, dialogs
//   nav        view, focusLayer, featureInput; go(view, layer?), showFeatures(input, layer?)
//   training   phase, runId, variant, recipe, backend, progress, batches/epochs/gradients, smoothed, snapshots
//   model      summary, variant, spec, version, weights, ready; predict(pixels28), save(name), reload()
//   drawing    pixels28, prediction, hasInk, strokes, brushSize; setGray(gray, w, h), clear()
//   trainForm  the Train view's fields; errors, config (a TrainConfig or null), loadRecipe(variant)
//   evaluation result, running, stale; run(limit?), images(indices, split?)
import { lab, onConnectionLost } from '../bridge/index.js';
import { AppStore } from './app.svelte.js';
import { NavStore } from './nav.svelte.js';
import { TrainingStore } from './training.svelte.js';
import { ModelStore } from './model.svelte.js';
import { DrawingStore } from './drawing.svelte.js';
import { EvaluationStore } from './evaluation.svelte.js';
import { TrainFormStore } from './train-form.svelte.js';

export { lab };
export const app = new AppStore(lab);
export const nav = new NavStore();
export const training = new TrainingStore(lab);
export const model = new ModelStore(lab, training);
export const drawing = new DrawingStore(model);
export const evaluation = new EvaluationStore(lab, model);
/** The Train view's form (also read by the Space shortcut and the menu's Start/Pause). */
export const trainForm = new TrainFormStore();

app.onRestarted(() => {
  void training.init();
  void model.reload();
});

onConnectionLost((reason) => {
  app.connectionLost = reason;
});

/** Called once by App on mount: fetch host info, run status and the current model. */
export async function initStores(): Promise<void> {
  await Promise.all([app.init(), training.init(), model.init()]);
}

export type { AppStore, Toast } from './app.svelte.js';
export type { NavStore, ViewName, FeatureInput } from './nav.svelte.js';
export { VIEW_NAMES } from './nav.svelte.js';
export type {
  TrainingStore, WeightSnapshot, BatchPoint, SmoothedBatches, EpochPoint, GradientPoint, TrainProgress, DoneEvent, StartedEvent,
} from './training.svelte.js';
export type { ModelStore } from './model.svelte.js';
export type { DrawingStore } from './drawing.svelte.js';
export { EvaluationStore, type DigitSample } from './evaluation.svelte.js';
export type { TrainFormStore, FormField, RecipeField } from './train-form.svelte.js';
export type { TensorData } from '../lib/wire-tensor.js';
export type { Prediction, Activation } from '../../../common/network/predict.js';
export type { VariantSpec } from '../../../common/network/variants.js';
