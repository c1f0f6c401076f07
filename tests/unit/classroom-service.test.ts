// The classroom channels end to end in the lab service (the worker's engine), on a tiny real run: the recovery
// slot, history and timeline kept with the saved model, CSV exports, and one-file export → import.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLabService, recoveryDir } from '../../hosts/lab-service.js';
import { wireToFloat32 } from '../../common/network/wire.js';
import { parseRequest } from '../../common/contract.js';
import { readModelMeta } from '../../engine/io/model-store.js';

const readVariantOnDisk = (dir: string): string => readModelMeta(dir).variant;

let root: string;
let service: Awaited<ReturnType<typeof createLabService>>;
const events: { name: string; payload: any }[] = [];
/** Called as each event is emitted, before anything else can run: as a page that acts the instant it hears. */
let onEvent: ((name: string, payload: any) => void) | null = null;

async function call(name: string, request: unknown = {}): Promise<any> {
  const result = await service.handle(name as never, request);
  if (!result.ok) throw new Error(`${name}: ${result.error.code}: ${result.error.message}`);
  return result.value;
}
// As every host does (hosts/host-handler.ts): the request is parsed against the contract before the service sees it.
async function refusal(name: string, request: unknown): Promise<{ code: string; message: string }> {
  const parsed = parseRequest(name as never, request);
  const result = parsed.ok ? await service.handle(name as never, parsed.value) : parsed;
  expect(result.ok, name).toBe(false);
  return (result as { ok: false; error: { code: string; message: string } }).error;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-classroom-'));
  service = await createLabService({
    modelsDir: path.join(root, 'models'), assetsDir: path.resolve('assets'), transport: 'browser', appVersion: 'test', backend: 'cpu',
    emit: (name, payload) => {
      events.push({ name, payload });
      onEvent?.(name, payload);
    },
  });
}, 60_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('classroom channels', () => {
  it('no recovery slot before any run', async () => {
    expect(await call('recoveryInfo')).toBeNull();
    // The shipped model predates run records: its history says so.
    expect(await call('modelHistory')).toMatchObject({ recorded: false, batches: [], gradients: [] });
  });

  it('a finished run is kept in the recovery slot, with its history and timeline, and survives save, export and import', async () => {
    await call('train', { variant: 'modern', limit: 256, testLimit: 100, seed: 3, recipe: { epochs: 2, batchSize: 32 } });
    const deadline = Date.now() + 120_000;
    // The run's model becomes current (modelChanged) at once; the slot is written just after.
    while (!events.some((e) => e.name === 'modelChanged' && e.payload.unsaved) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    let slot = null;
    while (!(slot = await call('recoveryInfo')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(slot).toMatchObject({ variant: 'modern', unsaved: true, dir: recoveryDir(path.join(root, 'models')) });
    // As on the next launch: restore opens the slot as an unsaved model.
    expect(await call('restoreRecovery')).toMatchObject({ name: slot.name, unsaved: true, dir: '' });

    const history = await call('modelHistory');
    expect(history.recorded).toBe(true);
    expect(history.epochs).toHaveLength(2);
    expect(history.batches.length).toBeGreaterThan(0);
    expect(history.batches.at(-1)).toMatchObject({ epoch: 2, batch: 8 });
    expect(history.gradientLayers.length).toBeGreaterThan(0);
    const snapshots = await call('modelSnapshots');
    expect(snapshots.snapshots.length).toBeGreaterThanOrEqual(2);
    expect(snapshots.snapshots.at(-1).tensors.map((t: any) => t.name)).toEqual(['C1/kernel', 'C3/kernel']);
    expect(wireToFloat32(snapshots.snapshots.at(-1).tensors[0])).toHaveLength(150);

    // Saved under a name: the history and timeline go with it; the slot, now saved, is emptied and was never a
    // model in the list.
    const saved = await call('saveModel', { name: 'run one' });
    expect(await call('recoveryInfo')).toBeNull();
    expect(await call('modelHistory', { dir: saved.dir })).toEqual({ ...history, name: 'run one' });
    expect((await call('modelSnapshots', { dir: saved.dir })).snapshots).toEqual(snapshots.snapshots);
    expect((await call('listModels')).filter((m: any) => !m.builtin).map((m: any) => m.name)).toEqual(['run one']);

    // CSV, browser mode included.
    const batches = await call('exportCsv', { kind: 'batches' });
    expect(batches.fileName).toBe('run one-batches.csv');
    expect(batches.text.split('\n')[0]).toMatch(/^step,epoch,batch,loss,accuracy,gradientNorm /);
    // The confusion and mistakes CSVs are those of the last evaluation of this model.
    const evaluation = await call('evaluate', { limit: 200 });
    const confusion = await call('exportCsv', { kind: 'confusion' });
    expect(confusion.text.split('\n')[1]).toBe(`0,${evaluation.confusion[0].join(',')}`);
    expect(confusion.text.split('\n')).toHaveLength(12);
    const mistakes = await call('exportCsv', { kind: 'mistakes' });
    expect(mistakes.text.split('\n')).toHaveLength(evaluation.mistakes.length + 2);

    // One file out, one file in, under another name; the original is untouched.
    const file = await call('exportModel', {});
    expect(file.fileName).toBe('run one.lenetlab');
    expect(file.base64.length).toBeLessThan(1_000_000);
    const imported = await call('importModel', { base64: file.base64, fileName: file.fileName, name: 'run one (copy)' });
    expect(imported).toMatchObject({ name: 'run one (copy)', unsaved: false });
    expect(await call('modelHistory', { dir: imported.dir })).toEqual({ ...history, name: 'run one (copy)' });
    const again = await refusal('importModel', { base64: file.base64 });
    expect(again).toMatchObject({ code: 'busy' });
    expect(again.message).toMatch(/already in/);

    expect(await call('discardRecovery')).toBeNull();
    expect(await refusal('restoreRecovery', {})).toMatchObject({ code: 'not-found' });
  }, 180_000);

  it('a stopped run is kept too, and discard empties the slot', async () => {
    events.length = 0;
    await call('train', { variant: 'seed', limit: 2000, testLimit: 50, seed: 4, recipe: { epochs: 5, batchSize: 10 } });
    const deadline = Date.now() + 120_000;
    // Stopped once it has trained something (a run stopped before its first batch keeps nothing: lab-service.test).
    while (!events.some((e) => e.name === 'trainerEvent' && e.payload.type === 'batch') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await call('stop');
    let slot = null;
    while (!(slot = await call('recoveryInfo')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(events.find((e) => e.name === 'trainerEvent' && e.payload.type === 'done')?.payload.reason).toBe('stopped');
    expect(slot).toMatchObject({ variant: 'seed', unsaved: true });
    expect(await call('discardRecovery')).toBeNull();
    expect(await call('recoveryInfo')).toBeNull();
  }, 180_000);

  it('Save pressed the moment a run ends saves that run, and the slot is then emptied', async () => {
    events.length = 0;
    const { runId } = await call('train', { variant: 'modern', limit: 64, testLimit: 50, seed: 5, recipe: { epochs: 1, batchSize: 32 } });
    const deadline = Date.now() + 120_000;
    while (!events.some((e) => e.name === 'trainerEvent' && e.payload.type === 'done' && e.payload.runId === runId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const saved = await call('saveModel', { name: 'quick save' });
    expect((await call('modelHistory', { dir: saved.dir })).epochs).toHaveLength(1);
    while (Date.now() < deadline && fs.existsSync(path.join(root, 'models', '.recovery', 'last-run'))) await new Promise((r) => setTimeout(r, 50));
    expect(await call('recoveryInfo')).toBeNull();
  }, 180_000);

  it('Save sent the instant done is emitted waits for the run model: it never saves the model from before the run', async () => {
    const before = await call('currentModel');
    expect(before.summary.variant).not.toBe('lenet1');
    let saving: Promise<any> | null = null;
    onEvent = (name, payload) => {
      if (name === 'trainerEvent' && payload.type === 'done' && !saving) saving = service.handle('saveModel', { name: 'instant save' });
    };
    try {
      await call('train', { variant: 'lenet1', limit: 64, testLimit: 20, seed: 8, recipe: { epochs: 1, batchSize: 32 } });
      const deadline = Date.now() + 120_000;
      while (!saving && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const saved = await saving!;
      expect(saved).toMatchObject({ ok: true, value: { name: 'instant save', variant: 'lenet1', unsaved: false } });
      expect(readVariantOnDisk(saved.value.dir)).toBe('lenet1');
    } finally {
      onEvent = null;
    }
  }, 180_000);

  it('a run\'s done reaches the page only once its model is current: the model asked for at done is the run\'s', async () => {
    let atDone: Promise<any> | null = null;
    onEvent = (name, payload) => {
      if (name === 'trainerEvent' && payload.type === 'done' && !atDone) {
        // Asked synchronously inside the emit, before any waiting the handlers might do.
        atDone = Promise.all([service.handle('currentModel', {}), service.handle('status', {})]);
      }
    };
    try {
      await call('train', { variant: 'lenet4', limit: 64, testLimit: 20, seed: 9, recipe: { epochs: 1, batchSize: 32 } });
      const deadline = Date.now() + 120_000;
      while (!atDone && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const [model, status] = await atDone!;
      expect(status).toMatchObject({ ok: true, value: { phase: 'idle', runId: null } });
      expect(model.value.summary).toMatchObject({ variant: 'lenet4', unsaved: true, builtin: false, dir: '' });
      expect(model.value.summary.name).not.toBe('training…');
    } finally {
      onEvent = null;
    }
  }, 180_000);

  it('two runs ending close together: the slot keeps the later one, not a refusal of its write', async () => {
    const runTo = async (variant: string, seed: number) => {
      const { runId } = await call('train', { variant, limit: 64, testLimit: 20, seed, recipe: { epochs: 1, batchSize: 32 } });
      const deadline = Date.now() + 120_000;
      while (!events.some((e) => e.name === 'trainerEvent' && e.payload.type === 'done' && e.payload.runId === runId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      // The run is over once the host has taken its model (the trainer is released just after `done`).
      while ((await service.handle('status', {})).ok && (await call('status')).phase !== 'idle' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    await runTo('modern', 6);
    await runTo('seed', 7); // started while the first run's slot write may still be going
    const deadline = Date.now() + 60_000;
    let slot = await call('recoveryInfo');
    while (slot?.variant !== 'seed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      slot = await call('recoveryInfo');
    }
    expect(slot).toMatchObject({ variant: 'seed', unsaved: true });
    expect(await call('discardRecovery')).toBeNull();
  }, 180_000);

  it('a hostile upload is refused with a clear error and the models folder is unchanged', async () => {
    const before = fs.readdirSync(path.join(root, 'models')).sort();
    expect(await refusal('importModel', { base64: 'not base64!' })).toMatchObject({ code: 'invalid-request' });
    expect((await refusal('importModel', { base64: Buffer.from('PK\u0003\u0004 a zip').toString('base64') })).message).toMatch(/not a LeNet Lab model file/);
    expect(await refusal('importModel', { base64: 'A'.repeat(1_000_004) })).toMatchObject({ code: 'invalid-request' });
    expect(fs.readdirSync(path.join(root, 'models')).sort()).toEqual(before);
  });
});
