// V8's threads lowered while a run trains on two engines (engine/training/runtime-threads.ts): which threads are
// recorded, and that lowering sets each to the lowest priority once. A fake /proc folder and a spy stand in for
// the system; tests/integration/runtime-threads.test.ts lowers real threads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNTIME_THREAD_NICENESS, lowerRuntimeThreads, recordRuntimeThreads } from '../../engine/training/runtime-threads.js';

function tasksFolder(entries: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasks-'));
  for (const entry of entries) fs.mkdirSync(path.join(dir, entry));
  return dir;
}

const realPlatform = process.platform;
const setPlatform = (platform: string): void => { Object.defineProperty(process, 'platform', { value: platform, configurable: true }); };

afterEach(() => {
  setPlatform(realPlatform);
  delete (process.versions as Record<string, string | undefined>)['electron'];
  recordRuntimeThreads(tasksFolder([])); // no recording left for the next test
});

describe('recordRuntimeThreads', () => {
  it('records every thread but the main one, and nothing that is not a thread id', () => {
    setPlatform('linux');
    const dir = tasksFolder(['100', '101', '102', '0', 'self', '-3']);
    expect(recordRuntimeThreads(dir, 100).sort()).toEqual([101, 102]);
  });

  it('records nothing where the folder cannot be read', () => {
    setPlatform('linux');
    expect(recordRuntimeThreads(path.join(os.tmpdir(), 'no-such-tasks-folder'), 1)).toEqual([]);
  });

  it('records nothing off Linux', () => {
    setPlatform('darwin');
    expect(recordRuntimeThreads(tasksFolder(['7', '8']), 7)).toEqual([]);
  });

  it("records nothing in Electron's processes (their threads at start are Chromium's)", () => {
    setPlatform('linux');
    (process.versions as Record<string, string>)['electron'] = '39.0.0';
    expect(recordRuntimeThreads(tasksFolder(['7', '8']), 7)).toEqual([]);
  });
});

describe('lowerRuntimeThreads', () => {
  it('sets each recorded thread to the lowest priority, once', () => {
    setPlatform('linux');
    recordRuntimeThreads(tasksFolder(['1', '21', '22']), 1);
    const calls: [number, number][] = [];
    expect(lowerRuntimeThreads((id, niceness) => calls.push([id, niceness]))).toBe(2);
    expect(calls.sort()).toEqual([[21, 19], [22, 19]]);
    expect(RUNTIME_THREAD_NICENESS).toBe(19);
    expect(lowerRuntimeThreads((id, niceness) => calls.push([id, niceness]))).toBe(0);
    expect(calls).toHaveLength(2);
  });

  it('skips a thread that has ended and lowers the rest', () => {
    setPlatform('linux');
    recordRuntimeThreads(tasksFolder(['1', '31', '32', '33']), 1);
    const lowered: number[] = [];
    const count = lowerRuntimeThreads((id) => {
      if (id === 32) throw Object.assign(new Error('no such process'), { code: 'ESRCH' });
      lowered.push(id);
    });
    expect(count).toBe(2);
    expect(lowered.sort()).toEqual([31, 33]);
  });

  it('a new recording can be lowered again', () => {
    setPlatform('linux');
    recordRuntimeThreads(tasksFolder(['1', '41']), 1);
    expect(lowerRuntimeThreads(() => undefined)).toBe(1);
    recordRuntimeThreads(tasksFolder(['1', '42']), 1);
    const ids: number[] = [];
    expect(lowerRuntimeThreads((id) => ids.push(id))).toBe(1);
    expect(ids).toEqual([42]);
  });

  it('does nothing when nothing was recorded', () => {
    const ids: number[] = [];
    expect(lowerRuntimeThreads((id) => ids.push(id))).toBe(0);
    expect(ids).toEqual([]);
  });
});
