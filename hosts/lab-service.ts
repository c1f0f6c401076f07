// The lab worker's service: it owns the engine (backend, datasets, the current
// model, the trainer) and answers every invoke channel of the contract. It runs
// in the worker process; hosts only validate, forward and relay.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendReport } from '../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../engine/data/dataset.js';
import { UserError, errorMessage, failure, toLabError, type Result } from '../common/errors.js';
import { loadModel, readModelMeta, recoverModelsFolder, saveModel, type ModelMeta } from '../engine/io/model-store.js';
import { getVariant } from '../common/network/variants.js';
import { encodeBase64, modelToWire } from '../common/network/wire.js';
import type { DatasetRef, TrainerEvent } from '../common/protocol.js';
import { prepareTrainingRun } from '../engine/training/run.js';
import { evaluate, mistakesOf } from '../engine/training/evaluate.js';
import { Trainer, trainingWorkers, type EpochRecord } from '../engine/training/trainer.js';
import { availableCores, warmParallelEngine } from '../engine/training/parallel-trainer.js';
import { warmUpTrainingInTurns } from '../engine/training/warm-up.js';
import type { EventName, InvokeName, LabInfo, ModelSummary, ParsedRequestOf, ResponseOf } from '../common/contract.js';
import { batchesToCsv, confusionToCsv, historyToCsv, mistakesToCsv } from './history-csv.js';
import { FALLBACK_NOTE_ENV } from './host-setup.js';
import { RunRecorder, kernelToWire, type RunRecord } from '../common/run-record.js';
import { checkModelName } from '../common/model-name.js';
import { decodeBase64 } from '../common/network/wire.js';
import { importModelFile, modelFileName, modelFileOf } from '../engine/io/model-file.js';
import type { EvalResult, ModelHistory, ModelSnapshots } from '../common/contract.js';

export interface LabServiceOptions {
  modelsDir: string;
  assetsDir: string;
  transport: 'electron' | 'browser';
  appVersion: string;
  backend?: string;
  emit: (name: EventName, payload: unknown) => void;
  /**
   * Warm this thread's own engine too once the second engine is warm (the trainer process does: a run's first
   * steps then find both engines' code optimised): throwaway steps one per turn of the event loop, ending when a
   * run starts. Off unless asked, so that a service made for a test answers without that work beside it.
   */
  warmUp?: boolean;
}

interface CurrentModel {
  model: tfl.LayersModel;
  meta: ModelMeta;
  dir: string;
  builtin: boolean;
  unsaved: boolean;
}

type Handlers = { [K in InvokeName]?: (request: ParsedRequestOf<K>) => Promise<ResponseOf<K>> | ResponseOf<K> };

export const builtinModelsDir = (assetsDir: string): string => path.join(assetsDir, 'models');
/** The recovery slot: a hidden folder beside the saved models (names cannot start with a dot, so no model is ever there). */
export const recoveryParentDir = (modelsDir: string): string => path.join(modelsDir, '.recovery');
export const recoveryDir = (modelsDir: string): string => path.join(recoveryParentDir(modelsDir), 'last-run');

const summaryFromMeta = (meta: ModelMeta, dir: string, builtin: boolean, unsaved: boolean): ModelSummary => ({
  name: meta.name, dir, variant: meta.variant, dataset: meta.dataset, backend: meta.backend,
  testAccuracy: meta.testAccuracy, savedAt: meta.savedAt, builtin, unsaved,
});

const nullIfNaN = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** A model's history for the page (NaN as null, so JSON and the contract carry it alike). */
interface ModelData { name: string; variant: ModelMeta['variant']; epochs: readonly EpochRecord[]; run: RunRecord | undefined }

function historyView({ name, variant, epochs, run }: ModelData): ModelHistory {
  return {
    name, variant, recorded: run !== undefined,
    epochs: epochs.map((e) => ({
      epoch: e.epoch, epochs: e.epochs, trainLoss: nullIfNaN(e.trainLoss), trainAccuracy: nullIfNaN(e.trainAccuracy),
      testLoss: nullIfNaN(e.testLoss), testAccuracy: nullIfNaN(e.testAccuracy), seconds: e.seconds || 0,
      imagesPerSecond: e.imagesPerSecond || 0, learningRate: e.learningRate || 0,
    })),
    batches: (run?.batches ?? []).map((b) => ({ ...b, loss: nullIfNaN(b.loss), accuracy: nullIfNaN(b.accuracy) })),
    gradientLayers: run?.gradientLayers ?? [],
    gradients: (run?.gradients ?? []).map((g) => ({ ...g, norms: g.norms.map(nullIfNaN) })),
  };
}

function snapshotsView({ name, variant, run }: ModelData): ModelSnapshots {
  return {
    name, variant,
    snapshots: (run?.snapshots ?? []).map((s) => ({ step: s.step, epoch: s.epoch, batch: s.batch, tensors: s.kernels.map(kernelToWire) })),
  };
}

export async function createLabService(options: LabServiceOptions) {
  const backend: BackendReport = await initBackend(options.backend as never);
  // The second training engine starts and warms up with the service, not with the first run (a failure is that run's to report).
  const secondEngine = trainingWorkers(undefined, backend.name, availableCores()) === 2
    ? warmParallelEngine(backend.name).catch(() => undefined) : Promise.resolve();
  const builtinDir = builtinModelsDir(options.assetsDir);
  let current: CurrentModel | null = null;
  let trainer: Trainer | null = null;
  let runId: string | null = null;
  let runHistory: EpochRecord[] = [];
  let runRecorder: RunRecorder | null = null;
  /** The model whose run the recovery slot holds: saving it under a name empties the slot. */
  let recoveredModel: tfl.LayersModel | null = null;
  /** The recovery slot's write in progress, if any. */
  let recoverySave: Promise<void> | null = null;
  /** Models saved under a name: a recovery write that ends after such a save empties the slot. */
  const savedByName = new WeakSet<tfl.LayersModel>();
  /** The last evaluation, for the confusion and mistakes CSVs; only valid for that model. */
  let lastEvaluation: { model: tfl.LayersModel; result: EvalResult } | null = null;
  let trainingVariant: ModelSummary['variant'] | null = null;
  /** A train request is between its checks and its run's first event. */
  let starting = false;
  /** The run's end: its model becomes current, then the trainer is released. */
  let runEnding: Promise<unknown> | null = null;

  const mnist = (): Dataset => loadDataset({ kind: 'mnist' });
  const datasetOf = (ref?: DatasetRef): Dataset => loadDataset(ref ?? { kind: 'mnist' });

  const summaryOf = (c: CurrentModel): ModelSummary => summaryFromMeta(c.meta, c.dir, c.builtin, c.unsaved);

  const replaceCurrent = (next: CurrentModel): void => {
    if (current && current.model !== next.model) {
      // A model being written to the recovery slot is disposed once that write is done.
      const old = current.model;
      if (recoverySave) void recoverySave.finally(() => old.dispose());
      else old.dispose();
    }
    current = next;
    options.emit('modelChanged', summaryOf(next));
  };

  const requireModel = (): CurrentModel => {
    if (!current) throw new UserError('not-found', 'No model is loaded yet: train one or open a saved model.', { what: 'model' });
    return current;
  };
  // A run's `done` reaches the page only once its model is current, but its `idle` state comes before: a Save
  // pressed in between waits for that moment instead of saving the model from before the run.
  const settleEndingRun = async (): Promise<void> => {
    if (!starting && trainer && trainer.phase === 'idle' && runEnding) await runEnding.catch(() => undefined);
  };
  // Until a run ends, `current` is still the model from before it: saving, opening or exporting then would act
  // on a model the page no longer shows (a save during start-up once wrote the old model under the new name).
  const requireIdle = (what: string): void => {
    if (starting || (trainer && trainer.phase !== 'idle')) throw new UserError('busy', `Cannot ${what} while a training run is going: stop it first.`, { action: what, reason: 'training' });
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

  /**
   * Starts a run and resolves once it has started (its first event), so a run that cannot start (a missing
   * dataset, a batch larger than the data, engines that fail) is the train request's error, not an ok.
   */
  async function startTraining(config: ParsedRequestOf<'train'>, id: string): Promise<void> {
    const prepared = prepareTrainingRun(config);
    let started: () => void = () => {};
    const firstEvent = new Promise<void>((resolve) => (started = resolve));
    let answered = false;
    const recorder = new RunRecorder();
    runRecorder = recorder;
    /** The run's `done`, held until its model is current: a page that acts on `done` then finds that model here. */
    let heldDone: TrainerEvent | null = null;
    const emit = (event: TrainerEvent): void => {
      if (!answered) {
        answered = true;
        started();
      }
      if (event.type === 'epoch') runHistory.push({ ...event });
      recorder.add(event);
      if (event.type === 'done') heldDone = event;
      else options.emit('trainerEvent', event);
    };
    const running = prepared.start({ runId: id, backend: backend.name, emit });
    trainer = running.trainer;
    trainingVariant = prepared.spec.name;
    runHistory = [];
    const name = `${prepared.spec.name}-${new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-')}`;
    const run = running.finish(name).then(({ model, meta: runMeta, steps }) => {
      if (steps === 0) {
        // Stopped before its first batch: nothing was trained, so the model from before stays open (and the
        // recovery slot keeps the last real run). The page, which showed the run's blank model, goes back to it.
        model.dispose();
        if (current) options.emit('modelChanged', summaryOf(current));
        return;
      }
      const meta: ModelMeta = { ...runMeta, run: recorder.record() };
      // Current first, so a Save pressed at once saves this run; the slot is written after.
      replaceCurrent({ model, meta, dir: '', builtin: false, unsaved: true });
      // After the slot's previous write: two runs ending close together must both be kept, the later last.
      const write = (recoverySave ?? Promise.resolve()).then(() => saveRecovery(model, meta));
      recoverySave = write;
      void write.finally(() => {
        if (recoverySave === write) recoverySave = null;
      });
    }).finally(() => {
      trainer = null;
      trainingVariant = null;
      if (heldDone) options.emit('trainerEvent', heldDone);
      heldDone = null;
    });
    runEnding = run;
    const failedAtOnce = await Promise.race([firstEvent.then(() => null), run.then(() => null, (e: unknown) => (answered ? null : e))]);
    if (failedAtOnce !== null) {
      answered = true;
      throw failedAtOnce;
    }
    run.catch((e: unknown) => {
      emit({ type: 'error', runId: id, message: errorMessage(e) });
      emit({ type: 'state', runId: id, phase: 'idle' });
    });
  }

  /** Keeps the finished run in the recovery slot; a failure there must not lose the run itself. */
  async function saveRecovery(model: tfl.LayersModel, meta: ModelMeta): Promise<void> {
    try {
      fs.mkdirSync(recoveryParentDir(options.modelsDir), { recursive: true });
      recoverModelsFolder(recoveryParentDir(options.modelsDir));
      await saveModel(model, recoveryDir(options.modelsDir), meta);
      recoveredModel = model;
      if (savedByName.has(model)) discardRecovery();
    } catch (e) {
      process.stderr.write(`lenet-lab: the run could not be kept in the recovery slot: ${errorMessage(e)}\n`);
    }
  }

  function discardRecovery(): void {
    fs.rmSync(recoveryParentDir(options.modelsDir), { recursive: true, force: true });
    recoveredModel = null;
  }

  /** The metadata (and, for the open model mid-run, the live history) of a saved model or the open one. */
  const modelData = (dir: string | undefined): ModelData => {
    const of = (meta: ModelMeta): ModelData => ({ name: meta.name, variant: meta.variant, epochs: meta.history.epochs, run: meta.run });
    if (dir !== undefined) return of(readModelMeta(dir));
    if (trainer && runRecorder && trainingVariant) return { name: 'training…', variant: trainingVariant, epochs: runHistory, run: runRecorder.record() };
    return of(requireModel().meta);
  };

  const evaluateCurrent = (limit?: number): EvalResult => {
    requireIdle('evaluate');
    const c = requireModel();
    const spec = getVariant(c.meta.variant);
    const data = datasetOf(c.meta.datasetSource);
    const result = evaluate(c.model, spec, data.test, data.numClasses, limit);
    const answer: EvalResult = {
      accuracy: result.accuracy, loss: result.loss, count: result.count, confusion: result.confusion,
      mistakes: mistakesOf(result, data.test.labels), predictions: Array.from(result.predictions), backend: backend.name,
    };
    lastEvaluation = { model: c.model, result: answer };
    return answer;
  };

  const status = () => ({ phase: trainer?.phase ?? ('idle' as const), runId: trainer ? runId : null });

  const handlers: Handlers = {
    info: (): LabInfo => {
      const data = mnist();
      return {
        appVersion: options.appVersion, transport: options.transport, backend: backend.name,
        // The host's fallback ladder says why this worker runs on a lesser backend (hosts/host-setup.ts).
        backendNote: process.env[FALLBACK_NOTE_ENV] ? `${process.env[FALLBACK_NOTE_ENV]} ${backend.note}` : backend.note,
        versions: { lenetLab: options.appVersion, node: process.versions.node, tfjs: tf.version_core, ...(process.versions.electron ? { electron: process.versions.electron } : {}) },
        dataset: { name: data.name, dir: data.dir, trainCount: data.train.count, testCount: data.test.count },
        modelsDir: options.modelsDir, canOpenDialogs: options.transport === 'electron',
      };
    },
    train: async (config: ParsedRequestOf<'train'>) => {
      if (trainer || starting) throw new UserError('busy', 'A training run is already going: stop it before starting another.', { action: 'train', reason: 'training' });
      const id = `run-${Date.now().toString(36)}`;
      starting = true;
      try {
        runId = id;
        await startTraining(config, id);
      } finally {
        starting = false;
      }
      return { runId: id };
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
    samples: (request) => {
      const split = datasetOf(request.dataset ?? current?.meta.datasetSource)[request.split];
      const pixels = split.rows * split.cols;
      const out = new Uint8Array(request.indices.length * pixels);
      const labels = request.indices.map((index, i) => {
        if (index >= split.count) throw new UserError('invalid-request', `sample ${index} does not exist: the ${request.split} set has ${split.count} images.`, { field: 'indices', index, split: request.split, count: split.count });
        out.set(split.images.subarray(index * pixels, (index + 1) * pixels), i * pixels);
        return split.labels[index]!;
      });
      return { images: encodeBase64(out), labels, rows: split.rows, cols: split.cols };
    },
    evaluate: async (request) => {
      await settleEndingRun();
      return evaluateCurrent(request.limit);
    },
    saveModel: async (request) => {
      await settleEndingRun();
      requireIdle('save');
      const c = requireModel();
      const dir = path.resolve(options.modelsDir, request.name);
      if (path.dirname(dir) !== path.resolve(options.modelsDir)) {
        throw new UserError('invalid-request', `"${request.name}" is not a plain model name: it must stay inside ${options.modelsDir}`, { field: 'name', name: request.name, dir: options.modelsDir });
      }
      const meta: ModelMeta = { ...c.meta, name: request.name, savedAt: new Date().toISOString() };
      recoverModelsFolder(options.modelsDir, request.name);
      await saveModel(c.model, dir, meta);
      savedByName.add(c.model);
      if (c.model === recoveredModel) discardRecovery();
      current = { ...c, meta, dir, builtin: false, unsaved: false };
      options.emit('modelChanged', summaryOf(current));
      return summaryOf(current);
    },
    listModels: () => {
      // The app's own folder only: a save killed between its two renames gets its model back here.
      if (fs.existsSync(options.modelsDir)) recoverModelsFolder(options.modelsDir);
      const entries: ModelSummary[] = [];
      for (const [root, builtin] of [[builtinDir, true], [options.modelsDir, false]] as const) {
        if (!fs.existsSync(root)) continue;
        for (const name of fs.readdirSync(root).sort()) {
          if (name.startsWith('.')) continue;
          const dir = path.join(root, name);
          try {
            const meta = readModelMeta(dir);
            entries.push(summaryFromMeta(meta, dir, builtin, false));
          } catch {
            // Not a model folder (or a broken one): opening it directly explains why.
          }
        }
      }
      return entries;
    },
    openModel: async (request) => {
      await settleEndingRun();
      requireIdle('open a model');
      const inModelsDir = path.dirname(path.resolve(request.dir)) === path.resolve(options.modelsDir);
      if (inModelsDir) recoverModelsFolder(options.modelsDir, path.basename(path.resolve(request.dir)));
      const { model, meta } = await loadModel(request.dir);
      const builtin = path.resolve(request.dir).startsWith(path.resolve(builtinDir) + path.sep);
      replaceCurrent({ model, meta, dir: request.dir, builtin, unsaved: false });
      return summaryOf(current!);
    },
    historyCsv: () => historyToCsv(trainer ? runHistory : current?.meta.history.epochs ?? runHistory),

    // Classroom channels (issue 11).
    modelHistory: (request: { dir?: string }) => historyView(modelData(request.dir)),
    modelSnapshots: (request: { dir?: string }) => snapshotsView(modelData(request.dir)),
    exportModel: async (request: { dir?: string }) => {
      let bytes: Uint8Array;
      let name: string;
      if (request.dir !== undefined) {
        const { model, meta } = await loadModel(request.dir);
        try {
          bytes = await modelFileOf(model, meta);
        } finally {
          model.dispose();
        }
        name = meta.name;
      } else {
        await settleEndingRun();
        requireIdle('export');
        const c = requireModel();
        bytes = await modelFileOf(c.model, c.meta);
        name = c.meta.name;
      }
      const fileName = modelFileName(checkModelName(name).ok ? name : 'model');
      return { fileName, mimeType: 'application/octet-stream', base64: Buffer.from(bytes).toString('base64') };
    },
    importModel: async (request: { base64: string; fileName?: string; name?: string }) => {
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64(request.base64);
      } catch (e) {
        throw new UserError('invalid-request', `importModel: the upload is not base64 (${errorMessage(e)})`);
      }
      const what = request.fileName ? `"${request.fileName.slice(0, 80)}"` : 'the uploaded file';
      fs.mkdirSync(options.modelsDir, { recursive: true });
      recoverModelsFolder(options.modelsDir);
      const { dir, meta } = await importModelFile(bytes, what, options.modelsDir, request.name);
      return summaryFromMeta(meta, dir, false, false);
    },
    exportCsv: (request: { kind: 'epochs' | 'batches' | 'confusion' | 'mistakes' }) => {
      const { name, epochs, run } = modelData(undefined);
      const base = checkModelName(name).ok ? name : 'model';
      const fileName = `${base}-${request.kind}.csv`;
      switch (request.kind) {
        case 'epochs': return { fileName, text: historyToCsv(epochs) };
        case 'batches': return { fileName, text: batchesToCsv(run ?? { batches: [], gradientLayers: [], gradients: [], snapshots: [] }) };
        case 'confusion':
        case 'mistakes': {
          const c = requireModel();
          const result = lastEvaluation?.model === c.model ? lastEvaluation.result : evaluateCurrent();
          return { fileName, text: request.kind === 'confusion' ? confusionToCsv(result.confusion) : mistakesToCsv(result.mistakes) };
        }
      }
    },
    recoveryInfo: () => {
      const dir = recoveryDir(options.modelsDir);
      if (!fs.existsSync(recoveryParentDir(options.modelsDir))) return null;
      recoverModelsFolder(recoveryParentDir(options.modelsDir));
      try {
        const meta = readModelMeta(dir);
        return summaryFromMeta(meta, dir, false, true);
      } catch {
        return null; // nothing kept, or a slot a crash left unreadable: nothing to offer
      }
    },
    restoreRecovery: async () => {
      await settleEndingRun();
      // The slot's write in progress first: restored from under it, the run's model would be taken for the slot's
      // once the write ends, and saving the restored model would then leave the slot behind.
      await recoverySave;
      requireIdle('restore the last run');
      const parent = recoveryParentDir(options.modelsDir);
      if (fs.existsSync(parent)) recoverModelsFolder(parent);
      const { model, meta } = await loadModel(recoveryDir(options.modelsDir));
      replaceCurrent({ model, meta, dir: '', builtin: false, unsaved: true });
      recoveredModel = model;
      return summaryOf(current!);
    },
    discardRecovery: async () => {
      await recoverySave; // a write still in progress would bring the discarded run back
      discardRecovery();
      return null;
    },
  };

  // After the second engine's warm-up, not beside it: the other core stays free for the window while the app starts.
  const ownEngineWarm: Promise<number> = options.warmUp
    ? secondEngine.then(() => warmUpTrainingInTurns(() => trainer !== null || starting)).catch(() => 0)
    : Promise.resolve(0);

  return {
    backend,
    /** Steps this thread's engine took to warm up (0 when not asked to, or when it failed): resolves when it is done or a run stopped it. */
    ownEngineWarm,
    /** Answer one request, already parsed by the host (hosts/host-handler.ts): the worker does not parse twice. */
    async handle(name: InvokeName, request: unknown): Promise<Result<unknown>> {
      const handler = handlers[name] as ((request: unknown) => unknown) | undefined;
      if (!handler) return failure('unsupported', `${name} is answered by the host, not the trainer`, { channel: name });
      try {
        return { ok: true, value: await handler(request) };
      } catch (e) {
        return { ok: false, error: toLabError(e, `${name} failed`) };
      }
    },
  };
}

export type LabService = Awaited<ReturnType<typeof createLabService>>;
