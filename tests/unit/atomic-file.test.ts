// The one atomic writer (engine/io/atomic-file.ts, also used by Electron's main process) and the retries a
// save makes when Windows antivirus or OneDrive briefly hold a fresh file (EPERM, EBUSY): errors are injected
// through the file-system seam, and the waits are recorded instead of slept.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUSY_RETRY_DELAYS_MS, errnoCode, realFs, retryWhileBusy, syncDir, writeFileAtomic, writeFileSynced, type FsOps } from '../../engine/io/atomic-file.js';
import { loadModel, saveModel } from '../../engine/io/model-store.js';
import { VARIANTS } from '../../common/network/variants.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-atomic-'));
const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

/** Real file-system calls, except that the first `times` renames fail with `code` (Infinity: all of them). */
function flakyRenames(code: string, times: number): FsOps & { renames: number } {
  const ops = {
    renames: 0,
    rename: async (from: string, to: string) => {
      ops.renames++;
      if (ops.renames <= times) throw errno(code);
      return realFs.rename(from, to);
    },
    rm: realFs.rm,
  };
  return ops;
}

describe('retryWhileBusy', () => {
  it('the waits are about 3 s in all, doubling', () => {
    expect(BUSY_RETRY_DELAYS_MS).toEqual([50, 100, 200, 400, 800, 1600]);
  });

  it.each([
    ['EPERM', 2, [50, 100], 'ok'],
    ['EBUSY', 6, [50, 100, 200, 400, 800, 1600], 'ok'], // the last retry succeeds
    ['EBUSY', 7, [50, 100, 200, 400, 800, 1600], 'EBUSY'], // one failure too many
    ['EPERM', Infinity, [50, 100, 200, 400, 800, 1600], 'EPERM'],
    ['ENOSPC', 1, [], 'ENOSPC'], // not transient: no retry
    ['EACCES', 1, [], 'EACCES'],
  ] as const)('%s %s times → waits %j, then %s', async (code, times, waits, outcome) => {
    const slept: number[] = [];
    let calls = 0;
    const result = await retryWhileBusy(async () => {
      calls++;
      if (calls <= times) throw errno(code);
      return 'ok';
    }, { sleep: async (ms) => void slept.push(ms) }).catch((e: NodeJS.ErrnoException) => e.code);
    expect(result).toBe(outcome);
    expect(slept).toEqual(waits);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole and leaves nothing beside it', async () => {
    const file = path.join(root, 'state.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, new Uint8Array([116, 119, 111]));
    expect(fs.readFileSync(file, 'utf8')).toBe('two');
    expect(fs.readdirSync(root).filter((n) => n.includes('state'))).toEqual(['state.json']);
  });

  it('retries a rename blocked by another program, and gives up cleanly if it stays blocked', async () => {
    const file = path.join(root, 'export.csv');
    await writeFileAtomic(file, 'old');
    const flaky = flakyRenames('EBUSY', 3);
    await writeFileAtomic(file, 'new', { fs: flaky, sleep: async () => {} });
    expect(flaky.renames).toBe(4);
    expect(fs.readFileSync(file, 'utf8')).toBe('new');

    const blocked = flakyRenames('EPERM', Infinity);
    await expect(writeFileAtomic(file, 'newer', { fs: blocked, sleep: async () => {} })).rejects.toMatchObject({ code: 'EPERM' });
    expect(blocked.renames).toBe(7);
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.readdirSync(root).filter((n) => n.includes('export'))).toEqual(['export.csv']);
  });
});

describe('saving a model while Windows holds its files', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const meta = (name: string) => ({
    formatVersion: 1 as const, name, variant: 'modern' as const, dataset: 'MNIST', recipe: VARIANTS.modern.recipe,
    history: { epochs: [] }, backend: 'cpu' as const, savedAt: '2026-01-01T00:00:00.000Z', testAccuracy: null, seed: 1,
  });

  it('retries EPERM/EBUSY on each rename and saves', async () => {
    const dir = path.join(root, 'model');
    const model = VARIANTS.modern.build(1);
    await saveModel(model, dir, meta('old'));
    const slept: number[] = [];
    // Renames: old → aside (fails twice), then temp → final (fails once more) = 5 calls.
    const flaky = flakyRenames('EPERM', 2);
    let failed = 0;
    const ops: FsOps = {
      rename: async (from, to) => {
        if (flaky.renames === 3 && failed++ === 0) throw errno('EBUSY');
        return flaky.rename(from, to);
      },
      rm: realFs.rm,
    };
    await saveModel(model, dir, meta('new'), { fs: ops, sleep: async (ms) => void slept.push(ms) });
    expect(slept).toEqual([50, 100, 50]);
    const { model: loaded, meta: back } = await loadModel(dir);
    expect(back.name).toBe('new');
    loaded.dispose();
    model.dispose();
  });

  it('a rename blocked for good fails with a clear message, and the old model stays whole', async () => {
    const dir = path.join(root, 'blocked');
    const model = VARIANTS.modern.build(2);
    await saveModel(model, dir, meta('old'));
    const blocked = flakyRenames('EPERM', Infinity);
    await expect(saveModel(model, dir, meta('new'), { fs: blocked, sleep: async () => {} }))
      .rejects.toThrow(new RegExp(`^cannot save model to ${dir}: permission denied$`));
    expect(blocked.renames).toBe(7); // the first rename, 6 retries; nothing further was attempted
    const { model: loaded, meta: back } = await loadModel(dir);
    expect(back.name).toBe('old');
    loaded.dispose();
    model.dispose();
    expect(fs.readdirSync(root).filter((n) => n.startsWith('.blocked'))).toEqual([]);
  });
});

describe('the edges of the writer', () => {
  it('a thrown null or undefined has no code, and is rethrown as it is, without a retry', async () => {
    expect([errnoCode(null), errnoCode(undefined), errnoCode(errno('EBUSY')), errnoCode(new Error('plain'))]).toEqual([undefined, undefined, 'EBUSY', undefined]);
    let calls = 0;
    await expect(retryWhileBusy(() => { calls++; return Promise.reject(null); }, { sleep: async () => {} })).rejects.toBeNull();
    expect(calls).toBe(1);
  });

  it('without a sleep of its own, a retry really waits its delay before trying again', async () => {
    let first = 0;
    let second = 0;
    await retryWhileBusy(async () => {
      if (!first) { first = performance.now(); throw errno('EBUSY'); }
      second = performance.now();
    }, { delays: [40] });
    expect(second - first).toBeGreaterThanOrEqual(35);
  });

  it('syncing a folder that cannot be opened is not an error (some file systems cannot fsync a folder)', async () => {
    await expect(syncDir(path.join(root, 'no-such-folder'))).resolves.toBeUndefined();
  });

  it.skipIf(process.platform !== 'linux')('closes every file and folder it opens, on success and on failure', async () => {
    const open = () => fs.readdirSync('/proc/self/fd').length;
    const before = open();
    await writeFileSynced(path.join(root, 'synced.bin'), 'x');
    await syncDir(root);
    await writeFileAtomic(path.join(root, 'atomic.bin'), 'y');
    await expect(writeFileSynced(path.join(root, 'synced.bin'), 'again')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(writeFileAtomic(path.join(root, 'missing-folder', 'a.bin'), 'z')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(open()).toBe(before);
    expect(fs.readFileSync(path.join(root, 'synced.bin'), 'utf8')).toBe('x');
  });
});
