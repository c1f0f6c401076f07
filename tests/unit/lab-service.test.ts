// The lab worker's service, channel by channel, in-process: a short run from start to saved model, the
// training controls (stop during start-up, busy while running), and the refusals each channel owes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabService, type LabService } from '../../hosts/lab-service.js';
import type { EventName } from '../../common/contract.js';
import type { TrainerEvent } from '../../common/protocol.js';
import * as tf from '@tensorflow/tfjs-core';
import { writeDatasetFolder } from './dataset-folder.js';

const ASSETS = fileURLToPath(new URL('../../assets', import.meta.url));
const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-service-'));
const events: { name: EventName; payload: unknown }[] = [];
let service: LabService;

/** Called with each event as the service emits it (synchronously, inside the trainer's emit). */
let onEvent: ((name: EventName, payload: unknown) => void) | null = null;
beforeAll(async () => {
  service = await createLabService({
    modelsDir, assetsDir: ASSETS, transport: 'browser', appVersion: '9.9.9', backend: 'wasm',
    emit: (name, payload) => {
      events.push({ name, payload });
      onEvent?.(name, payload);
    },
  });
});
// A run's recovery write may still be going: retry while it adds files.
afterAll(() => fs.rmSync(modelsDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }));

const call = async (name: Parameters<LabService['handle']>[0], payload: unknown = {}) => service.handle(name, payload) as Promise<
  { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }>;
const trainerEvents = (): TrainerEvent[] => events.filter((e) => e.name === 'trainerEvent').map((e) => e.payload as TrainerEvent);
async function until(what: string, check: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const doneOf = (runId: string) => trainerEvents().find((e) => e.type === 'done' && e.runId === runId) as Extract<TrainerEvent, { type: 'done' }> | undefined;
const SMALL = { variant: 'modern', recipe: { epochs: 1, batchSize: 32 }, limit: 256, testLimit: 100, seed: 4 };

describe('the lab service', () => {
  it('describes itself and starts with the shipped modern model', async () => {
    const info = await call('info');
    expect(info).toMatchObject({ ok: true, value: { appVersion: '9.9.9', transport: 'browser', backend: 'wasm', canOpenDialogs: false, modelsDir } });
    const current = await call('currentModel');
    expect(current).toMatchObject({ ok: true, value: { summary: { variant: 'modern', builtin: true, unsaved: false } } });
    expect(await call('status')).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
  });

  it('pause, resume and stop with no run do nothing and say idle; a channel the host answers is refused here', async () => {
    for (const name of ['pause', 'resume', 'stop'] as const) expect(await call(name), name).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    expect(await call('restartTrainer')).toEqual({
      ok: false, error: { code: 'unsupported', message: 'restartTrainer is answered by the host, not the trainer', params: { channel: 'restartTrainer' } },
    });
  });

  it('the history CSV of an opened model is its recorded epochs', async () => {
    const dir = path.join(ASSETS, 'models', 'lenet5');
    const epochs = (JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { userDefinedMetadata: { lenetLab: { history: { epochs: unknown[] } } } }).userDefinedMetadata.lenetLab.history.epochs;
    expect(epochs.length).toBeGreaterThan(0);
    expect(await call('openModel', { dir })).toMatchObject({ ok: true });
    const csv = await call('historyCsv');
    expect(String((csv as { value: string }).value).trim().split('\n')).toHaveLength(epochs.length + 1);
    expect(await call('openModel', { dir: path.join(ASSETS, 'models', 'modern') })).toMatchObject({ ok: true });
  });

  it('refuses a second run, saving and exporting while a run starts or runs; stop ends it', async () => {
    const started = await call('train', { ...SMALL, recipe: { epochs: 30, batchSize: 32 } });
    expect(started.ok).toBe(true);
    const runId = (started as { value: { runId: string } }).value.runId;
    // Still starting, or already training (a second engine still starting joins the run later).
    const { phase } = (await call('status') as { value: { phase: string } }).value;
    expect(['loading', 'running']).toContain(phase);
    expect(await call('status')).toMatchObject({ ok: true, value: { runId } });
    expect(await call('train', SMALL)).toMatchObject({ ok: false, error: { code: 'busy' } });
    // The model held now is the one from before the run: saving or exporting it under the run's name is refused.
    expect(await call('saveModel', { name: 'during-start-up' })).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(fs.existsSync(path.join(modelsDir, 'during-start-up'))).toBe(false);
    expect(await call('exportModel', {})).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(await call('stop')).toEqual({ ok: true, value: { phase: 'stopping', runId } });
    expect(await call('saveModel', { name: 'while-stopping' })).toMatchObject({ ok: false, error: { code: 'busy' } });
    await until('the stopped run to end', () => doneOf(runId) !== undefined);
    expect(doneOf(runId)).toMatchObject({ reason: 'stopped', epochsCompleted: 0 });
    expect(await call('status')).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    // A run that trained a batch is kept in the recovery slot, written after its done: wait for that write, so
    // that it cannot land during the next test. Then the shipped model again, for the tests below.
    if (trainerEvents().some((e) => e.runId === runId && e.type === 'batch')) {
      const { name } = (await call('currentModel') as { value: { summary: { name: string } } }).value.summary;
      const kept = async () => ((await call('recoveryInfo')) as { value: { name: string } | null }).value?.name === name;
      for (const end = Date.now() + 60_000; !(await kept());) {
        if (Date.now() > end) throw new Error('timed out waiting for the run\'s recovery write');
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(await call('openModel', { dir: path.join(ASSETS, 'models', 'modern') })).toMatchObject({ ok: true });
  });

  it('stops a run during start-up: it reports loading, then stopping, then ends with no batch, and keeps the model from before', async () => {
    const before = await call('recoveryInfo');
    // The stop lands as the run says it is loading, before its engines exist.
    onEvent = (name, payload) => {
      const event = payload as TrainerEvent;
      if (name === 'trainerEvent' && event.type === 'state' && event.phase === 'loading') void call('stop');
    };
    let runId: string;
    try {
      const started = await call('train', { ...SMALL, recipe: { epochs: 30, batchSize: 32 } });
      runId = (started as { value: { runId: string } }).value.runId;
    } finally {
      onEvent = null;
    }
    await until('the stopped run to end', () => doneOf(runId) !== undefined);
    expect(trainerEvents().filter((e) => e.runId === runId && e.type === 'state').map((e) => (e as { phase: string }).phase)).toEqual(['loading', 'stopping', 'idle']);
    expect(doneOf(runId)).toMatchObject({ reason: 'stopped', epochsCompleted: 0 });
    expect(trainerEvents().filter((e) => e.runId === runId && (e.type === 'epoch' || e.type === 'batch'))).toEqual([]);
    expect(await call('status')).toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    // Nothing was trained: the model from before the run is still the open one, saved as it was.
    const after = await call('currentModel');
    expect(after).toMatchObject({ ok: true, value: { summary: { variant: 'modern', builtin: true, unsaved: false } } });
    expect(await call('recoveryInfo')).toEqual(before);
  });

  it('trains a short run, refuses to evaluate or save while it runs, and holds the result unsaved', async () => {
    const started = await call('train', SMALL);
    const runId = (started as { value: { runId: string } }).value.runId;
    await until('the run to be running', () => trainerEvents().some((e) => e.runId === runId && e.type === 'started'));
    const during = await call('currentModel');
    expect((during as { value: { summary: unknown } }).value.summary).toEqual({
      name: 'training…', dir: '', variant: 'modern', dataset: '', backend: 'wasm', testAccuracy: null, savedAt: '', builtin: false, unsaved: true,
    });
    expect(await call('pause')).toMatchObject({ ok: true, value: { phase: 'paused', runId } });
    expect(await call('saveModel', { name: 'while-paused' })).toEqual({
      ok: false, error: { code: 'busy', message: 'Cannot save while a training run is going: stop it first.', params: { action: 'save', reason: 'training' } },
    });
    expect(fs.existsSync(path.join(modelsDir, 'while-paused'))).toBe(false);
    expect(await call('resume')).toMatchObject({ ok: true, value: { phase: 'running', runId } });
    const busy = await call('evaluate', { limit: 10 });
    if (!busy.ok) expect(busy.error.code).toBe('busy'); // unless the tiny run already finished
    await until('the run to end', () => doneOf(runId) !== undefined);
    expect(doneOf(runId)!.reason).toBe('completed');
    await until('the new model', () => events.some((e) => e.name === 'modelChanged' && (e.payload as { unsaved: boolean }).unsaved));
    expect(await call('currentModel')).toMatchObject({ ok: true, value: { summary: { variant: 'modern', unsaved: true, builtin: false } } });
    const csv = await call('historyCsv');
    expect(csv.ok && String(csv.value).trim().split('\n')).toHaveLength(2);
    const evaluated = await call('evaluate', { limit: 50 });
    expect(evaluated).toMatchObject({ ok: true, value: { count: 50, backend: 'wasm' } });
    expect((evaluated as { value: { predictions: number[] } }).value.predictions).toHaveLength(50);
  });

  it('saves under a plain name, lists it with the shipped models, and opens it again', async () => {
    const saved = await call('saveModel', { name: 'my run (1)' });
    expect(saved).toMatchObject({ ok: true, value: { name: 'my run (1)', builtin: false, unsaved: false, dir: path.join(modelsDir, 'my run (1)') } });
    expect(fs.existsSync(path.join(modelsDir, 'my run (1)', 'weights.bin'))).toBe(true);
    const list = await call('listModels');
    const names = (list as { value: { name: string; builtin: boolean }[] }).value.map((m) => `${m.name}:${m.builtin}`);
    expect(names).toEqual(expect.arrayContaining(['my run (1):false']));
    expect(names.filter((n) => n.endsWith(':true')).length).toBeGreaterThanOrEqual(2);
    // Not listed: a hidden folder (the recovery slot's kind), even holding a model, and a folder that is no model.
    fs.cpSync(path.join(modelsDir, 'my run (1)'), path.join(modelsDir, '.hidden'), { recursive: true });
    fs.mkdirSync(path.join(modelsDir, 'not a model'));
    const again = (await call('listModels')) as { value: { name: string; builtin: boolean; dir: string }[] };
    const mine = again.value.filter((m) => !m.builtin);
    expect(mine.map((m) => m.dir)).toEqual([path.join(modelsDir, 'my run (1)')]);
    const shipped = again.value.filter((m) => m.builtin).map((m) => path.basename(m.dir));
    expect(shipped).toEqual([...shipped].sort());
    expect(again.value.findIndex((m) => !m.builtin)).toBe(shipped.length);
    const opened = await call('openModel', { dir: path.join(ASSETS, 'models', 'lenet5') });
    expect(opened).toMatchObject({ ok: true, value: { variant: 'lenet5', builtin: true } });
    const back = await call('openModel', { dir: path.join(modelsDir, 'my run (1)') });
    expect(back).toMatchObject({ ok: true, value: { name: 'my run (1)', builtin: false } });
  });

  it('opening models one after another frees the one before: no tensor left behind', async () => {
    const lenet5 = path.join(ASSETS, 'models', 'lenet5');
    const modern = path.join(ASSETS, 'models', 'modern');
    expect(await call('openModel', { dir: lenet5 })).toMatchObject({ ok: true });
    const base = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      expect(await call('openModel', { dir: modern })).toMatchObject({ ok: true });
      expect(await call('openModel', { dir: lenet5 })).toMatchObject({ ok: true });
    }
    // Each replaced model is freed, at once or (while the last run is still being written to the recovery slot) once that write ends.
    await until('the replaced models to be freed', () => tf.memory().numTensors <= base, 60_000);
  });

  it('a model trained on a dataset folder is evaluated, and shows samples, from that folder', async () => {
    const folder = path.join(modelsDir, '..', `${path.basename(modelsDir)}-digits`);
    writeDatasetFolder(folder, 16, 12);
    try {
      const started = await call('train', { variant: 'linear', dataset: { kind: 'folder', dir: folder }, recipe: { epochs: 1, batchSize: 8 }, seed: 1 });
      const runId = (started as { value: { runId: string } }).value.runId;
      await until('the folder run to end', () => doneOf(runId) !== undefined);
      await until('its model', () => events.some((e) => e.name === 'modelChanged' && (e.payload as { variant: string }).variant === 'linear'));
      // MNIST would give 50 here.
      expect(await call('evaluate', { limit: 50 })).toMatchObject({ ok: true, value: { count: 12 } });
      expect(await call('samples', { split: 'test', indices: [12] })).toEqual({
        ok: false, error: { code: 'invalid-request', message: 'sample 12 does not exist: the test set has 12 images.', params: { field: 'indices', index: 12, split: 'test', count: 12 } },
      });
      // Image i lights pixel i of its 28×28 (the folder's writer): each sample is its own image's pixels.
      const samples = await call('samples', { split: 'test', indices: [11, 3] });
      expect(samples).toMatchObject({ ok: true, value: { labels: [1, 3], rows: 28, cols: 28 } });
      const pixels = Buffer.from((samples as { value: { images: string } }).value.images, 'base64');
      expect(pixels).toHaveLength(2 * 784);
      expect([...pixels.keys()].filter((i) => pixels[i] !== 0)).toEqual([11, 784 + 3]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
      await call('openModel', { dir: path.join(ASSETS, 'models', 'modern') });
    }
  });

  it('refuses what it must, each with its own code', async () => {
    expect(await call('saveModel', { name: '../escape' })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(await call('openModel', { dir: path.join(modelsDir, 'missing') })).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(await call('openModelDialog')).toMatchObject({ ok: false, error: { code: 'unsupported' } });
    expect(await call('samples', { split: 'test', indices: [10_000] })).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    const samples = await call('samples', { split: 'test', indices: [0, 9_999] });
    expect(samples).toMatchObject({ ok: true, value: { rows: 28, cols: 28 } });
    expect(Buffer.from((samples as { value: { images: string } }).value.images, 'base64')).toHaveLength(2 * 784);
    // A batch larger than the training set is refused, at once or by the run (an error event), with the numbers.
    const refused = await call('train', { variant: 'modern', recipe: { batchSize: 4096 }, limit: 100 });
    if (refused.ok) await until('the refused run', () => trainerEvents().some((e) => e.type === 'error'));
    const message = refused.ok ? (trainerEvents().find((e) => e.type === 'error') as { message: string }).message : refused.error.message;
    expect(message).toMatch(/batch size 4096 is larger than the 100 training images/);
  });
});

describe('a lab service with no shipped model', () => {
  it('answers every channel that needs a model with not-found and the way out, until one is opened', async () => {
    const emptyAssets = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-no-models-'));
    const bare = await createLabService({ modelsDir, assetsDir: emptyAssets, transport: 'browser', appVersion: '9.9.9', backend: 'wasm', emit: () => {} });
    try {
      for (const [name, payload] of [['currentModel', {}], ['evaluate', { limit: 5 }], ['saveModel', { name: 'nothing' }], ['exportModel', {}]] as const) {
        expect(await bare.handle(name, payload), name).toEqual({
          ok: false, error: { code: 'not-found', message: 'No model is loaded yet: train one or open a saved model.', params: { what: 'model' } },
        });
      }
      expect(await bare.handle('openModel', { dir: path.join(ASSETS, 'models', 'linear') })).toMatchObject({ ok: true, value: { variant: 'linear', builtin: false } });
      expect(await bare.handle('currentModel', {})).toMatchObject({ ok: true, value: { summary: { variant: 'linear' } } });
    } finally {
      fs.rmSync(emptyAssets, { recursive: true, force: true });
    }
  });
});
