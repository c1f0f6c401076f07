// The lab worker's service: it owns the engine (backend, datasets, the current
// model, the trainer) and answers every invoke channel of the contract. It runs
// in the worker process; hosts only validate, forward and relay.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendReport } from '../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../engine/data/dataset.js';
import { UserError, errorMessage, isUserError } from '../common/errors.js';
import { loadModel, readModelMeta, saveModel, type ModelMeta } from '../engine/io/model-store.js';
import { getVariant } from '../common/network/variants.js';
import { encodeBase64, modelToWire } from '../common/network/wire.js';
import type { DatasetRef, ResolvedTrainConfig, TrainerEvent } from '../common/protocol.js';
import { resolveRecipe, trainingCount } from '../engine/training/recipe.js';
import { evaluate, mistakesOf } from '../engine/training/evaluate.js';
import { Trainer, trainingWorkers, type EpochRecord } from '../engine/training/trainer.js';
import { availableCores, warmParallelEngine } from '../engine/training/parallel-trainer.js';
import { parseRequest, type EventName, type InvokeName, type LabInfo, type ModelSummary, type ResponseOf, type Result } from '../common/contract.js';
import { historyToCsv } from './history-csv.js';

export interface LabServiceOptions {
  modelsDir: string;
  assetsDir: string;
  transport: 'electron' | 'browser';
  appVersion: string;
  backend?: string;
  emit: (name: EventName, payload: unknown) => void;
}

interface CurrentModel {
  model: tfl.LayersModel;
  meta: ModelMeta;
  dir: string;
  builtin: boolean;
  unsaved: boolean;
}

type Handlers = { [K in InvokeName]?: (request: never) => Promise<ResponseOf<K>> | ResponseOf<K> };

export const builtinModelsDir = (assetsDir: string): string => path.join(assetsDir, 'models');

export async function createLabService(options: LabServiceOptions) {
  const backend: BackendReport = await initBackend(options.backend as never);
  // The second training engine starts and warms up with the service, not with the first run (a failure is that run's to report).
  if (trainingWorkers(undefined, backend.name, availableCores()) === 2) warmParallelEngine(backend.name).catch(() => undefined);
  const builtinDir = builtinModelsDir(options.assetsDir);
  let current: CurrentModel | null = null;
  let trainer: Trainer | null = null;
  let runId: string | null = null;
  let runHistory: EpochRecord[] = [];
  let trainingVariant: ModelSummary['variant'] | null = null;

  const mnist = (): Dataset => loadDataset({ kind: 'mnist' });
  const datasetOf = (ref?: DatasetRef): Dataset => loadDataset(ref ?? { kind: 'mnist' });

  const summaryOf = (c: CurrentModel): ModelSummary => ({
    name: c.meta.name, dir: c.dir, variant: c.meta.variant, dataset: c.meta.dataset, backend: c.meta.backend,
    testAccuracy: c.meta.testAccuracy, savedAt: c.meta.savedAt, builtin: c.builtin, unsaved: c.unsaved,
  });

  const replaceCurrent = (next: CurrentModel): void => {
    if (current && current.model !== next.model) current.model.dispose();
    current = next;
    options.emit('modelChanged', summaryOf(next));
  };

  const requireModel = (): CurrentModel => {
    if (!current) throw new UserError('not-found', 'No model is loaded yet: train one or open a saved model.');
    return current;
  };
  const requireIdle = (what: string): void => {
    if (trainer && trainer.phase === 'running') throw new UserError('busy', `Cannot ${what} while training runs: pause or stop it first.`);
  };

  // The drawing pad must work on first launch: open the shipped modern model.
  const defaultModel = path.join(builtinDir, 'modern');
  if (fs.existsSync(path.join(defaultModel, 'model.json'))) {
    try {
      const { model, meta } = await loadModel(defaultModel);
      current = { model, meta, dir: defaultModel, builtin: true, unsaved: false };
    } catch (e) {
      process.stderr.write(`lenet-lab: the shipped model could not be opened: ${errorMessage(e)}\n`);
    }
  }

  async function runTraining(config: ResolvedTrainConfig, id: string): Promise<void> {
    const spec = getVariant(config.variant);
    const emit = (event: TrainerEvent): void => {
      if (event.type === 'epoch') runHistory.push({ ...event });
      options.emit('trainerEvent', event);
    };
    try {
      const recipe = resolveRecipe(spec, config.recipe);
      const dataset = datasetOf(config.dataset);
      trainingCount(recipe, dataset.train.count, config.limit);
      const seed = config.seed ?? Math.floor(Math.random() * 2 ** 31);
      trainer = new Trainer({ runId: id, spec, recipe, dataset, limit: config.limit, testLimit: config.testLimit, seed, backend: backend.name, emit });
      trainingVariant = spec.name;
      runHistory = [];
      const result = await trainer.run();
      const meta: ModelMeta = {
        formatVersion: 1, name: `${spec.name}-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}`,
        variant: spec.name, dataset: dataset.name, datasetSource: config.dataset, recipe, history: { epochs: result.history }, backend: backend.name,
        savedAt: new Date().toISOString(), testAccuracy: Number.isFinite(result.done.testAccuracy) ? result.done.testAccuracy : null, seed,
      };
      replaceCurrent({ model: result.model, meta, dir: '', builtin: false, unsaved: true });
    } catch (e) {
      emit({ type: 'error', runId: id, message: errorMessage(e) });
      emit({ type: 'state', runId: id, phase: 'idle' });
    } finally {
      trainer = null;
      trainingVariant = null;
    }
  }

  const status = () => ({ phase: trainer?.phase ?? ('idle' as const), runId: trainer ? runId : null });

  const handlers: Handlers = {
    info: (): LabInfo => {
      const data = mnist();
      return {
        appVersion: options.appVersion, transport: options.transport, backend: backend.name, backendNote: backend.note,
        versions: { lenetLab: options.appVersion, node: process.versions.node, tfjs: tf.version_core, ...(process.versions.electron ? { electron: process.versions.electron } : {}) },
        dataset: { name: data.name, dir: data.dir, trainCount: data.train.count, testCount: data.test.count },
        modelsDir: options.modelsDir, canOpenDialogs: options.transport === 'electron',
      };
    },
    train: (config: ResolvedTrainConfig) => {
      if (trainer) throw new UserError('busy', 'A training run is already going: stop it before starting another.');
      runId = `run-${Date.now().toString(36)}`;
      void runTraining(config, runId);
      return { runId };
    },
    pause: () => (trainer?.pause(), status()),
    resume: () => (trainer?.resume(), status()),
    stop: () => (trainer?.stop(), status()),
    status,
    currentModel: () => {
      if (trainer && trainingVariant) {
        // Mid-run the renderer follows the model being trained.
        const summary: ModelSummary = {
          name: 'training…', dir: '', variant: trainingVariant, dataset: '', backend: backend.name,
          testAccuracy: null, savedAt: '', builtin: false, unsaved: true,
        };
        return { summary, tensors: modelToWire(trainer.model) };
      }
      const c = requireModel();
      return { summary: summaryOf(c), tensors: modelToWire(c.model) };
    },
    samples: (request: { split: 'train' | 'test'; dataset?: DatasetRef; indices: number[] }) => {
      const split = datasetOf(request.dataset ?? current?.meta.datasetSource)[request.split];
      const pixels = split.rows * split.cols;
      const out = new Uint8Array(request.indices.length * pixels);
      const labels = request.indices.map((index, i) => {
        if (index >= split.count) throw new UserError('invalid-request', `sample ${index} does not exist: the ${request.split} set has ${split.count} images.`);
        out.set(split.images.subarray(index * pixels, (index + 1) * pixels), i * pixels);
        return split.labels[index]!;
      });
      return { images: encodeBase64(out), labels, rows: split.rows, cols: split.cols };
    },
    evaluate: (request: { limit?: number }) => {
      requireIdle('evaluate');
      const c = requireModel();
      const spec = getVariant(c.meta.variant);
      const data = datasetOf(c.meta.datasetSource);
      const result = evaluate(c.model, spec, data.test, data.numClasses, request.limit);
      return {
        accuracy: result.accuracy, loss: result.loss, count: result.count, confusion: result.confusion,
        mistakes: mistakesOf(result, data.test.labels), predictions: Array.from(result.predictions), backend: backend.name,
      };
    },
    saveModel: async (request: { name: string }) => {
      requireIdle('save');
      const c = requireModel();
      const dir = path.resolve(options.modelsDir, request.name);
      if (path.dirname(dir) !== path.resolve(options.modelsDir)) {
        throw new UserError('invalid-request', `"${request.name}" is not a plain model name: it must stay inside ${options.modelsDir}`);
      }
      const meta: ModelMeta = { ...c.meta, name: request.name, savedAt: new Date().toISOString() };
      await saveModel(c.model, dir, meta);
      current = { ...c, meta, dir, builtin: false, unsaved: false };
      options.emit('modelChanged', summaryOf(current));
      return summaryOf(current);
    },
    listModels: () => {
      const entries: ModelSummary[] = [];
      for (const [root, builtin] of [[builtinDir, true], [options.modelsDir, false]] as const) {
        if (!fs.existsSync(root)) continue;
        for (const name of fs.readdirSync(root).sort()) {
          if (name.startsWith('.')) continue;
          const dir = path.join(root, name);
          try {
            const meta = readModelMeta(dir);
            entries.push({ name: meta.name, dir, variant: meta.variant, dataset: meta.dataset, backend: meta.backend, testAccuracy: meta.testAccuracy, savedAt: meta.savedAt, builtin, unsaved: false });
          } catch {
            // Not a model folder (or a broken one): opening it directly explains why.
          }
        }
      }
      return entries;
    },
    openModel: async (request: { dir: string }) => {
      requireIdle('open a model');
      const { model, meta } = await loadModel(request.dir);
      const builtin = path.resolve(request.dir).startsWith(path.resolve(builtinDir) + path.sep);
      replaceCurrent({ model, meta, dir: request.dir, builtin, unsaved: false });
      return summaryOf(current!);
    },
    historyCsv: () => historyToCsv(trainer ? runHistory : current?.meta.history.epochs ?? runHistory),
  };

  return {
    backend,
    async handle(name: InvokeName, payload: unknown): Promise<Result<unknown>> {
      const parsed = parseRequest(name, payload);
      if (!parsed.ok) return parsed;
      const handler = handlers[name] as ((request: unknown) => unknown) | undefined;
      if (!handler) return { ok: false, error: { code: 'unsupported', message: `${name} is answered by the host, not the trainer` } };
      try {
        return { ok: true, value: await handler(parsed.value) };
      } catch (e) {
        if (isUserError(e)) return { ok: false, error: { code: e.code === 'diverged' ? 'internal' : e.code, message: e.message } };
        return { ok: false, error: { code: 'internal', message: `${name} failed: ${errorMessage(e)}` } };
      }
    },
  };
}

export type LabService = Awaited<ReturnType<typeof createLabService>>;
