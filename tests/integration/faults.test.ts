// Faults a shared lab machine will see: a trainer killed mid-epoch, a save killed halfway, a full disk,
// a learning rate that diverges, a stop mid-epoch. Nothing saved may be lost, and the app must go on.
// Runs the real compiled worker (dist/), as the hosts do: `npm run build` first.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, recoverModelsFolder, saveModel } from '../../engine/io/model-store.js';
import { HOST_TAG } from '../../engine/io/atomic-folder.js';
import { createHostHandler, type HostHandler } from '../../hosts/host-handler.js';
import { spawnForkedWorker } from '../../hosts/node-worker.js';
import { WorkerClient, type WorkerPort } from '../../hosts/worker-link.js';
import type { EventName, ModelSummary, Result } from '../../common/contract.js';
import type { TrainerEvent } from '../../common/protocol.js';

const WORKER = path.resolve('dist/hosts/worker-entry.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-faults-'));
const modelsDir = path.join(tmp, 'models');
fs.mkdirSync(modelsDir);

let handle: HostHandler;
let client: WorkerClient;
const ports: WorkerPort[] = [];
const events: { name: EventName; payload: unknown }[] = [];

const ok = async <T>(name: string, request: unknown = {}): Promise<T> => {
  const result = (await handle(name, request)) as Result<T>;
  if (!result.ok) throw new Error(`${name}: ${result.error.code}: ${result.error.message}`);
  return result.value;
};
const waitFor = async <T>(predicate: () => T | undefined, what: string, ms = 90_000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const value = predicate();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};
const trainerEvents = () => events.filter((e) => e.name === 'trainerEvent').map((e) => e.payload as TrainerEvent);
const doneOf = (runId: string) => waitFor(() => trainerEvents().find((e) => e.type === 'done' && e.runId === runId) as Extract<TrainerEvent, { type: 'done' }> | undefined, `run ${runId} to finish`);

beforeAll(() => {
  expect(fs.existsSync(WORKER), 'run `npm run build` first').toBe(true);
  const env = { LENET_LAB_MODELS_DIR: modelsDir, LENET_LAB_ASSETS_DIR: path.resolve('assets'), LENET_LAB_TRANSPORT: 'browser' };
  client = new WorkerClient(() => {
    const port = spawnForkedWorker(env, { entry: WORKER });
    ports.push(port);
    return port;
  }, (name, payload) => events.push({ name, payload }));
  client.start();
  handle = createHostHandler(client);
});
afterAll(() => client.dispose());

describe('faults', () => {
  it('a trainer killed mid-epoch is reported, can be restarted, and harms nothing saved', async () => {
    const first = await ok<{ runId: string }>('train', { variant: 'modern', limit: 256, testLimit: 200, seed: 1, recipe: { epochs: 1 } });
    expect((await doneOf(first.runId)).reason).toBe('completed');
    const saved = await ok<ModelSummary>('saveModel', { name: 'before the crash' });
    const before = await ok<{ accuracy: number; predictions: number[] }>('evaluate', { limit: 500 });
    const savedBytes = fs.readFileSync(path.join(saved.dir, 'weights.bin'));

    const long = await ok<{ runId: string }>('train', { variant: 'lenet5', seed: 2, recipe: { epochs: 3 } });
    await waitFor(() => trainerEvents().find((e) => e.type === 'batch' && e.runId === long.runId), 'the long run to start');
    process.kill(ports.at(-1)!.pid!, 'SIGKILL');
    const crash = await waitFor(() => events.find((e) => e.name === 'trainerCrashed'), 'the crash report');
    expect((crash.payload as { message: string }).message).toMatch(/stopped unexpectedly.*Saved models are safe/);
    const meanwhile = await handle('status', {});
    expect(meanwhile).toMatchObject({ ok: false, error: { code: 'crashed' } });

    await ok('restartTrainer');
    expect(ports).toHaveLength(2);
    const models = await ok<ModelSummary[]>('listModels');
    expect(models.map((m) => m.name)).toContain('before the crash');
    expect(fs.readFileSync(path.join(saved.dir, 'weights.bin')).equals(savedBytes)).toBe(true);
    const reopened = await ok<ModelSummary>('openModel', { dir: saved.dir });
    expect(reopened.variant).toBe('modern');
    const after = await ok<{ accuracy: number; predictions: number[] }>('evaluate', { limit: 500 });
    expect(after.predictions).toEqual(before.predictions);
  });

  it('a learning rate of 100 says where it diverged, and the last good weights can be saved', async () => {
    const run = await ok<{ runId: string }>('train', { variant: 'modern', limit: 1024, seed: 3, recipe: { optimizer: 'sgd', learningRate: 100, momentum: 0.9, epochs: 1 } });
    const done = await doneOf(run.runId);
    expect(done.reason).toBe('diverged');
    expect(done.message).toMatch(/diverged at epoch 1, batch \d+/);
    const saved = await ok<ModelSummary>('saveModel', { name: 'diverged' });
    const { model } = await loadModel(saved.dir);
    expect(model.getWeights().every((w) => (w.dataSync() as Float32Array).every(Number.isFinite))).toBe(true);
    model.dispose();
  });

  it('stopped mid-epoch, the model keeps the last finished batch and can be saved', async () => {
    const run = await ok<{ runId: string }>('train', { variant: 'modern', limit: 20_000, seed: 4, recipe: { epochs: 2 } });
    await waitFor(() => trainerEvents().find((e) => e.type === 'batch' && e.runId === run.runId && e.batch > 1), 'some batches');
    await ok('stop');
    const done = await doneOf(run.runId);
    expect(done.reason).toBe('stopped');
    expect(done.message).toMatch(/Stopped at epoch 1, batch \d+ of 313/);
    const saved = await ok<ModelSummary>('saveModel', { name: 'stopped' });
    expect(saved.unsaved).toBe(false);
    expect(fs.existsSync(path.join(saved.dir, 'model.json'))).toBe(true);
  });
});

describe('hardening round 2 (through the real worker)', () => {
  it('train answers with the error when the run cannot start, and nothing runs', async () => {
    const missing = await handle('train', { variant: 'modern', dataset: { kind: 'folder', dir: path.join(tmp, 'no-such-data') } });
    expect(missing).toEqual({ ok: false, error: { code: 'not-found', message: `${path.join(tmp, 'no-such-data')}: dataset folder not found`, params: {} } });
    const tooBig = await handle('train', { variant: 'modern', limit: 10, recipe: { batchSize: 64 } });
    expect(tooBig).toMatchObject({ ok: false, error: { code: 'invalid-request', message: expect.stringMatching(/larger than the 10 training images/) } });
    expect(await ok('status')).toEqual({ phase: 'idle', runId: null });
  });

  it('the models list shows a model whose save was killed between its two renames', async () => {
    await ok<ModelSummary>('openModel', { dir: path.resolve('assets/models/modern') });
    const saved = await ok<ModelSummary>('saveModel', { name: '第一课模型' });
    expect(path.basename(saved.dir)).toBe('第一课模型');
    // What a kill between "old → aside" and "temp → final" leaves: the model only under its .old- name.
    const aside = path.join(modelsDir, `.第一课模型.old-99999999-${HOST_TAG}abcdabcd`);
    fs.renameSync(saved.dir, aside);
    // A folder named like a temp folder but not ours stays, whatever its pid says.
    const foreign = path.join(modelsDir, `.notes.tmp-99999999-${HOST_TAG}01230123`);
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'keep me');
    const models = await ok<ModelSummary[]>('listModels');
    expect(models.filter((m) => !m.builtin).map((m) => m.name)).toContain('第一课模型');
    expect(fs.existsSync(path.join(saved.dir, 'model.json'))).toBe(true);
    expect(fs.existsSync(aside)).toBe(false);
    expect(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8')).toBe('keep me');
  });
});

describe('saving under faults', () => {
  const source = path.resolve('assets/models/modern');

  it('a save killed at any moment leaves the previous model whole and nothing half-written under its name', async () => {
    const target = path.join(tmp, 'kill-during-save', 'model');
    fs.mkdirSync(path.dirname(target));
    fs.cpSync(source, target, { recursive: true });
    const original = fs.readFileSync(path.join(target, 'weights.bin'));
    // A child process saves the same model over and over; we kill it at varied moments.
    const script = path.resolve('tests/fixtures/save-loop.mjs');
    for (const delay of [0, 3, 7, 15, 30, 60]) {
      const child = spawn(process.execPath, [script, target], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], cwd: path.resolve('.') });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // Loading is read-only; the app recovers its own models folder (as listModels does) before anything else.
      recoverModelsFolder(path.dirname(target));
      expect(fs.readdirSync(path.dirname(target)), `killed after ${delay} ms`).toEqual(['model']);
      const { model } = await loadModel(target);
      model.dispose();
      expect(fs.readFileSync(path.join(target, 'weights.bin')).equals(original), `killed after ${delay} ms`).toBe(true);
      expect(fs.readdirSync(target).sort()).toEqual(['model.json', 'weights.bin']);
    }
  });

  it('a full disk gives a clear error and the previous model stays whole', async () => {
    await tf.setBackend('cpu');
    const { model, meta } = await loadModel(source);
    const isRoot = process.getuid?.() === 0;
    const disk = path.join(tmp, 'small-disk');
    fs.mkdirSync(disk);
    const target = path.join(disk, 'model');
    let mounted = false;
    if (isRoot) {
      // A real full disk: a 400 KiB tmpfs holds one model (≈250 KiB) but not a second copy beside it.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', disk]);
      mounted = true;
    }
    try {
      await saveModel(model, target, meta);
      const before = fs.readFileSync(path.join(target, 'weights.bin'));
      const attempt = isRoot
        ? saveModel(model, target, { ...meta, name: 'second' })
        : saveModel(model, target, meta, { onPhase: () => { throw Object.assign(new Error('write failed'), { code: 'ENOSPC' }); } });
      await expect(attempt).rejects.toThrow(/cannot save model to .*no space left on the device/);
      expect(fs.readFileSync(path.join(target, 'weights.bin')).equals(before)).toBe(true);
      const reloaded = await loadModel(target);
      expect(reloaded.meta.name).toBe(meta.name);
      reloaded.model.dispose();
      expect(fs.readdirSync(disk).filter((n) => n !== 'model')).toEqual([]);
    } finally {
      model.dispose();
      if (mounted) execFileSync('umount', [disk]);
    }
  });
});
