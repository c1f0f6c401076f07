// The folder swap and its recovery (engine/io/atomic-folder.ts) on plain folders, without a model: which side
// folders recovery recognises, which it removes, restores or leaves, and what a swap leaves after each failure.
// A "model" here is any folder holding model.json, so each rule is seen alone and runs in milliseconds.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { realFs, type FsOps } from '../../engine/io/atomic-file.js';
import {
  HOST_TAG, leftBehindOldFolders, recoverInterruptedSaves, replaceFolderAtomically, SAVE_MARKER, swapInProgress, type SwapPhase,
} from '../../engine/io/atomic-folder.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-atomic-folder-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let count = 0;
const freshParent = (): string => {
  const dir = path.join(root, `p${++count}`);
  fs.mkdirSync(dir);
  return dir;
};
/** A folder `name` in `parent` holding `files` (name → contents). */
function folder(parent: string, name: string, files: Record<string, string> = {}): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}
const isModel = (dir: string): boolean => fs.existsSync(path.join(dir, 'model.json'));
const list = (dir: string): string[] => fs.readdirSync(dir).sort();
const DEAD = 99_999_999; // above any Linux pid_max
const OTHER_HOST = HOST_TAG === '00000000' ? '11111111' : '00000000';
const marker = JSON.stringify({ app: 'lenet-lab', pid: DEAD });

describe('the side-folder names', () => {
  it('the machine tag is the first 8 hex digits of the SHA-256 of the host name', () => {
    expect(HOST_TAG).toBe(createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8));
    expect(SAVE_MARKER).toBe('.lenet-lab-save');
  });

  it('leftBehindOldFolders lists only `.old-` folders of that name, newest first', () => {
    const parent = freshParent();
    const named = (name: string, seconds: number) => {
      const dir = folder(parent, name);
      fs.utimesSync(dir, seconds, seconds);
      return name;
    };
    const older = named(`.m.old-1-${HOST_TAG}00000001`, 1_000_000);
    const newest = named(`.m.old-2-${HOST_TAG}00000002`, 3_000_000);
    const middle = named(`.m.old-3-aaaaaaaa`, 2_000_000);
    named(`.m.tmp-4-${HOST_TAG}00000004`, 4_000_000); // a temp folder, not an old copy
    named(`.mm.old-5-${HOST_TAG}00000005`, 5_000_000); // another model's
    named(`.m.old-6-${HOST_TAG}0000000g`, 6_000_000); // not hex
    named(`.m.bak-7-${HOST_TAG}00000007`, 7_000_000);
    named(`x.m.old-8-${HOST_TAG}00000008`, 8_000_000);
    named(`.m.old-x-${HOST_TAG}00000009`, 9_000_000);
    fs.writeFileSync(path.join(parent, `.m.old-10-${HOST_TAG}0000000a`), 'a file named like an old copy');
    fs.symlinkSync(path.join(parent, older), path.join(parent, `.m.old-11-${HOST_TAG}0000000b`));
    expect(leftBehindOldFolders(path.join(parent, 'm'))).toEqual([newest, middle, older]);
    expect(leftBehindOldFolders(path.join(parent, 'nothing-here'))).toEqual([]);
    expect(leftBehindOldFolders(path.join(root, 'no-such-parent', 'm'))).toEqual([]);
  });
});

describe('recoverInterruptedSaves', () => {
  it('a temp folder of this machine whose process is gone is removed; by host tag, pid and name, the others stay', () => {
    const parent = freshParent();
    folder(parent, 'm', { 'model.json': 'current' });
    const withMarker = (name: string) => folder(parent, name, { [SAVE_MARKER]: marker, 'weights.bin': 'partial' }) && name;
    const removed = [
      withMarker(`.m.tmp-${DEAD}-${HOST_TAG}aa11aa11`),
      withMarker(`.m.tmp-${process.pid}-${HOST_TAG}bb22bb22`), // this process, not saving now: left by a failed save
    ];
    const kept = [
      withMarker(`.m.tmp-${process.ppid}-${HOST_TAG}cc33cc33`), // a live process
      withMarker(`.m.tmp-1-${HOST_TAG}cc33cc34`), // init: alive
      withMarker(`.m.tmp-${DEAD}-${OTHER_HOST}dd44dd44`), // another machine's
      withMarker(`.m.tmp-${DEAD}-ee55ee55`), // an older version's name: no machine in it
      withMarker(`.m.tmp-${DEAD}-${HOST_TAG}ff66ff6`), // 15 digits: no machine either
      withMarker(`.m.tmp-${DEAD}-${HOST_TAG}ff66ff6600`), // 18 digits
    ];
    recoverInterruptedSaves(parent, isModel);
    expect(list(parent)).toEqual([...kept, 'm'].sort());
    expect(removed.every((name) => !fs.existsSync(path.join(parent, name)))).toBe(true);
  });

  it('a stale temp folder is removed when it holds the marker, a model, or nothing else; never when it holds other data', () => {
    const parent = freshParent();
    folder(parent, 'm', { 'model.json': 'current' });
    const side = (tag: string, files: Record<string, string>, link?: string) => {
      const name = `.m.tmp-${DEAD}-${HOST_TAG}${tag}`;
      folder(parent, name, files);
      if (link) fs.symlinkSync(link, path.join(parent, name, SAVE_MARKER));
      return name;
    };
    const padded = (bytes: number) => JSON.stringify({ app: 'lenet-lab', pad: 'x'.repeat(bytes - JSON.stringify({ app: 'lenet-lab', pad: '' }).length) });
    const exactly4096 = padded(4096);
    expect(Buffer.byteLength(exactly4096)).toBe(4096);
    const over4096 = padded(4097);
    expect(Buffer.byteLength(over4096)).toBe(4097);
    const removed = [
      side('00000001', { [SAVE_MARKER]: marker, 'weights.bin': 'partial' }),
      side('00000002', { [SAVE_MARKER]: exactly4096, 'weights.bin': 'partial' }),
      side('00000003', { 'model.json': '{}', 'notes.txt': 'a whole model and more' }),
      side('00000004', {}), // empty: nothing to lose
      side('00000005', { [SAVE_MARKER]: '{"app":"len' }), // a marker cut short, and nothing else
    ];
    const kept = [
      side('00000011', { [SAVE_MARKER]: over4096, 'weights.bin': 'partial' }),
      side('00000012', { [SAVE_MARKER]: JSON.stringify({ app: 'another-app' }), 'weights.bin': 'partial' }),
      side('00000013', { [SAVE_MARKER]: 'not json', 'weights.bin': 'partial' }),
      side('00000014', { 'weights.bin': 'partial' }),
      side('00000015', { 'weights.bin': 'partial' }, path.join(parent, removed[0]!, SAVE_MARKER)), // the marker a link
    ];
    fs.mkdirSync(path.join(parent, side('00000016', { 'weights.bin': 'partial' }), SAVE_MARKER)); // the marker a folder
    kept.push(`.m.tmp-${DEAD}-${HOST_TAG}00000016`);
    recoverInterruptedSaves(parent, isModel);
    expect(list(parent)).toEqual([...kept, 'm'].sort());
  });

  it('a missing target gets its newest old copy holding a model back, from any machine; the older stale copy then goes', () => {
    const parent = freshParent();
    const older = folder(parent, `.m.old-${DEAD}-${HOST_TAG}00000001`, { 'model.json': 'older' });
    const newer = folder(parent, `.m.old-${DEAD}-${OTHER_HOST}00000002`, { 'model.json': 'newer' });
    const newestNotAModel = folder(parent, `.m.old-${DEAD}-${HOST_TAG}00000003`, { 'notes.txt': 'keep me' });
    fs.utimesSync(older, 1_000_000, 1_000_000);
    fs.utimesSync(newer, 2_000_000, 2_000_000);
    fs.utimesSync(newestNotAModel, 3_000_000, 3_000_000);
    recoverInterruptedSaves(parent, isModel);
    expect(fs.readFileSync(path.join(parent, 'm', 'model.json'), 'utf8')).toBe('newer');
    expect(list(parent)).toEqual([path.basename(newestNotAModel), 'm']);
  });

  it('the newest old copy is the one restored, whatever the names and the order they were made in', () => {
    for (const newerName of ['a', 'b']) {
      for (const newerFirst of [true, false]) {
        const parent = freshParent();
        const make = (tag: string, text: string, seconds: number) => {
          const dir = folder(parent, `.m.old-${DEAD}-${HOST_TAG}0000000${tag}`, { 'model.json': text });
          fs.utimesSync(dir, seconds, seconds);
        };
        const olderName = newerName === 'a' ? 'b' : 'a';
        if (newerFirst) { make(newerName, 'newer', 2_000_000); make(olderName, 'older', 1_000_000); }
        else { make(olderName, 'older', 1_000_000); make(newerName, 'newer', 2_000_000); }
        recoverInterruptedSaves(parent, isModel);
        expect(fs.readFileSync(path.join(parent, 'm', 'model.json'), 'utf8'), `${newerName} ${newerFirst}`).toBe('newer');
        expect(list(parent)).toEqual(['m']);
      }
    }
  });

  it('a temp folder is never restored, even holding a whole model: it goes, and the target stays missing', () => {
    const parent = freshParent();
    folder(parent, `.m.tmp-${DEAD}-${HOST_TAG}00000001`, { 'model.json': 'unfinished save' });
    recoverInterruptedSaves(parent, isModel);
    expect(list(parent)).toEqual([]);
  });

  it('an old copy is removed only while its target is there; an old copy of another machine stays', () => {
    const parent = freshParent();
    folder(parent, 'present', { 'model.json': 'current' });
    const ours = folder(parent, `.present.old-${DEAD}-${HOST_TAG}00000001`, { 'model.json': 'old' });
    const theirs = folder(parent, `.present.old-${DEAD}-${OTHER_HOST}00000002`, { 'model.json': 'old' });
    // Target missing, and the only old copy cut short (no model in it): nothing to restore, and it stays.
    const cut = folder(parent, `.absent.old-${DEAD}-${HOST_TAG}00000003`, { 'weights.bin': 'half' });
    const empty = folder(parent, `.absent.old-${DEAD}-${HOST_TAG}00000004`); // nothing in it, but not a temp folder
    // A temp folder holding only what a cut-short copy holds is not an old copy: no marker, no model, it stays.
    const tmpHalf = folder(parent, `.present.tmp-${DEAD}-${HOST_TAG}00000005`, { 'weights.bin': 'half' });
    recoverInterruptedSaves(parent, isModel, undefined, (dir) => fs.existsSync(path.join(dir, 'weights.bin')));
    expect(fs.existsSync(ours)).toBe(false);
    expect(fs.existsSync(theirs)).toBe(true);
    expect(fs.existsSync(cut)).toBe(true);
    expect(fs.existsSync(empty)).toBe(true);
    expect(fs.existsSync(tmpHalf)).toBe(true);
    expect(fs.existsSync(path.join(parent, 'absent'))).toBe(false);
  });

  it('a cut-short old copy is removed by its own test only: by default one is not', () => {
    const parent = freshParent();
    folder(parent, 'm', { 'model.json': 'current' });
    const cut = folder(parent, `.m.old-${DEAD}-${HOST_TAG}00000001`, { 'weights.bin': 'half' });
    recoverInterruptedSaves(parent, isModel);
    expect(fs.existsSync(cut)).toBe(true);
    recoverInterruptedSaves(parent, isModel, undefined, (dir) => dir === cut);
    expect(fs.existsSync(cut)).toBe(false);
  });

  it('with a name, only that target\'s side folders are touched', () => {
    const parent = freshParent();
    const a = folder(parent, `.a.tmp-${DEAD}-${HOST_TAG}00000001`, { [SAVE_MARKER]: marker });
    const b = folder(parent, `.b.tmp-${DEAD}-${HOST_TAG}00000002`, { [SAVE_MARKER]: marker });
    const bOld = folder(parent, `.b.old-${DEAD}-${HOST_TAG}00000003`, { 'model.json': 'b' });
    recoverInterruptedSaves(parent, isModel, 'a');
    expect([fs.existsSync(a), fs.existsSync(b), fs.existsSync(bOld), fs.existsSync(path.join(parent, 'b'))]).toEqual([false, true, true, false]);
    recoverInterruptedSaves(parent, isModel);
    expect(list(parent)).toEqual(['b']);
  });

  it('a folder that does not exist is nothing to recover', () => {
    expect(() => recoverInterruptedSaves(path.join(root, 'no-such-folder'), isModel)).not.toThrow();
  });
});

describe('replaceFolderAtomically', () => {
  /** The real file system, with each call recorded; `fail` may throw for a call instead. */
  function recording(fail: (op: 'rename' | 'rm', a: string, b?: string) => void = () => {}): FsOps & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      rename: async (from, to) => {
        calls.push(`rename ${path.basename(from)} ${path.basename(to)}`);
        fail('rename', from, to);
        return realFs.rename(from, to);
      },
      rm: async (target, options) => {
        calls.push(`rm ${path.basename(target)}`);
        fail('rm', target);
        return realFs.rm(target, options);
      },
    };
  }
  const io = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

  it('a new target in folders that do not exist yet: the marker is written first, then removed; two phases', async () => {
    const parent = path.join(freshParent(), 'a', 'b');
    const target = path.join(parent, 'm');
    const phases: SwapPhase[] = [];
    let seen: { temp: string; marker: unknown; busy: boolean } | undefined;
    const ops = recording();
    await replaceFolderAtomically(target, async (temp) => {
      seen = { temp: path.basename(temp), marker: JSON.parse(fs.readFileSync(path.join(temp, SAVE_MARKER), 'utf8')), busy: swapInProgress(target) };
      fs.writeFileSync(path.join(temp, 'model.json'), 'new');
    }, () => false, { fs: ops, onPhase: (p) => void phases.push(p) });
    expect(seen!.temp).toMatch(new RegExp(`^\\.m\\.tmp-${process.pid}-${HOST_TAG}[0-9a-f]{8}$`));
    expect(seen!.marker).toEqual({ app: 'lenet-lab', pid: process.pid });
    expect(seen!.busy).toBe(true);
    expect(swapInProgress(target)).toBe(false);
    expect(phases).toEqual(['temp-written', 'swapped']);
    expect(list(target)).toEqual(['model.json']);
    expect(list(parent)).toEqual(['m']);
    expect(ops.calls).toEqual([`rm ${SAVE_MARKER}`, `rename ${seen!.temp} m`]);
  });

  it('over an existing target: old aside, new in, old removed; three phases', async () => {
    const parent = freshParent();
    const target = folder(parent, 'm', { 'model.json': 'old' });
    const phases: SwapPhase[] = [];
    const ops = recording();
    await replaceFolderAtomically(target, async (temp) => fs.writeFileSync(path.join(temp, 'model.json'), 'new'), () => true,
      { fs: ops, onPhase: (p) => void phases.push(p) });
    expect(phases).toEqual(['temp-written', 'old-moved-aside', 'swapped']);
    expect(fs.readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('new');
    expect(list(parent)).toEqual(['m']);
    const suffix = `${process.pid}-${HOST_TAG}[0-9a-f]{8}`;
    expect(ops.calls).toEqual([
      `rm ${SAVE_MARKER}`,
      expect.stringMatching(new RegExp(`^rename m \\.m\\.old-${suffix}$`)),
      expect.stringMatching(new RegExp(`^rename \\.m\\.tmp-${suffix} m$`)),
      expect.stringMatching(new RegExp(`^rm \\.m\\.old-${suffix}$`)),
    ]);
    // The temp and old folders share one suffix.
    expect(ops.calls[1]!.split('.old-')[1]).toBe(ops.calls[2]!.split(' ')[1]!.split('.tmp-')[1]);
  });

  it('an old copy that cannot be removed after the swap is not a failure: the new target stays, the old copy beside it', async () => {
    const parent = freshParent();
    const target = folder(parent, 'm', { 'model.json': 'old' });
    const ops = recording((op, a) => { if (op === 'rm' && path.basename(a).startsWith('.m.old-')) throw io('EACCES'); });
    await replaceFolderAtomically(target, async (temp) => fs.writeFileSync(path.join(temp, 'model.json'), 'new'), () => true, { fs: ops });
    expect(fs.readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('new');
    expect(leftBehindOldFolders(target)).toHaveLength(1);
    expect(fs.readFileSync(path.join(parent, leftBehindOldFolders(target)[0]!, 'model.json'), 'utf8')).toBe('old');
  });

  it('a fill that fails: its own error, the temp folder removed, the target untouched, no longer in progress', async () => {
    const parent = freshParent();
    const target = folder(parent, 'm', { 'model.json': 'old' });
    const error = io('ENOSPC');
    const ops = recording();
    const got = await replaceFolderAtomically(target, async () => { throw error; }, () => true, { fs: ops }).catch((e: unknown) => e);
    expect(got).toBe(error);
    expect(list(parent)).toEqual(['m']);
    expect(fs.readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('old');
    expect(ops.calls).toEqual([expect.stringMatching(/^rm \.m\.tmp-/)]);
    expect(swapInProgress(target)).toBe(false);
  });

  it('a failure after the old copy moved aside puts it back, and removes the temp folder', async () => {
    const parent = freshParent();
    const target = folder(parent, 'm', { 'model.json': 'old' });
    const ops = recording();
    const got = await replaceFolderAtomically(target, async (temp) => fs.writeFileSync(path.join(temp, 'model.json'), 'new'), () => true, {
      fs: ops, onPhase: (p) => { if (p === 'old-moved-aside') throw io('EIO'); },
    }).catch((e: { code?: string }) => e.code);
    expect(got).toBe('EIO');
    expect(list(parent)).toEqual(['m']);
    expect(fs.readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('old');
    expect(ops.calls.map((c) => c.replace(/-\d+-[0-9a-f]{16}/g, ''))).toEqual([`rm ${SAVE_MARKER}`, 'rename m .m.old', 'rename .m.old m', 'rm .m.tmp']);
  });

  it('a failure after the swap leaves the new target, and neither moves the old copy back nor removes anything', async () => {
    const parent = freshParent();
    const target = folder(parent, 'm', { 'model.json': 'old' });
    const ops = recording();
    const got = await replaceFolderAtomically(target, async (temp) => fs.writeFileSync(path.join(temp, 'model.json'), 'new'), () => true, {
      fs: ops, onPhase: (p) => { if (p === 'swapped') throw io('EIO'); },
    }).catch((e: { code?: string }) => e.code);
    expect(got).toBe('EIO');
    expect(fs.readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('new');
    expect(ops.calls.map((c) => c.replace(/-\d+-[0-9a-f]{16}/g, ''))).toEqual([`rm ${SAVE_MARKER}`, 'rename m .m.old', 'rename .m.tmp m']);
    expect(leftBehindOldFolders(target)).toHaveLength(1);
  });

  it('a target that appeared while the temp folder was written (told it does not exist) fails, and the temp folder goes', async () => {
    const parent = freshParent();
    const target = folder(parent, 'm', { 'model.json': 'someone else\'s' });
    const got = await replaceFolderAtomically(target, async (temp) => fs.writeFileSync(path.join(temp, 'model.json'), 'new'), () => false)
      .catch((e: { code?: string }) => e.code);
    expect(['ENOTEMPTY', 'EEXIST', 'EISDIR']).toContain(got);
    expect(list(parent)).toEqual(['m']);
    expect(fs.readFileSync(path.join(target, 'model.json'), 'utf8')).toBe('someone else\'s');
  });

  it('a parent that is a file: the first step fails and nothing is removed', async () => {
    const file = path.join(freshParent(), 'a-file');
    fs.writeFileSync(file, 'keep me');
    const ops = recording();
    const got = await replaceFolderAtomically(path.join(file, 'm'), async () => {}, () => false, { fs: ops }).catch((e: { code?: string }) => e.code);
    expect(['ENOTDIR', 'EEXIST']).toContain(got);
    expect(ops.calls).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('recovery leaves alone the side folders of a swap in progress in this process', async () => {
    const parent = freshParent();
    const target = path.join(parent, 'm');
    let during: string[] = [];
    await replaceFolderAtomically(target, async (temp) => {
      fs.writeFileSync(path.join(temp, 'model.json'), 'new');
      recoverInterruptedSaves(parent, isModel);
      during = list(parent);
    }, () => false);
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.m\.tmp-/);
    expect(list(parent)).toEqual(['m']);
  });
});
