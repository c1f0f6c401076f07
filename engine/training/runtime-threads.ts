// V8's own threads (its optimising compiler, WebAssembly tier-up, the garbage collector's helpers) start with the
// process. On two cores with two engines, a compile job on a third runnable thread takes a core from one engine,
// and the other engine waits for it at the step's barrier. A two-engine run lowers those threads to the lowest
// priority, so their jobs run in the moments an engine leaves a core idle. Linux only: thread ids come from
// /proc, and setpriority takes a thread id there; elsewhere both calls do nothing. Plain Node only: in Electron's
// utility process the threads present at start are Chromium's (its IPC thread among them), so none is recorded.
import { readdirSync } from 'node:fs';
import os from 'node:os';

/** The niceness V8's threads get: the lowest priority (19), as Linux spells it. */
export const RUNTIME_THREAD_NICENESS = 19;

let recorded: number[] = [];
let lowered = false;

/**
 * Notes the threads this process has now, other than its main thread. Call it first thing in a host, before it
 * starts a Worker: then they are V8's, Node's signal thread and any of libuv's file threads the module loader
 * started, and only V8's have work while a run trains.
 */
export function recordRuntimeThreads(tasksDir = '/proc/self/task', mainThread = process.pid): number[] {
  recorded = [];
  lowered = false;
  if (process.platform !== 'linux' || process.versions['electron'] !== undefined) return recorded;
  try {
    recorded = readdirSync(tasksDir).map(Number).filter((id) => Number.isInteger(id) && id > 0 && id !== mainThread);
  } catch {
    // no /proc (a sandbox): nothing to lower
  }
  return recorded;
}

/**
 * Lowers the recorded threads, once per process (a thread cannot be raised again without privileges, so there is
 * nothing to undo). Returns how many were lowered now; a thread that has ended is skipped.
 */
export function lowerRuntimeThreads(setPriority: (id: number, niceness: number) => void = os.setPriority): number {
  if (lowered) return 0;
  lowered = true;
  let count = 0;
  for (const id of recorded) {
    try {
      setPriority(id, RUNTIME_THREAD_NICENESS);
      count++;
    } catch {
      // ended since it was recorded, or not ours to change
    }
  }
  return count;
}
