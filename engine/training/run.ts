// One training run from a request to a model with its metadata: the recipe resolved, the dataset
// loaded, the seed drawn, the trainer built, and when it finishes, the metadata every saved model
// carries. The CLI's `train` and the lab service (the app) both start runs here.
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadDataset, type Dataset } from '../data/dataset.js';
import { MODEL_FORMAT_VERSION, type ModelMeta } from '../io/model-store.js';
import { getVariant, type VariantSpec } from '../../common/network/variants.js';
import type { BackendName, DatasetRef, Recipe, RecipeOverrides, TrainerEvent, VariantName } from '../../common/protocol.js';
import { resolveRecipe, trainingCount } from './recipe.js';
import { Trainer, type DoneEvent, type EpochRecord, type TrainerOptions } from './trainer.js';

/** What a run is: checked (and its dataset loaded) before any tensor exists. */
export interface TrainingRunRequest {
  variant: VariantName;
  recipe?: RecipeOverrides;
  dataset?: DatasetRef;
  /** Train on the first N training images. */
  limit?: number;
  /** Evaluate on the first N test images. */
  testLimit?: number;
  /** Unset: a random seed, recorded in the metadata so the run can be repeated. */
  seed?: number;
}

/** How it trains: needs the backend initialised (the trainer builds the model at once). */
export interface TrainingRunStart {
  runId: string;
  backend: BackendName;
  emit: (event: TrainerEvent) => void;
  workers?: 1 | 2;
  throttle?: TrainerOptions['throttle'];
}

export interface FinishedRun {
  model: tfl.LayersModel;
  history: EpochRecord[];
  done: DoneEvent;
  meta: ModelMeta;
  /** Training steps taken: 0 when stopped before the first batch. */
  steps: number;
}

export interface StartedRun {
  trainer: Trainer;
  /** Trains to the end (or until stopped); the model's metadata is named `name`. */
  finish(name: string): Promise<FinishedRun>;
}

export interface PreparedRun {
  spec: VariantSpec;
  recipe: Recipe;
  dataset: Dataset;
  trainCount: number;
  seed: number;
  start(how: TrainingRunStart): StartedRun;
}

/** The metadata a model saved after a run carries. */
export function runMetadata(options: {
  name: string; spec: VariantSpec; dataset: Dataset; datasetSource: DatasetRef; recipe: Recipe; history: EpochRecord[];
  backend: BackendName; testAccuracy: number; seed: number; savedAt?: Date;
}): ModelMeta {
  return {
    formatVersion: MODEL_FORMAT_VERSION, name: options.name, variant: options.spec.name, dataset: options.dataset.name,
    datasetSource: options.datasetSource, recipe: options.recipe, history: { epochs: options.history }, backend: options.backend,
    savedAt: (options.savedAt ?? new Date()).toISOString(),
    testAccuracy: Number.isFinite(options.testAccuracy) ? options.testAccuracy : null, seed: options.seed,
  };
}

/**
 * A run checked before any tensor exists (a bad recipe, an unreadable dataset or a limit past the
 * training set throws a UserError here), then started with a backend: the trainer, and the model with
 * its metadata when it finishes.
 */
export function prepareTrainingRun(request: TrainingRunRequest): PreparedRun {
  const spec = getVariant(request.variant);
  const recipe = resolveRecipe(spec, request.recipe ?? {});
  // Stored in the model's metadata: a folder's path is absolute, so it means the same from any working folder.
  const datasetSource: DatasetRef =
    request.dataset?.kind === 'folder' ? { ...request.dataset, dir: path.resolve(request.dataset.dir) } : (request.dataset ?? { kind: 'mnist' });
  const dataset = loadDataset(datasetSource);
  const trainCount = trainingCount(recipe, dataset.train.count, request.limit);
  const seed = request.seed ?? Math.floor(Math.random() * 2 ** 31);
  return {
    spec, recipe, dataset, trainCount, seed,
    start(how) {
      const trainer = new Trainer({
        runId: how.runId, spec, recipe, dataset, limit: request.limit, testLimit: request.testLimit, seed, backend: how.backend, emit: how.emit,
        ...(how.workers ? { workers: how.workers } : {}),
        ...(how.throttle ? { throttle: how.throttle } : {}),
      });
      return {
        trainer,
        async finish(name) {
          const { model, history, done, steps } = await trainer.run();
          const meta = runMetadata({
            name, spec, dataset, datasetSource, recipe, history, backend: how.backend, testAccuracy: done.testAccuracy, seed,
          });
          return { model, history, done, meta, steps };
        },
      };
    },
  };
}
