// The lab service's classroom channels, fast: history and timeline views, CSV exports, one-file export and
// import, the recovery slot, the save and open folder checks, and a run's bookkeeping, on models written here
// with a hand-made run record (literal values) and on a linear run of 16 digits. classroom-service.test.ts
// checks the same channels end to end on real MNIST runs; this file is the one a mutation run can afford.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createLabService, recoveryDir, recoveryParentDir, type LabService } from '../../hosts/lab-service.js';
import { FALLBACK_NOTE_ENV } from '../../hosts/host-setup.js';
import { saveModel, readModelMeta } from '../../engine/io/model-store.js';
import { buildVariantModel, type ModelMetaInput } from '../../engine/io/model-format.js';
import { wireToFloat32 } from '../../common/network/wire.js';
import type { EventName } from '../../common/contract.js';
import type { TrainerEvent } from '../../common/protocol.js';
import { writeDatasetFolder } from './dataset-folder.js';

const ASSETS = fileURLToPath(new URL('../../assets', import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-classroom-fast-'));
const assetsDir = path.join(root, 'assets');
const builtinDir = path.join(assetsDir, 'models');
const modelsDir = path.join(root, 'models');
const digits = path.join(root, 'digits');
/** Saved models of the tests, outside the models folder. */
const shelf = path.join(root, 'shelf');
const events: { name: EventName; payload: any }[] = [];
let service: LabService;
const availableParallelism = os.availableParallelism;
/** Called as each event is emitted, before anything else runs: as a page that acts the instant it hears. */
let onEvent: ((name: EventName, payload: any) => void) | null = null;

/** A folder name an interrupted save leaves (atomic-folder.ts): `.name.old-<pid>-<8 hex>`. */
const oldCopyOf = (name: string): string => `.${name}.old-999999-0badcafe`;
/** A model left in `parent` as the old copy of `name` by a save cut short (written elsewhere, then moved there). */
async function writeOldCopy(parent: string, name: string, metaName: string): Promise<void> {
  const staged = path.join(shelf, `staged-${name}`);
  await writeModel(staged, metaName);
  fs.mkdirSync(parent, { recursive: true });
  fs.renameSync(staged, path.join(parent, oldCopyOf(name)));
}

const SAVED_AT = '2026-12-01T10:00:00.000Z';
const RECIPE = { optimizer: 'adam', learningRate: 0.001, momentum: 0, batchSize: 8, epochs: 2, lrDecay: 1, augmentShift: 0 } as const;
/** A run record written by hand: a NaN loss, a NaN norm, a batch without norms and a step with norms only. */
const RUN = {
  batches: [{ step: 1, epoch: 1, batch: 1, loss: 2.5, accuracy: 0.25 }, { step: 2, epoch: 1, batch: 2, loss: null, accuracy: 0.5 }],
  gradientLayers: ['F6'],
  gradients: [{ step: 2, epoch: 1, batch: 2, norms: [0.125] }, { step: 3, epoch: 2, batch: 1, norms: [null] }],
  // q = bytes 0, 51, 255 over [-1, 1]: values -1, -0.6, 1.
  snapshots: [{ step: 2, epoch: 1, batch: 2, kernels: [{ name: 'C1/kernel', shape: [3], min: -1, max: 1, q: Buffer.from([0, 51, 255]).toString('base64') }] }],
};
const EPOCHS = [
  { epoch: 1, epochs: 2, trainLoss: 0.5, trainAccuracy: 0.75, testLoss: null, testAccuracy: 0.5, seconds: 1.5, imagesPerSecond: 120, learningRate: 0.001 },
  { epoch: 2, epochs: 2, trainLoss: 0.25, trainAccuracy: 0.875, testLoss: 0.375, testAccuracy: 0.625, seconds: null, imagesPerSecond: null, learningRate: null },
];

/** A linear model with every weight zero (every class equally likely: the first class wins), saved in `dir`. */
async function writeModel(dir: string, name: string, extra: Partial<ModelMetaInput> = {}): Promise<void> {
  const { model } = buildVariantModel('linear');
  model.setWeights(model.getWeights().map((w) => tf.zerosLike(w)));
  const meta: ModelMetaInput = {
    formatVersion: 1, name, variant: 'linear', dataset: 'digits', datasetSource: { kind: 'folder', dir: digits }, recipe: RECIPE,
    history: { epochs: EPOCHS }, backend: 'cpu', savedAt: SAVED_AT, testAccuracy: 0.625, seed: 1, run: RUN, ...extra,
  };
  await saveModel(model, dir, meta);
  model.dispose();
}

type Answer = { ok: true; value: any } | { ok: false; error: { code: string; message: string; params?: unknown } };
const call = (name: Parameters<LabService['handle']>[0], payload: unknown = {}) => service.handle(name, payload) as Promise<Answer>;
const value = async (name: Parameters<LabService['handle']>[0], payload: unknown = {}): Promise<any> => {
  const answer = await call(name, payload);
  if (!answer.ok) throw new Error(`${name}: ${answer.error.code}: ${answer.error.message}`);
  return answer.value;
};
const trainerEvents = (): TrainerEvent[] => events.filter((e) => e.name === 'trainerEvent').map((e) => e.payload as TrainerEvent);
async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  // The shipped models: linear only (no "modern": the service starts with no model open).
  fs.cpSync(path.join(ASSETS, 'models', 'linear'), path.join(builtinDir, 'linear'), { recursive: true });
  writeDatasetFolder(digits, 16, 12);
  // One core as far as the service can tell: its runs train on one engine, without the second engine's
  // thread and its start-up (trainer-engines.test.ts tests two).
  os.availableParallelism = () => 1;
  // The service sets the backend up: models are built after it.
  service = await createLabService({ modelsDir, assetsDir, transport: 'browser', appVersion: '1.2.3', backend: 'cpu', emit: (name, payload) => {
    events.push({ name, payload });
    onEvent?.(name, payload);
  } });
  await writeModel(path.join(shelf, 'timeline'), 'timeline');
}, 60_000);
afterAll(() => {
  os.availableParallelism = availableParallelism;
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
});

const HISTORY = {
  name: 'timeline', variant: 'linear', recorded: true,
  epochs: [
    { epoch: 1, epochs: 2, trainLoss: 0.5, trainAccuracy: 0.75, testLoss: null, testAccuracy: 0.5, seconds: 1.5, imagesPerSecond: 120, learningRate: 0.001 },
    { epoch: 2, epochs: 2, trainLoss: 0.25, trainAccuracy: 0.875, testLoss: 0.375, testAccuracy: 0.625, seconds: 0, imagesPerSecond: 0, learningRate: 0 },
  ],
  batches: [{ step: 1, epoch: 1, batch: 1, loss: 2.5, accuracy: 0.25 }, { step: 2, epoch: 1, batch: 2, loss: null, accuracy: 0.5 }],
  gradientLayers: ['F6'],
  gradients: [{ step: 2, epoch: 1, batch: 2, norms: [0.125] }, { step: 3, epoch: 2, batch: 1, norms: [null] }],
};

describe('history and timeline', () => {
  it('a saved model\'s history: NaN as null, missing times as 0, its run record as recorded', async () => {
    expect(await value('modelHistory', { dir: path.join(shelf, 'timeline') })).toEqual(HISTORY);
  });

  it('a saved model\'s timeline: each kernel back to values over its own [min, max]', async () => {
    const view = await value('modelSnapshots', { dir: path.join(shelf, 'timeline') });
    expect(view).toMatchObject({ name: 'timeline', variant: 'linear', snapshots: [{ step: 2, epoch: 1, batch: 2, tensors: [{ name: 'C1/kernel', shape: [3] }] }] });
    expect(view.snapshots).toHaveLength(1);
    expect(view.snapshots[0].tensors).toHaveLength(1);
    const values = [...wireToFloat32(view.snapshots[0].tensors[0])];
    expect(values).toHaveLength(3);
    [-1, -0.6, 1].forEach((v, i) => expect(values[i]).toBeCloseTo(v, 6));
  });

  it('a model saved before runs were recorded: its epochs only, no batches, gradients or snapshots', async () => {
    const linear = path.join(builtinDir, 'linear');
    const history = await value('modelHistory', { dir: linear });
    expect(history).toMatchObject({ name: 'linear', variant: 'linear', recorded: false, batches: [], gradientLayers: [], gradients: [] });
    expect(history.epochs).toHaveLength(readModelMeta(linear).history.epochs.length);
    expect(await value('modelSnapshots', { dir: linear })).toEqual({ name: 'linear', variant: 'linear', snapshots: [] });
  });

  it('with no model open and no run: pause, resume and stop say idle; the history CSV is its header', async () => {
    for (const name of ['pause', 'resume', 'stop'] as const) expect(await value(name), name).toEqual({ phase: 'idle', runId: null });
    expect(await value('historyCsv')).toBe('epoch,trainLoss,trainAccuracy,testLoss,testAccuracy,seconds,imagesPerSecond,learningRate\n');
    // Samples come from MNIST then: its first test digit is a 7, its first training digit a 5.
    expect(await value('samples', { split: 'test', indices: [0] })).toMatchObject({ labels: [7], rows: 28, cols: 28 });
    expect((await value('samples', { split: 'train', indices: [0] })).labels).toEqual([5]);
  });

  it('with no model open, the open model\'s history is refused as not found', async () => {
    for (const name of ['modelHistory', 'modelSnapshots', 'exportCsv'] as const) {
      expect(await call(name, name === 'exportCsv' ? { kind: 'epochs' } : {}), name).toEqual({
        ok: false, error: { code: 'not-found', message: 'No model is loaded yet: train one or open a saved model.', params: { what: 'model' } },
      });
    }
  });
});

describe('CSV exports of the open model', () => {
  it('epochs and batches, named after the model', async () => {
    expect(await value('openModel', { dir: path.join(shelf, 'timeline') })).toMatchObject({ name: 'timeline', builtin: false, unsaved: false });
    expect(await value('modelHistory')).toEqual(HISTORY);
    expect(await value('exportCsv', { kind: 'epochs' })).toEqual({
      fileName: 'timeline-epochs.csv',
      text: 'epoch,trainLoss,trainAccuracy,testLoss,testAccuracy,seconds,imagesPerSecond,learningRate\n'
        + '1,0.5,0.75,NaN,0.5,1.5,120,0.001\n2,0.25,0.875,0.375,0.625,NaN,NaN,NaN\n',
    });
    expect(await value('exportCsv', { kind: 'batches' })).toEqual({
      fileName: 'timeline-batches.csv',
      text: 'step,epoch,batch,loss,accuracy,gradientNorm F6\n1,1,1,2.5,0.25,\n2,1,2,NaN,0.5,0.125\n3,2,1,,,NaN\n',
    });
    // The history CSV the page's older button asks for: the same epochs.
    expect(await value('historyCsv')).toBe('epoch,trainLoss,trainAccuracy,testLoss,testAccuracy,seconds,imagesPerSecond,learningRate\n'
      + '1,0.5,0.75,NaN,0.5,1.5,120,0.001\n2,0.25,0.875,0.375,0.625,NaN,NaN,NaN\n');
  });

  it('confusion and mistakes are those of the last evaluation of this model; another model is evaluated afresh', async () => {
    // Every weight zero: every digit is called 0. The test set's labels are 0–9, 0, 1 (i % 10).
    const evaluation = await value('evaluate', { limit: 5 });
    expect(evaluation).toMatchObject({ count: 5, backend: 'cpu', predictions: [0, 0, 0, 0, 0] });
    expect(evaluation.confusion.map((row: number[]) => row.join(''))).toEqual(['1000000000', '1000000000', '1000000000', '1000000000', '1000000000', ...Array(5).fill('0000000000')]);
    const header = 'true \\ predicted,0,1,2,3,4,5,6,7,8,9';
    const rows = (counts: number[]) => counts.map((n, label) => `${label},${n},0,0,0,0,0,0,0,0,0`).join('\n');
    expect(await value('exportCsv', { kind: 'confusion' })).toEqual({ fileName: 'timeline-confusion.csv', text: `${header}\n${rows([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])}\n` });
    const mistakes = await value('exportCsv', { kind: 'mistakes' });
    expect(mistakes.fileName).toBe('timeline-mistakes.csv');
    const lines = mistakes.text.trim().split('\n');
    expect(lines[0]).toBe('index,label,predicted,confidence');
    expect(lines.slice(1).map((l: string) => l.split(',').slice(0, 3).join(',')).sort()).toEqual(['1,1,0', '2,2,0', '3,3,0', '4,4,0']);
    // The same file opened again is another model: its CSV is a fresh evaluation of the whole test set.
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    expect(await value('exportCsv', { kind: 'confusion' })).toEqual({ fileName: 'timeline-confusion.csv', text: `${header}\n${rows([2, 2, 1, 1, 1, 1, 1, 1, 1, 1])}\n` });
    expect((await value('exportCsv', { kind: 'mistakes' })).text.trim().split('\n')).toHaveLength(1 + 10);
  });

  it('a model whose name cannot be a file name is exported as "model"', async () => {
    await writeModel(path.join(shelf, 'odd'), 'a/b');
    await value('openModel', { dir: path.join(shelf, 'odd') });
    expect((await value('exportCsv', { kind: 'epochs' })).fileName).toBe('model-epochs.csv');
    expect((await value('exportModel', {})).fileName).toBe('model.lenetlab');
    expect((await value('exportModel', { dir: path.join(shelf, 'odd') })).fileName).toBe('model.lenetlab');
  });

  it('a model with no run record exports a batches CSV of the header only', async () => {
    await value('openModel', { dir: path.join(builtinDir, 'linear') });
    expect(await value('exportCsv', { kind: 'batches' })).toEqual({ fileName: 'linear-batches.csv', text: 'step,epoch,batch,loss,accuracy\n' });
  });
});

describe('samples', () => {
  it('from the open model\'s dataset, or the one asked for; each its own pixels; past the end refused', async () => {
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    // Image i lights pixel i of its 28×28 (dataset-folder.ts): the folder's, not MNIST's.
    const samples = await value('samples', { split: 'test', indices: [11, 3] });
    expect(samples).toMatchObject({ labels: [1, 3], rows: 28, cols: 28 });
    const pixels = Buffer.from(samples.images, 'base64');
    expect(pixels).toHaveLength(2 * 784);
    expect([...pixels.keys()].filter((i) => pixels[i] !== 0)).toEqual([11, 784 + 3]);
    expect((await value('samples', { split: 'train', indices: [15], dataset: { kind: 'folder', dir: digits } })).labels).toEqual([5]);
    expect(await call('samples', { split: 'test', indices: [0, 12] })).toEqual({
      ok: false, error: { code: 'invalid-request', message: 'sample 12 does not exist: the test set has 12 images.', params: { field: 'indices', index: 12, split: 'test', count: 12 } },
    });
  });

  it('a request the host let through broken fails as internal, naming the channel', async () => {
    const broken = await call('samples', { split: 'validation', indices: [0] });
    expect(broken).toMatchObject({ ok: false, error: { code: 'internal', params: { context: 'samples failed' } } });
    expect(!broken.ok && broken.error.message).toMatch(/^samples failed: /);
  });

  it('a channel the host answers is refused here, by name', async () => {
    expect(await call('restartTrainer')).toEqual({
      ok: false, error: { code: 'unsupported', message: 'restartTrainer is answered by the host, not the trainer', params: { channel: 'restartTrainer' } },
    });
  });
});

describe('one-file export and import', () => {
  it('a saved model is exported without opening it (and nothing is left loaded); the open one alike', async () => {
    await value('openModel', { dir: path.join(builtinDir, 'linear') });
    const tensors = tf.memory().numTensors;
    const file = await value('exportModel', { dir: path.join(shelf, 'timeline') });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(file.fileName).toBe('timeline.lenetlab');
    expect(file.mimeType).toBe('application/octet-stream');
    expect(Buffer.from(file.base64, 'base64').subarray(0, 8).toString('latin1')).toBe('LENETLAB');
    // The open model is still the shipped one.
    expect((await value('currentModel')).summary).toMatchObject({ name: 'linear', builtin: true });
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    expect(await value('exportModel', {})).toEqual(file);
  });

  it('an upload is saved into the models folder (made if missing), named as asked, and not opened', async () => {
    const file = await value('exportModel', { dir: path.join(shelf, 'timeline') });
    const imported = await value('importModel', { base64: file.base64, fileName: 'timeline.lenetlab', name: 'from a friend' });
    expect(imported).toEqual({
      name: 'from a friend', dir: path.join(modelsDir, 'from a friend'), variant: 'linear', dataset: 'digits', backend: 'cpu',
      testAccuracy: 0.625, savedAt: SAVED_AT, builtin: false, unsaved: false,
    });
    expect(await value('modelHistory', { dir: imported.dir })).toEqual({ ...HISTORY, name: 'from a friend' });
    expect((await value('currentModel')).summary.name).toBe('timeline');
    // Its own name when none is asked for.
    expect(await value('importModel', { base64: file.base64 })).toMatchObject({ name: 'timeline', dir: path.join(modelsDir, 'timeline') });
  });

  it('an import first finishes a save that was cut short in the models folder', async () => {
    await writeOldCopy(modelsDir, 'half saved', 'half saved');
    const file = await value('exportModel', { dir: path.join(shelf, 'timeline') });
    await value('importModel', { base64: file.base64, name: 'another' });
    expect(fs.readdirSync(modelsDir)).toContain('half saved');
    expect(fs.readdirSync(modelsDir)).not.toContain(oldCopyOf('half saved'));
  });

  it('refusals name the upload (its first 80 characters) or "the uploaded file"', async () => {
    const notBase64 = await call('importModel', { base64: 'abc' });
    expect(notBase64).toEqual({ ok: false, error: { code: 'invalid-request', message: 'importModel: the upload is not base64 (invalid base64: length 3 is not a multiple of 4)', params: {} } });
    const zip = Buffer.from('PK\u0003\u0004 a zip').toString('base64');
    const unnamed = await call('importModel', { base64: zip });
    expect(!unnamed.ok && unnamed.error.message).toMatch(/^the uploaded file is not a LeNet Lab model file: /);
    const named = await call('importModel', { base64: zip, fileName: `${'x'.repeat(80)}yz.zip` });
    expect(!named.ok && named.error.message).toMatch(new RegExp(`^"${'x'.repeat(80)}" is not a LeNet Lab model file: `));
  });
});

describe('the recovery slot', () => {
  it('nothing to offer: no slot, an empty slot, an unreadable one', async () => {
    expect(await value('recoveryInfo')).toBeNull();
    fs.mkdirSync(recoveryParentDir(modelsDir), { recursive: true });
    expect(await value('recoveryInfo')).toBeNull();
    fs.mkdirSync(recoveryDir(modelsDir));
    fs.writeFileSync(path.join(recoveryDir(modelsDir), 'model.json'), '{ cut short');
    expect(await value('recoveryInfo')).toBeNull();
    expect(await value('discardRecovery')).toBeNull();
    expect(fs.existsSync(recoveryParentDir(modelsDir))).toBe(false);
    expect(await call('restoreRecovery')).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('a kept run is offered as unsaved, in the slot\'s folder, and is never a model in the list', async () => {
    await writeModel(recoveryDir(modelsDir), 'kept run');
    expect(await value('recoveryInfo')).toEqual({
      name: 'kept run', dir: recoveryDir(modelsDir), variant: 'linear', dataset: 'digits', backend: 'cpu',
      testAccuracy: 0.625, savedAt: SAVED_AT, builtin: false, unsaved: true,
    });
    expect((await value('listModels')).map((m: { name: string }) => m.name)).not.toContain('kept run');
    fs.rmSync(recoveryParentDir(modelsDir), { recursive: true });
  });

  it('a slot whose write was cut short between its renames is offered, and restored, from its old copy', async () => {
    await writeOldCopy(recoveryParentDir(modelsDir), 'last-run', 'cut short');
    expect(await value('recoveryInfo')).toMatchObject({ name: 'cut short', dir: recoveryDir(modelsDir) });
    fs.renameSync(recoveryDir(modelsDir), path.join(recoveryParentDir(modelsDir), oldCopyOf('last-run')));
    // Restored straight away, not asked about first.
    expect(await value('restoreRecovery')).toMatchObject({ name: 'cut short', dir: '', unsaved: true, builtin: false });
  });

  it('restored, it is the open model, unsaved; saving that model under a name empties the slot', async () => {
    events.length = 0;
    const restored = await value('restoreRecovery');
    expect(restored).toEqual({
      name: 'cut short', dir: '', variant: 'linear', dataset: 'digits', backend: 'cpu', testAccuracy: 0.625, savedAt: SAVED_AT, builtin: false, unsaved: true,
    });
    expect(events).toEqual([{ name: 'modelChanged', payload: restored }]);
    expect((await value('currentModel')).summary).toEqual(restored);
    expect(await value('modelHistory')).toEqual({ ...HISTORY, name: 'cut short' });
    const saved = await value('saveModel', { name: 'rescued' });
    expect(saved).toMatchObject({ name: 'rescued', dir: path.join(modelsDir, 'rescued'), unsaved: false, builtin: false });
    expect(fs.existsSync(recoveryParentDir(modelsDir))).toBe(false);
    expect(await value('recoveryInfo')).toBeNull();
  });

  it('saving another model keeps the slot', async () => {
    await writeModel(recoveryDir(modelsDir), 'kept run');
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    await value('saveModel', { name: 'unrelated' });
    expect(await value('recoveryInfo')).toMatchObject({ name: 'kept run' });
    expect(await value('discardRecovery')).toBeNull();
    expect(await value('recoveryInfo')).toBeNull();
  });
});

describe('save and open', () => {
  it('a save stays a plain name inside the models folder', async () => {
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    for (const name of ['sub/x', '..', '.', '../models-escape']) {
      expect(await call('saveModel', { name }), name).toEqual({
        ok: false, error: { code: 'invalid-request', message: `"${name}" is not a plain model name: it must stay inside ${modelsDir}`, params: { field: 'name', name, dir: modelsDir } },
      });
    }
    expect(fs.existsSync(path.join(modelsDir, 'sub'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'models-escape'))).toBe(false);
  });

  it('a save writes the model under its new name and time, opens it as saved and says so', async () => {
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    events.length = 0;
    const before = Date.now();
    const saved = await value('saveModel', { name: 'renamed' });
    expect(saved).toMatchObject({ name: 'renamed', dir: path.join(modelsDir, 'renamed'), variant: 'linear', builtin: false, unsaved: false });
    expect(Date.parse(saved.savedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(events).toEqual([{ name: 'modelChanged', payload: saved }]);
    expect(readModelMeta(path.join(modelsDir, 'renamed'))).toMatchObject({ name: 'renamed', savedAt: saved.savedAt });
    expect((await value('currentModel')).summary).toEqual(saved);
  });

  it('opening a model in the models folder finishes its cut-short save first; a shipped one is builtin, a look-alike folder is not', async () => {
    await writeOldCopy(modelsDir, 'lost', 'lost');
    expect(await value('openModel', { dir: path.join(modelsDir, 'lost') })).toMatchObject({ name: 'lost', dir: path.join(modelsDir, 'lost'), builtin: false });
    expect(await value('openModel', { dir: path.join(builtinDir, 'linear') })).toMatchObject({ name: 'linear', builtin: true, unsaved: false });
    // A model outside the models folder: a cut-short save of the same name in the models folder is not its business.
    await writeOldCopy(modelsDir, 'elsewhere', 'elsewhere');
    await writeModel(path.join(shelf, 'elsewhere'), 'elsewhere');
    expect(await value('openModel', { dir: path.join(shelf, 'elsewhere') })).toMatchObject({ name: 'elsewhere', dir: path.join(shelf, 'elsewhere') });
    expect(fs.readdirSync(modelsDir)).toContain(oldCopyOf('elsewhere'));
    expect(fs.readdirSync(modelsDir)).not.toContain('elsewhere');
    fs.rmSync(path.join(modelsDir, oldCopyOf('elsewhere')), { recursive: true });
    fs.cpSync(path.join(builtinDir, 'linear'), path.join(assetsDir, 'models-extra', 'linear'), { recursive: true });
    expect(await value('openModel', { dir: path.join(assetsDir, 'models-extra', 'linear') })).toMatchObject({ name: 'linear', builtin: false });
  });

  it('the list: shipped models first, then the folder\'s, each sorted, cut-short saves finished, hidden and broken folders left out', async () => {
    await writeOldCopy(modelsDir, 'again', 'again');
    fs.mkdirSync(path.join(modelsDir, 'broken'));
    const list = await value('listModels');
    expect(list.map((m: { name: string; builtin: boolean }) => `${m.name}:${m.builtin}`)).toEqual([
      'linear:true', 'again:false', 'another:false', 'from a friend:false', 'half saved:false', 'lost:false', 'renamed:false', 'rescued:false', 'timeline:false', 'unrelated:false',
    ]);
    const shipped = readModelMeta(path.join(builtinDir, 'linear'));
    expect(list[0]).toEqual({
      name: 'linear', dir: path.join(builtinDir, 'linear'), variant: 'linear', dataset: shipped.dataset, backend: shipped.backend,
      testAccuracy: shipped.testAccuracy, savedAt: shipped.savedAt, builtin: true, unsaved: false,
    });
  });
});

describe('a run\'s bookkeeping', () => {
  const RUN_REQUEST = { variant: 'linear', dataset: { kind: 'folder', dir: digits }, recipe: { epochs: 2, batchSize: 8 }, seed: 3 };
  const doneOf = (runId: string) => trainerEvents().find((e) => e.type === 'done' && e.runId === runId);

  it('a finished run: its model is current and announced before its done, named by variant and time, recorded, kept in the slot', async () => {
    await value('openModel', { dir: path.join(builtinDir, 'linear') });
    events.length = 0;
    const { runId } = await value('train', RUN_REQUEST);
    expect(runId).toMatch(/^run-[0-9a-z]+$/);
    await until('the run to end', () => doneOf(runId) !== undefined);
    expect(trainerEvents().find((e) => e.type === 'started')).toMatchObject({ engines: 1 });
    const changed = events.findIndex((e) => e.name === 'modelChanged' && e.payload.unsaved);
    const done = events.findIndex((e) => e.name === 'trainerEvent' && e.payload.type === 'done');
    expect(changed).toBeGreaterThanOrEqual(0);
    expect(changed).toBeLessThan(done);
    expect(trainerEvents().filter((e) => e.type === 'done')).toHaveLength(1);
    const stamp = new Date().toISOString().slice(0, 10);
    const summary = (await value('currentModel')).summary;
    expect(summary).toMatchObject({ variant: 'linear', dir: '', builtin: false, unsaved: true, dataset: 'digits' });
    expect(summary.name).toMatch(new RegExp(`^linear-${stamp}-\\d\\d-\\d\\d$`));
    expect(events[changed]!.payload).toEqual(summary);
    expect(await value('status')).toEqual({ phase: 'idle', runId: null });
    const history = await value('modelHistory');
    expect(history.recorded).toBe(true);
    expect(history.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    expect(history.batches.map((b: { step: number }) => b.step)).toEqual([1, 2, 3, 4]);
    await until('the slot', () => fs.existsSync(path.join(recoveryDir(modelsDir), 'model.json')));
    const kept = readModelMeta(recoveryDir(modelsDir));
    expect(kept.name).toBe(summary.name);
    expect(kept.history.epochs).toHaveLength(2);
    expect(kept.run?.batches.map((b) => b.step)).toEqual([1, 2, 3, 4]);
    expect(await value('recoveryInfo')).toMatchObject({ name: summary.name, unsaved: true });
  });

  it('mid-run the open model\'s history is this run\'s alone, live', async () => {
    events.length = 0;
    const { runId } = await value('train', { ...RUN_REQUEST, recipe: { epochs: 200, batchSize: 8 } });
    try {
      await until('two epochs', () => trainerEvents().filter((e) => e.type === 'epoch').length >= 2);
      await value('pause');
      const live = await value('modelHistory');
      expect(live.name).toBe('training…');
      expect(live.variant).toBe('linear');
      expect(live.recorded).toBe(true);
      const epochs = live.epochs.map((e: { epoch: number }) => e.epoch);
      expect(epochs.slice(0, 2)).toEqual([1, 2]);
      expect(epochs).toEqual(trainerEvents().filter((e) => e.type === 'epoch').map((e) => (e as { epoch: number }).epoch));
      expect((await value('historyCsv')).trim().split('\n')).toHaveLength(1 + epochs.length);
      expect((await value('exportCsv', { kind: 'epochs' })).fileName).toBe('model-epochs.csv');
      // The timeline so far: the run's own snapshots.
      expect((await value('modelSnapshots')).name).toBe('training…');
      expect(await value('status')).toEqual({ phase: 'paused', runId });
      expect((await value('currentModel')).summary).toEqual({
        name: 'training…', dir: '', variant: 'linear', dataset: '', backend: 'cpu', testAccuracy: null, savedAt: '', builtin: false, unsaved: true,
      });
      // Paused is still running: whatever would act on the model from before the run is refused, each in its words.
      const busy = (action: string) => ({ ok: false, error: { code: 'busy', message: `Cannot ${action} while a training run is going: stop it first.`, params: { action, reason: 'training' } } });
      expect(await call('saveModel', { name: 'mid-run' })).toEqual(busy('save'));
      expect(await call('openModel', { dir: path.join(shelf, 'timeline') })).toEqual(busy('open a model'));
      expect(await call('exportModel', {})).toEqual(busy('export'));
      expect(await call('evaluate', {})).toEqual(busy('evaluate'));
      expect(await call('restoreRecovery')).toEqual(busy('restore the last run'));
      expect(await call('exportCsv', { kind: 'confusion' })).toEqual(busy('evaluate'));
      expect(await call('train', RUN_REQUEST)).toEqual({
        ok: false, error: { code: 'busy', message: 'A training run is already going: stop it before starting another.', params: { action: 'train', reason: 'training' } },
      });
      // A saved model can still be exported.
      expect((await value('exportModel', { dir: path.join(shelf, 'timeline') })).fileName).toBe('timeline.lenetlab');
      expect(fs.existsSync(path.join(modelsDir, 'mid-run'))).toBe(false);
      expect(await value('resume')).toEqual({ phase: 'running', runId });
    } finally {
      await value('stop');
      await until('the run to end', () => doneOf(runId) !== undefined);
      // and its slot written (the first run's recipe had 2 epochs), before the next test empties the slot
      await until('the stopped run in the slot', () => {
        try {
          return readModelMeta(recoveryDir(modelsDir)).recipe.epochs === 200;
        } catch {
          return false;
        }
      });
    }
  });

  it('Save pressed the moment the run says idle (before its done) saves that run, not the model from before', async () => {
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    let saving: Promise<Answer> | null = null;
    onEvent = (name, payload) => {
      if (name === 'trainerEvent' && payload.type === 'state' && payload.phase === 'idle' && !saving) saving = call('saveModel', { name: 'at idle' });
    };
    try {
      const { runId } = await value('train', { ...RUN_REQUEST, recipe: { epochs: 3, batchSize: 8 } });
      await until('the run to go idle', () => saving !== null);
      expect(await saving!).toMatchObject({ ok: true, value: { name: 'at idle' } });
      expect(readModelMeta(path.join(modelsDir, 'at idle')).recipe.epochs).toBe(3);
      await until('the run to end', () => doneOf(runId) !== undefined);
      // Saved under a name before (or while) its slot was written: the slot is emptied once that write ends.
      await until('the slot emptied', () => !fs.existsSync(recoveryParentDir(modelsDir)), 10_000);
    } finally {
      onEvent = null;
    }
  });

  it('a model replaced is freed: at once, or once the slot has been written when the run\'s own is replaced meanwhile', async () => {
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    const base = tf.memory().numTensors;
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    expect(tf.memory().numTensors).toBe(base);
    await value('discardRecovery');
    let opening: Promise<Answer> | null = null;
    onEvent = (name, payload) => {
      // The run's model, the instant it is current: replaced while its slot is being written.
      if (name === 'modelChanged' && payload.unsaved && !opening) opening = call('openModel', { dir: path.join(shelf, 'timeline') });
    };
    try {
      const { runId } = await value('train', { ...RUN_REQUEST, recipe: { epochs: 1, batchSize: 8 } });
      await until('the run to end', () => doneOf(runId) !== undefined && opening !== null);
      expect(await opening!).toMatchObject({ ok: true, value: { name: 'timeline' } });
      await until('the slot written', () => fs.existsSync(path.join(recoveryDir(modelsDir), 'model.json')));
      await until('the run\'s model freed', () => tf.memory().numTensors === base, 5_000);
    } finally {
      onEvent = null;
    }
  });

  it('a run whose slot cannot be written is kept open all the same, and the reason said', async () => {
    await value('discardRecovery');
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      // A seed past the largest a saved model records (2^31 − 1): the contract refuses it, the slot's save too.
      const { runId } = await value('train', { ...RUN_REQUEST, recipe: { epochs: 1, batchSize: 8 }, seed: 2 ** 31 });
      await until('the run to end', () => doneOf(runId) !== undefined);
      await until('the slot\'s failure said', () => said.mock.calls.some((c) => String(c[0]).startsWith('lenet-lab:')));
      expect(said.mock.calls.map((c) => String(c[0])).filter((t) => t.startsWith('lenet-lab:'))).toEqual([
        expect.stringMatching(/^lenet-lab: the run could not be kept in the recovery slot: [\s\S]*seed[\s\S]*\n$/),
      ]);
    } finally {
      said.mockRestore();
    }
    expect((await value('currentModel')).summary).toMatchObject({ variant: 'linear', unsaved: true, dir: '' });
    expect(await value('recoveryInfo')).toBeNull();
  });

  it('a run that fails once started ends with its error and idle, and no done', async () => {
    events.length = 0;
    let thrown = false;
    onEvent = (name, payload) => {
      // The run's first batch report throws in the trainer's hands: a run failing past its start.
      if (name === 'trainerEvent' && payload.type === 'batch' && !thrown) {
        thrown = true;
        throw new Error('the listener broke');
      }
    };
    let runId = '';
    try {
      runId = (await value('train', { ...RUN_REQUEST, recipe: { epochs: 1, batchSize: 8 } })).runId;
      await until('the run to fail', () => trainerEvents().some((e) => e.type === 'error'));
    } finally {
      onEvent = null;
    }
    await until('its idle state', () => trainerEvents().some((e) => e.type === 'state' && e.phase === 'idle' && trainerEvents().indexOf(e) > trainerEvents().findIndex((x) => x.type === 'error')));
    const after = trainerEvents().slice(trainerEvents().findIndex((e) => e.type === 'error'));
    expect(after).toEqual([{ type: 'error', runId, message: 'the listener broke' }, { type: 'state', runId, phase: 'idle' }]);
    expect(events.filter((e) => e.payload === null || e.payload === undefined)).toEqual([]);
    expect(trainerEvents().some((e) => e.type === 'done')).toBe(false);
    expect(await value('status')).toEqual({ phase: 'idle', runId: null });
  });

  it('a run stopped before its first batch keeps nothing: the model from before is current again, and said so', async () => {
    await value('openModel', { dir: path.join(shelf, 'timeline') });
    await value('discardRecovery');
    events.length = 0;
    const { runId } = await value('train', RUN_REQUEST);
    expect(await value('stop')).toEqual({ phase: 'stopping', runId });
    await until('the run to end', () => doneOf(runId) !== undefined);
    expect(trainerEvents().filter((e) => e.type === 'batch')).toEqual([]);
    const changed = events.filter((e) => e.name === 'modelChanged').map((e) => e.payload);
    expect(changed).toEqual([expect.objectContaining({ name: 'timeline', dir: path.join(shelf, 'timeline'), unsaved: false })]);
    expect((await value('currentModel')).summary).toMatchObject({ name: 'timeline' });
    expect(await value('recoveryInfo')).toBeNull();
  });

  it('a run refused before it starts is the train request\'s error, and the next one may start', async () => {
    const refused = await call('train', { ...RUN_REQUEST, recipe: { epochs: 1, batchSize: 17 } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid-request', message: 'batch size 17 is larger than the 16 training images; choose a batch of at most 16' } });
    expect(await value('status')).toEqual({ phase: 'idle', runId: null });
    const { runId } = await value('train', { ...RUN_REQUEST, recipe: { epochs: 1, batchSize: 16 } });
    await until('the run to end', () => doneOf(runId) !== undefined);
    await until('its slot written', () => {
      try {
        return readModelMeta(recoveryDir(modelsDir)).recipe.batchSize === 16;
      } catch {
        return false;
      }
    });
  });
});

describe('info', () => {
  it('says the host\'s fallback note before the backend\'s own', async () => {
    const plain = await value('info');
    expect(plain.dataset).toMatchObject({ name: 'MNIST', trainCount: 60_000, testCount: 10_000 });
    expect(plain).toMatchObject({ appVersion: '1.2.3', transport: 'browser', backend: 'cpu', modelsDir, canOpenDialogs: false, versions: { lenetLab: '1.2.3', node: process.versions.node, tfjs: tf.version_core } });
    process.env[FALLBACK_NOTE_ENV] = 'The wasm backend failed.';
    try {
      expect((await value('info')).backendNote).toBe(`The wasm backend failed. ${plain.backendNote}`);
    } finally {
      delete process.env[FALLBACK_NOTE_ENV];
    }
  });
});

describe('start-up', () => {
  const start = (assets: string) => createLabService({ modelsDir, assetsDir: assets, transport: 'electron', appVersion: '1.2.3', backend: 'cpu', emit: () => {} });

  it('opens the shipped modern model, as shipped', async () => {
    const assets = path.join(root, 'assets-modern');
    fs.cpSync(path.join(ASSETS, 'models', 'modern'), path.join(assets, 'models', 'modern'), { recursive: true });
    const opened = await start(assets);
    expect(await opened.handle('currentModel', {})).toMatchObject({ ok: true, value: { summary: { variant: 'modern', dir: path.join(assets, 'models', 'modern'), builtin: true, unsaved: false } } });
    expect(await opened.handle('info', {})).toMatchObject({ ok: true, value: { transport: 'electron', canOpenDialogs: true } });
  });

  it('no shipped model (no folder, or one without its model.json): nothing open, and nothing to say', async () => {
    const assets = path.join(root, 'assets-empty');
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const folder of [false, true]) {
        if (folder) fs.mkdirSync(path.join(assets, 'models', 'modern'), { recursive: true });
        const none = await start(assets);
        expect(await none.handle('currentModel', {}), `modern folder: ${folder}`).toMatchObject({ ok: false, error: { code: 'not-found' } });
      }
      expect(said.mock.calls.map((c) => String(c[0])).filter((t) => t.startsWith('lenet-lab:'))).toEqual([]);
    } finally {
      said.mockRestore();
    }
  });

  it('a shipped model that cannot be opened is said on stderr, and no model is open', async () => {
    const assets = path.join(root, 'assets-broken');
    fs.mkdirSync(path.join(assets, 'models', 'modern'), { recursive: true });
    fs.writeFileSync(path.join(assets, 'models', 'modern', 'model.json'), '{ cut short');
    const said = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const broken = await start(assets);
      expect(said.mock.calls.map((c) => String(c[0])).filter((t) => t.startsWith('lenet-lab:'))).toEqual([
        expect.stringMatching(/^lenet-lab: the shipped model could not be opened: .+\n$/),
      ]);
      expect(await broken.handle('currentModel', {})).toMatchObject({ ok: false, error: { code: 'not-found' } });
      // With no model open, a run stopped before its first batch leaves none open, and ends cleanly.
      const heard: { name: string; payload: any }[] = [];
      const bare = await createLabService({ modelsDir, assetsDir: assets, transport: 'browser', appVersion: '1.2.3', backend: 'cpu', emit: (name, payload) => heard.push({ name, payload }) });
      const started = await bare.handle('train', { variant: 'linear', dataset: { kind: 'folder', dir: digits }, recipe: { epochs: 1, batchSize: 8 }, seed: 3 });
      expect(started.ok).toBe(true);
      expect(await bare.handle('stop', {})).toMatchObject({ ok: true, value: { phase: 'stopping' } });
      await until('the stopped run to end', () => heard.some((e) => e.payload?.type === 'done'));
      expect(heard.filter((e) => e.name !== 'trainerEvent' || e.payload.type === 'error')).toEqual([]);
      expect(await bare.handle('currentModel', {})).toMatchObject({ ok: false, error: { code: 'not-found' } });
    } finally {
      said.mockRestore();
    }
  });
});
