// Durable, atomic writes shared by the engine (model folders) and Electron's main process (exports, window
// state): a file is written under a temp name, fsynced, renamed over its target, and the folder is fsynced, so
// a crash or power cut leaves the old file or the new one, never half of one. Renames and removals that
// Windows antivirus, search indexers or OneDrive briefly block (EPERM, EBUSY) are retried with backoff.
// Node only; no Electron.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** The file-system calls a save makes that another program can briefly block; replaceable in tests. */
export interface FsOps {
  rename(from: string, to: string): Promise<void>;
  rm(target: string, options: { recursive?: boolean; force?: boolean }): Promise<void>;
}
export const realFs: FsOps = { rename: fsp.rename, rm: fsp.rm };

/** Waits between attempts (ms): about 3 s in all, longer than a scan usually holds a fresh file. */
export const BUSY_RETRY_DELAYS_MS: readonly number[] = [50, 100, 200, 400, 800, 1600];

export interface RetryOptions {
  fs?: FsOps;
  /** Replaceable in tests so they need not wait. */
  sleep?: (ms: number) => Promise<void>;
  delays?: readonly number[];
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** EPERM/EBUSY on Windows usually mean "another program has the file open for a moment", not "never". */
const isTransient = (e: unknown): boolean => {
  const code = errnoCode(e);
  return code === 'EBUSY' || code === 'EPERM';
};

/** Runs `op`, retrying with backoff while it fails with EPERM/EBUSY; other errors and the last failure throw. */
export async function retryWhileBusy<T>(op: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const delays = options.delays ?? BUSY_RETRY_DELAYS_MS;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (attempt >= delays.length || !isTransient(e)) throw e;
      await sleep(delays[attempt]!);
    }
  }
}

/** Creates `file` (it must not exist), writes `data` and fsyncs it before closing. */
export async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fsp.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync a directory so renames and new entries in it survive a power cut (not supported everywhere). */
export async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows and some file systems cannot fsync a directory; the renames are still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Replaces `target` with `data` atomically and durably (temp file in the same folder, fsync, rename, fsync folder). */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: RetryOptions = {}): Promise<void> {
  const ops = options.fs ?? realFs;
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFileSynced(temp, data);
    await retryWhileBusy(() => ops.rename(temp, target), options);
    await syncDir(dir);
  } catch (e) {
    await ops.rm(temp, { force: true }).catch(() => undefined);
    throw e;
  }
}
