// Durability by observation: the file system calls a save makes are recorded (node:fs/promises is wrapped,
// nothing else changes), and the order is checked against what survives a power cut: every file of the new
// model written and fsynced, and its folder fsynced, before the rename that puts it in place; the parent
// folder fsynced after. And a weights.bin longer than its manifest declares is refused, never half-read.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const calls: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (file, ...rest) => {
    const handle = await real.open(file, ...rest);
    const name = String(file);
    const sync = handle.sync.bind(handle);
    const writeFile = handle.writeFile.bind(handle);
    handle.sync = async () => {
      await sync();
      calls.push(`sync ${name}`);
    };
    handle.writeFile = (async (...args: Parameters<typeof writeFile>) => {
      await writeFile(...args);
      calls.push(`write ${name}`);
    }) as typeof handle.writeFile;
    return handle;
  };
  const rename: typeof real.rename = async (from, to) => {
    await real.rename(from, to);
    calls.push(`rename ${String(from)} -> ${String(to)}`);
  };
  const wrapped = { ...real, open, rename };
  return { ...wrapped, default: wrapped };
});

const { initBackend } = await import('../../engine/backends/ladder.js');
const { getVariant } = await import('../../common/network/variants.js');
const { loadModel, saveModel } = await import('../../engine/io/model-store.js');
const { isUserError } = await import('../../common/errors.js');

const scratch = mkdtempSync(path.join(tmpdir(), 'lenet-durable-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('wasm');
});
beforeEach(() => {
  calls.length = 0;
});

const meta = {
  formatVersion: 1 as const, name: 'durable', variant: 'modern' as const, dataset: 'MNIST', recipe: { ...getVariant('modern').recipe },
  history: { epochs: [] }, backend: 'wasm' as const, savedAt: '2026-01-01T00:00:00.000Z', testAccuracy: null, seed: 1,
};

/** Index of the first recorded call matching `pattern`; fails when there is none. */
function at(pattern: RegExp): number {
  const i = calls.findIndex((c) => pattern.test(c));
  expect(i, `no call matches ${pattern}:\n${calls.join('\n')}`).toBeGreaterThanOrEqual(0);
  return i;
}
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each([false, true])('a save (replacing a model: %s)', (replacing) => {
  it('fsyncs both files and their folder before the rename that swaps them in, and the parent after', async () => {
    const target = path.join(scratch, replacing ? 'replaced' : 'fresh');
    const model = getVariant('modern').build(3);
    if (replacing) {
      await saveModel(model, target, meta);
      calls.length = 0;
    }
    await saveModel(model, target, meta);
    model.dispose();

    const swap = at(new RegExp(`^rename \\S+\\.tmp-\\S+ -> ${escape(target)}$`));
    const temp = calls[swap]!.split(' ')[1]!;
    for (const file of ['weights.bin', 'model.json']) {
      const full = escape(path.join(temp, file));
      const written = at(new RegExp(`^write ${full}$`));
      const synced = at(new RegExp(`^sync ${full}$`));
      expect(written).toBeLessThan(synced);
      expect(synced).toBeLessThan(swap);
    }
    expect(at(new RegExp(`^sync ${escape(temp)}$`))).toBeLessThan(swap);
    const parentSynced = calls.findIndex((c, i) => i > swap && c === `sync ${path.dirname(target)}`);
    expect(parentSynced, calls.join('\n')).toBeGreaterThan(swap);
    if (replacing) {
      // The old model is moved aside first, and only after the new one is whole on disk.
      const aside = at(new RegExp(`^rename ${escape(target)} -> \\S+\\.old-\\S+$`));
      expect(at(new RegExp(`^sync ${escape(path.join(temp, 'model.json'))}$`))).toBeLessThan(aside);
      expect(aside).toBeLessThan(swap);
    }
  });
});

describe('a weights.bin that does not match its manifest', () => {
  it('is refused when longer by a byte, a float, or a whole copy; and when shorter', async () => {
    const dir = path.join(scratch, 'lengths');
    const model = getVariant('modern').build(5);
    await saveModel(model, dir, meta);
    model.dispose();
    const weights = readFileSync(path.join(dir, 'weights.bin'));
    const refused = async (bytes: Uint8Array): Promise<string> => {
      writeFileSync(path.join(dir, 'weights.bin'), bytes);
      try {
        (await loadModel(dir)).model.dispose();
        return 'loaded';
      } catch (e) {
        if (!isUserError(e)) throw e;
        return e.code;
      }
    };
    expect(await refused(Buffer.concat([weights, Buffer.alloc(1)]))).toBe('bad-file');
    expect(await refused(Buffer.concat([weights, Buffer.alloc(4)]))).toBe('bad-file');
    expect(await refused(Buffer.concat([weights, weights]))).toBe('bad-file');
    expect(await refused(weights.subarray(0, weights.length - 4))).toBe('bad-file');
    expect(await refused(weights)).toBe('loaded');
  });
});
