// Replacing a whole folder atomically (a saved model is two files that must change together), and finishing
// what an interrupted replacement left behind. Node only.
//
// The new folder is written and fsynced as a sibling `.<name>.tmp-<pid>-<hex>`, then swapped in with two
// renames (old → `.<name>.old-<pid>-<hex>`, temp → `<name>`), then the parent is fsynced. A crash before the
// swap leaves the old folder untouched; a crash between the two renames leaves the old folder whole under
// its `.old-` name, which recovery renames back.
//
// Recovery deletes and renames folders, so it is never automatic: only a caller that owns the parent folder
// (the app's own models folder) calls it, and it touches only side folders that carry this app's marker:
// SAVE_MARKER (written first into a temp folder, removed once the model in it is complete) or what
// `isAppFolder` recognises (a complete LeNet Lab model). A side folder's name carries its machine (a hash of
// the host name) and process; it is removed only when that process is gone on this machine, so on a shared
// network folder another PC's save in progress is left alone. A missing model gets its old copy back
// whichever machine left it: that never destroys anything.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { errnoCode, realFs, retryWhileBusy, syncDir, writeFileSynced, type RetryOptions } from './atomic-file.js';

/** Written first into every temp folder; removed just before the temp folder takes the final name. */
export const SAVE_MARKER = '.lenet-lab-save';
const MARKER_APP = 'lenet-lab';
const MAX_MARKER_BYTES = 4096;

export type SwapPhase = 'temp-written' | 'old-moved-aside' | 'swapped';

export interface SwapOptions extends RetryOptions {
  /** Test seam: called at each step; a hook that throws makes the swap fail at that point. */
  onPhase?: (phase: SwapPhase) => void | Promise<void>;
}

/** Targets this process is replacing right now: their side folders are not stale. */
const swapsInProgress = new Set<string>();

export const swapInProgress = (target: string): boolean => swapsInProgress.has(path.resolve(target));

interface SideFolder { name: string; base: string; kind: 'tmp' | 'old'; pid: number; host: string | null; mtimeMs: number }

const SIDE_FOLDER = /^\.(.+)\.(tmp|old)-(\d+)-([0-9a-f]+)$/;
/** 8 hex digits naming this machine in side-folder names (older versions wrote 8 random digits only). */
export const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8);

/** The side folders in `parent` (all of them, or those of one target name). */
function sideFolders(parent: string, base?: string): SideFolder[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const out: SideFolder[] = [];
  for (const name of names) {
    const m = SIDE_FOLDER.exec(name);
    if (!m || (base !== undefined && m[1] !== base)) continue;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(path.join(parent, name));
    } catch {
      continue;
    }
    if (!stat.isDirectory()) continue; // never follow a symlink named like ours
    const host = m[4]!.length === 16 ? m[4]!.slice(0, 8) : null;
    out.push({ name, base: m[1]!, kind: m[2] as 'tmp' | 'old', pid: Number(m[3]), host, mtimeMs: stat.mtimeMs });
  }
  return out;
}

/** The `.old-` folders an interrupted replacement of `target` left, newest first (read-only). */
export function leftBehindOldFolders(target: string): string[] {
  const abs = path.resolve(target);
  return sideFolders(path.dirname(abs), path.basename(abs))
    .filter((s) => s.kind === 'old').sort((a, b) => b.mtimeMs - a.mtimeMs).map((s) => s.name);
}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** Whether a temp folder holds our marker (a save that had not finished writing). */
function holdsMarker(dir: string): boolean {
  const file = path.join(dir, SAVE_MARKER);
  try {
    const stat = fs.lstatSync(file);
    if (!stat.isFile() || stat.size > MAX_MARKER_BYTES) return false;
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { app?: unknown }).app === MARKER_APP;
  } catch {
    return false;
  }
}

/** Whether a folder holds nothing but (at most) a marker, complete or cut short: removing it loses no data. */
function holdsNoData(dir: string): boolean {
  try {
    return fs.readdirSync(dir).every((entry) => entry === SAVE_MARKER);
  } catch {
    return false;
  }
}

/** Whether nobody writes that side folder any more: made on this machine by a process that is gone. */
const isStale = (side: SideFolder): boolean =>
  side.host === HOST_TAG && (side.pid === process.pid || !pidIsAlive(side.pid));

/**
 * Finishes interrupted replacements in `parent` (of every target, or of `base` only), best effort and
 * synchronous: a missing target gets its newest old copy back; stale temp/old folders carrying the app's
 * marker are removed. Call it only on a folder the app owns.
 */
export function recoverInterruptedSaves(
  parent: string, isAppFolder: (dir: string) => boolean, base?: string,
  /** An old copy whose removal was cut short: it holds only what `isAppFolder` folders hold, but not all of it. */
  isCutShortCopy: (dir: string) => boolean = () => false,
): void {
  const root = path.resolve(parent);
  const sides = sideFolders(root, base);
  const byBase = new Map<string, SideFolder[]>();
  for (const side of sides) byBase.set(side.base, [...(byBase.get(side.base) ?? []), side]);
  for (const [name, group] of byBase) {
    const target = path.join(root, name);
    if (swapsInProgress.has(target)) continue;
    const olds = group.filter((s) => s.kind === 'old' && isAppFolder(path.join(root, s.name)))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    if (!fs.existsSync(target) && olds[0]) {
      try {
        fs.renameSync(path.join(root, olds[0].name), target);
        olds.shift();
      } catch {
        // Leave it: a later attempt (or the user) can still restore it by hand.
      }
    }
    // A save killed while it removed its old copy leaves part of one: no longer a whole model, still ours.
    const cutShort = group.filter((s) => s.kind === 'old' && !olds.includes(s) && isCutShortCopy(path.join(root, s.name)));
    const removable = [
      // An old copy is only removed while the target is there.
      ...(fs.existsSync(target) ? [...olds, ...cutShort].filter(isStale) : []),
      ...group.filter((s) => s.kind === 'tmp' && isStale(s)
        && (holdsMarker(path.join(root, s.name)) || isAppFolder(path.join(root, s.name)) || holdsNoData(path.join(root, s.name)))),
    ];
    for (const side of removable) {
      try {
        fs.rmSync(path.join(root, side.name), { recursive: true, force: true });
      } catch {
        // Best effort.
      }
    }
  }
}

/**
 * Replaces folder `target` by one that `fill` writes (into an empty temp folder), atomically. `targetExists`
 * is asked before the swap (and may throw to refuse replacing what is there). On failure whatever was at
 * `target` is left whole and the temp folder is removed; the error is rethrown as is.
 */
export async function replaceFolderAtomically(
  target: string, fill: (temp: string) => Promise<void>, targetExists: () => boolean, options: SwapOptions = {},
): Promise<void> {
  const ops = options.fs ?? realFs;
  const abs = path.resolve(target);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  swapsInProgress.add(abs);
  const suffix = `${process.pid}-${HOST_TAG}${randomBytes(4).toString('hex')}`;
  const temp = path.join(parent, `.${base}.tmp-${suffix}`);
  const old = path.join(parent, `.${base}.old-${suffix}`);
  let tempCreated = false;
  let oldMovedAside = false;
  try {
    await fsp.mkdir(parent, { recursive: true });
    await fsp.mkdir(temp);
    tempCreated = true;
    await writeFileSynced(path.join(temp, SAVE_MARKER), JSON.stringify({ app: MARKER_APP, pid: process.pid }));
    await fill(temp);
    await retryWhileBusy(() => ops.rm(path.join(temp, SAVE_MARKER), { force: true }), options);
    await syncDir(temp);
    await options.onPhase?.('temp-written');

    const exists = targetExists(); // it may have changed while we wrote
    if (exists) {
      await retryWhileBusy(() => ops.rename(abs, old), options);
      oldMovedAside = true;
      await options.onPhase?.('old-moved-aside');
    }
    await retryWhileBusy(() => ops.rename(temp, abs), options);
    tempCreated = false;
    oldMovedAside = false;
    await syncDir(parent);
    await options.onPhase?.('swapped');
    if (exists) await retryWhileBusy(() => ops.rm(old, { recursive: true, force: true }), options).catch(() => undefined);
  } catch (e) {
    if (oldMovedAside && !fs.existsSync(abs)) {
      await retryWhileBusy(() => ops.rename(old, abs), options).catch(() => undefined);
    }
    if (tempCreated) await retryWhileBusy(() => ops.rm(temp, { recursive: true, force: true }), options).catch(() => undefined);
    throw e;
  } finally {
    swapsInProgress.delete(abs);
  }
}
