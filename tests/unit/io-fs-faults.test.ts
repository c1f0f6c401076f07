// engine/io when the file system misbehaves in ways a real disk rarely shows on demand (and root, who runs these
// tests here, never sees refused permissions): a read that returns part of the file, a file that ends early while
// it is read, a refused open, listing or stat. node:fs is wrapped (each call passes through unless a test says
// otherwise), so the checks are observed, not assumed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { userErrorOutcome } from './user-error-outcome.js';
import { readCheckedFile, readModelJson } from '../../engine/io/model-format.js';
import { checkSaveTarget, readModelMeta, recoverModelsFolder } from '../../engine/io/model-store.js';
import { HOST_TAG } from '../../engine/io/atomic-folder.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const wrapped = {
    ...real, openSync: vi.fn(real.openSync), readSync: vi.fn(real.readSync), closeSync: vi.fn(real.closeSync),
    readdirSync: vi.fn(real.readdirSync), statSync: vi.fn(real.statSync), lstatSync: vi.fn(real.lstatSync), realpathSync: vi.fn(real.realpathSync),
  };
  return { ...wrapped, default: wrapped };
});

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-format-reads-')));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.resetAllMocks()); // back to the real calls

const readSync = vi.mocked(fs.readSync);
const openSync = vi.mocked(fs.openSync);
const closeSync = vi.mocked(fs.closeSync);
const denied = () => { throw Object.assign(new Error('EACCES: raw'), { code: 'EACCES' }); };
const { readSync: realReadSync, readdirSync: realReaddirSync } = await vi.importActual<typeof import('node:fs')>('node:fs');

function fileOf(name: string, content: string | Buffer): { file: string; stat: fs.Stats } {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return { file, stat: fs.lstatSync(file) };
}
const refusal = userErrorOutcome;
/** readSync that gives at most `most` bytes a call, as a network share or a pipe may. */
const shortReads = (most: number) => ((fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) =>
  realReadSync(fd, buffer, offset, Math.min(length, most), position)) as typeof fs.readSync;

describe('readCheckedFile reads exactly the checked bytes, however the system hands them over', () => {
  it('a file read 3 bytes at a time comes back whole and in order', () => {
    const { file, stat } = fileOf('short-reads.bin', 'abcdefghij');
    readSync.mockImplementation(shortReads(3));
    expect(readCheckedFile(file, stat).toString()).toBe('abcdefghij');
    expect(readSync.mock.calls.map((c) => [c[2], c[3], c[4]])).toEqual([[0, 10, 0], [3, 7, 3], [6, 4, 6], [9, 1, 9]]);
  });

  it('a file that ends before its checked size while it is read is refused (no endless loop, no zero padding)', () => {
    const { file, stat } = fileOf('ends-early.bin', 'abcdefghij');
    readSync.mockImplementationOnce(shortReads(4)).mockImplementation(() => 0);
    expect(refusal(() => readCheckedFile(file, stat))).toEqual(['bad-file', `${file} changed while it was being read; try again`]);
    expect(readSync).toHaveBeenCalledTimes(2);
  });

  it('closes what it opened: after a whole read, a refusal, and a failed read', () => {
    const { file, stat } = fileOf('closed.bin', 'abcd');
    readCheckedFile(file, stat);
    expect(closeSync.mock.calls).toEqual([[openSync.mock.results[0]!.value]]);
    vi.clearAllMocks();
    expect(refusal(() => readCheckedFile(file, { ...stat, size: 5 } as fs.Stats))[0]).toBe('bad-file');
    expect(closeSync.mock.calls).toEqual([[openSync.mock.results[0]!.value]]);
    vi.clearAllMocks();
    readSync.mockImplementationOnce(() => { throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }); });
    expect(refusal(() => readCheckedFile(file, stat))).toEqual(['bad-file', `cannot read ${file}: EIO: i/o error`]);
    expect(closeSync.mock.calls).toEqual([[openSync.mock.results[0]!.value]]);
  });

  it('an open that fails closes nothing', () => {
    const { file, stat } = fileOf('never-opened.bin', 'abcd');
    openSync.mockImplementationOnce(() => { throw Object.assign(new Error('EACCES: raw'), { code: 'EACCES' }); });
    expect(refusal(() => readCheckedFile(file, stat))).toEqual(['bad-file', `cannot read ${file}: permission denied`]);
    expect(closeSync).not.toHaveBeenCalled();
  });
});

describe('readModelJson keeps a read failure\'s own words', () => {
  it('a model.json that cannot be opened is "cannot read", not "not valid JSON"', () => {
    const dir = path.join(tmp, 'locked');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), '{}');
    openSync.mockImplementationOnce(() => { throw Object.assign(new Error('EACCES: raw'), { code: 'EACCES' }); });
    expect(refusal(() => readModelJson(dir, dir))).toEqual(['bad-file', `cannot read ${path.join(dir, 'model.json')}: permission denied`]);
  });
});

describe('model-store: a folder the system will not list, stat or resolve', () => {
  it('a save target whose contents cannot be listed is refused with the reason', () => {
    const dir = path.join(tmp, 'unlistable');
    fs.mkdirSync(dir);
    vi.mocked(fs.readdirSync).mockImplementationOnce(denied);
    expect(refusal(() => checkSaveTarget(dir))).toEqual(['bad-file', `cannot save model to ${dir}: permission denied`]);
  });
  it('a save target that cannot be examined is refused with the reason, even where its parent can', () => {
    const dir = path.join(tmp, 'unexaminable');
    vi.mocked(fs.lstatSync).mockImplementationOnce(denied);
    expect(refusal(() => checkSaveTarget(dir))).toEqual(['bad-file', `cannot save model to ${dir}: permission denied`]);
  });
  it('a new save target whose parent cannot be examined is refused with the reason', () => {
    const dir = path.join(tmp, 'no-parent-access', 'model');
    vi.mocked(fs.statSync).mockImplementationOnce(denied);
    expect(refusal(() => checkSaveTarget(dir))).toEqual(['bad-file', `cannot save model to ${dir}: permission denied`]);
  });
  it('a model folder whose real path cannot be resolved is refused with the reason', () => {
    const dir = path.join(tmp, 'unresolvable');
    fs.mkdirSync(dir);
    vi.mocked(fs.realpathSync).mockImplementationOnce(denied);
    expect(refusal(() => readModelMeta(dir))).toEqual(['bad-file', `cannot read model folder ${dir}: permission denied`]);
  });
});

describe('model-store recovery: a side folder it cannot list', () => {
  it('an old copy of a model that cannot be listed is not taken for a cut-short one: it stays', () => {
    const parent = path.join(tmp, 'recovery');
    fs.mkdirSync(path.join(parent, 'saved'), { recursive: true });
    fs.writeFileSync(path.join(parent, 'saved', 'model.json'), '{}');
    const unlistable = `.saved.old-99999999-${HOST_TAG}0e0e0e0e`;
    fs.mkdirSync(path.join(parent, unlistable));
    fs.writeFileSync(path.join(parent, unlistable, 'weights.bin'), 'x');
    vi.mocked(fs.readdirSync).mockImplementation(((p: fs.PathLike, o?: never) => (String(p).endsWith(unlistable) ? denied() : realReaddirSync(p, o))) as never);
    recoverModelsFolder(parent);
    expect(realReaddirSync(parent).sort()).toEqual([unlistable, 'saved']);
  });
});
