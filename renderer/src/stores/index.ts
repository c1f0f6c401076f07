// The renderer's shared state. main.ts creates the stores once, with the LabApi
// passed in (nothing connects on import), and App provides them to every component
// through Svelte context: components call useStores() (or useI18n()).
//
//   lab        the LabApi (Electron preload or the browser-mode WebSocket bridge)
//   i18n       locale, t(id, values), count/percent/duration, error(e) — the active language
//   app        host info, toasts (app.unwrap(result, title)), crash banner, the open dialog
//   nav        view, focusLayer, featureInput; go(view, layer?), showFeatures(input, layer?)
//   training   phase, runId, variant, recipe, backend, progress, batches/epochs/gradients, smoothed, snapshots
//   model      summary, variant, spec, version, weights, ready; predict(pixels28), save(name), opened(s), reload()
//   drawing    pixels28, prediction, hasInk, strokes, brushSize; setGray(gray, w, h), beginStroke, undoStroke, clear()
//   trainForm  the Train view's fields; errors, config (a TrainConfig or null), loadRecipe(variant)
//   evaluation result, running, stale; run(limit?), images(indices, split?)
//   timeline   the Filters timeline of the open model: source ('run' | 'model'), snapshots, note, owner; refresh()
//   compare    the earlier runs overlaid on the Train view's charts: candidates, chosen, runs, current; toggle(id)
//   lesson     the guided tour (open, step; start, next, back, leave) and the closed look-for panels
import { getContext, setContext } from 'svelte';
import type { LabApi } from '../../../common/contract.js';
import { AppStore } from './app.svelte.js';
import { NavStore } from './nav.svelte.js';
import { TrainingStore } from './training.svelte.js';
import { ModelStore } from './model.svelte.js';
import { DrawingStore } from './drawing.svelte.js';
import { EvaluationStore } from './evaluation.svelte.js';
import { TrainFormStore } from './train-form.svelte.js';
import { LocaleStore } from './locale.svelte.js';
import { LessonStore } from './lesson.svelte.js';
import { TimelineStore } from './timeline.svelte.js';
import { CompareStore } from './compare.svelte.js';
import { confirmDiscard, type DiscardAction } from '../lib/discard-guard.js';
import { launchRecipe } from '../lib/launch-recipe.js';

export interface Stores {
  lab: LabApi;
  i18n: LocaleStore;
  app: AppStore;
  nav: NavStore;
  training: TrainingStore;
  model: ModelStore;
  drawing: DrawingStore;
  evaluation: EvaluationStore;
  /** The Train view's form (also read by the Space shortcut and the menu's Start/Pause). */
  trainForm: TrainFormStore;
  lesson: LessonStore;
  /** The Filters timeline: the snapshots of the model that is open. */
  timeline: TimelineStore;
  /** Compare runs: earlier runs overlaid on the Train view's charts. */
  compare: CompareStore;
  /** Resolves true when `action` may replace the model: nothing unsaved, or the user saved or discarded it. */
  confirmDiscard(action: DiscardAction): Promise<boolean>;
  /** Fetches host info, run status and the current model; App calls it once on mount. */
  init(): Promise<void>;
}

/** Creates every store once, each subscribed to the LabApi once. */
export function createStores(lab: LabApi, i18n: LocaleStore = new LocaleStore()): Stores {
  const app = new AppStore(lab, i18n);
  const training = new TrainingStore(lab);
  const model = new ModelStore(lab, training);
  app.onRestarted(() => {
    void training.init();
    void model.reload();
  });
  const nav = new NavStore();
  const trainForm = new TrainFormStore();
  return {
    confirmDiscard: (action) => confirmDiscard(action, {
      summary: model.summary,
      phase: training.phase,
      ask: (asked) => app.askDiscard(asked),
      save: async () => {
        await app.saveDialogClosed();
        return model.summary?.unsaved === false;
      },
    }),
    lab,
    i18n,
    app,
    nav,
    training,
    model,
    drawing: new DrawingStore(model),
    evaluation: new EvaluationStore(lab, model),
    trainForm,
    lesson: new LessonStore(nav),
    timeline: new TimelineStore(lab, model, training),
    compare: new CompareStore(lab, training, model),
    init: async () => {
      const loadsBefore = trainForm.recipeLoads;
      await Promise.all([app.init(), training.init(), model.init()]);
      const variant = launchRecipe({
        launchVariant: training.active ? training.variant : model.summary?.variant,
        formVariant: trainForm.variant, edited: trainForm.edited, chosenMeanwhile: trainForm.recipeLoads !== loadsBefore,
      });
      if (variant) trainForm.loadRecipe(variant);
    },
  };
}

const STORES = Symbol('lenet-lab stores');

/** Makes the stores reachable by every component below the caller (App calls it). */
export function provideStores(stores: Stores): void {
  setContext(STORES, stores);
}

/** The stores App provided; call during component initialisation. */
export function useStores(): Stores {
  const stores = getContext<Stores | undefined>(STORES);
  if (!stores) throw new Error('useStores() needs the stores: App provides them with provideStores()');
  return stores;
}

/** The active language: t(id, values) and the number formats. */
export function useI18n(): LocaleStore {
  return useStores().i18n;
}

export type { AppStore, Toast, DialogName } from './app.svelte.js';
export type { NavStore, FeatureInput } from './nav.svelte.js';
export type { ViewName } from '../../../common/views.js';
export type {
  TrainingStore, WeightSnapshot, BatchPoint, SmoothedBatches, EpochPoint, GradientPoint, TrainProgress, DoneEvent, StartedEvent,
} from './training.svelte.js';
export type { ModelStore } from './model.svelte.js';
export type { DrawingStore } from './drawing.svelte.js';
export { EvaluationStore, type DigitSample } from './evaluation.svelte.js';
export type { TrainFormStore, FormField, RecipeField } from './train-form.svelte.js';
export type { LocaleStore } from './locale.svelte.js';
export type { LessonStore } from './lesson.svelte.js';
export type { TimelineStore } from './timeline.svelte.js';
export type { CompareStore } from './compare.svelte.js';
export type { CompareCandidate } from '../lib/compare-runs.js';
export type { TensorData } from '../lib/wire-tensor.js';
export type { Prediction, Activation } from '../../../common/network/predict.js';
export type { VariantSpec } from '../../../common/network/variants.js';
