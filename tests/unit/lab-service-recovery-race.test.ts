// The recovery slot while its write is still going on (hosts/lab-service.ts): a restore or a discard pressed
// the moment a run ends waits for the slot's write. Restored from under the write, the run's own model was
// then taken for the slot's, and saving the restored model left the slot behind (seen once, on a loaded
// machine); discarded under it, the write brought the run back. The write is held here by a gate around
// model-store's saveModel, so the order is forced, not hoped for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLabService, type LabService } from '../../hosts/lab-service.js';
import type { EventName } from '../../common/contract.js';
import { writeDatasetFolder } from './dataset-folder.js';

/** Gates for writes into the recovery slot: `before` holds one before it starts, `after` once it is on disk. */
const gates: { before: Promise<void> | null; after: Promise<void> | null } = { before: null, after: null };

vi.mock('../../engine/io/model-store.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../engine/io/model-store.js')>();
  return {
    ...actual,
    saveModel: async (...args: Parameters<typeof actual.saveModel>) => {
      const toSlot = String(args[1]).includes(`${path.sep}.recovery${path.sep}`);
      if (toSlot && gates.before) await gates.before;
      const result = await actual.saveModel(...args);
      if (toSlot && gates.after) await gates.after;
      return result;
    },
  };
});

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-recovery-race-'));
const modelsDir = path.join(root, 'models');
const digits = path.join(root, 'digits');
const events: { name: EventName; payload: any }[] = [];
let service: LabService;
const availableParallelism = os.availableParallelism;

type Answer = { ok: true; value: any } | { ok: false; error: { code: string; message: string } };
const value = async (name: Parameters<LabService['handle']>[0], payload: unknown = {}): Promise<any> => {
  const answer = (await service.handle(name, payload)) as Answer;
  if (!answer.ok) throw new Error(`${name}: ${answer.error.code}: ${answer.error.message}`);
  return answer.value;
};
const gate = (): { promise: Promise<void>; open: () => void } => {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
};
/** Whether `p` settles within `ms` (it must not: it waits for a gate). */
const settlesWithin = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

/** Trains a tiny run and returns once its done has been told (its model is current; the slot's write is under way). */
async function finishedRun(): Promise<void> {
  events.length = 0;
  const { runId } = await value('train', { variant: 'linear', dataset: { kind: 'folder', dir: digits }, recipe: { epochs: 1, batchSize: 8 }, seed: 3 });
  const end = Date.now() + 60_000;
  while (!events.some((e) => e.name === 'trainerEvent' && e.payload.type === 'done' && e.payload.runId === runId)) {
    if (Date.now() > end) throw new Error('the run did not finish');
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  fs.cpSync(fileURLToPath(new URL('../../assets/models/linear', import.meta.url)), path.join(root, 'assets', 'models', 'linear'), { recursive: true });
  writeDatasetFolder(digits, 16, 12);
  os.availableParallelism = () => 1; // one engine: no second thread to start
  service = await createLabService({
    modelsDir, assetsDir: path.join(root, 'assets'), transport: 'browser', appVersion: '1.2.3', backend: 'cpu',
    emit: (name, payload) => events.push({ name, payload }),
  });
}, 60_000);
afterAll(() => {
  os.availableParallelism = availableParallelism;
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
});

describe('the recovery slot while it is being written', () => {
  it('restore waits for the write; the restored run saved under a name then empties the slot', async () => {
    const after = gate();
    gates.after = after.promise;
    await finishedRun();
    // The slot is on disk, its write not finished.
    const end = Date.now() + 30_000;
    while (!(await value('recoveryInfo')) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const restoring = value('restoreRecovery');
    expect(await settlesWithin(restoring, 300)).toBe(false);
    after.open();
    gates.after = null;
    expect(await restoring).toMatchObject({ unsaved: true, variant: 'linear' });
    await value('saveModel', { name: 'kept' });
    expect(await value('recoveryInfo')).toBeNull();
  });

  it('discard waits for the write, so the discarded run does not come back', async () => {
    const before = gate();
    gates.before = before.promise;
    await finishedRun();
    const discarding = value('discardRecovery');
    expect(await settlesWithin(discarding, 300)).toBe(false);
    before.open();
    gates.before = null;
    expect(await discarding).toBeNull();
    expect(await value('recoveryInfo')).toBeNull();
    expect(fs.existsSync(path.join(modelsDir, '.recovery'))).toBe(false);
  });
});
