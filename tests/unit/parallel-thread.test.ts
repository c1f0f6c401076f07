// Rank 1's thread always runs compiled code (dist/), also when the tests run rank 0 from the sources. A dist/
// built before the ranks' shared memory changed (a second barrier, 6 December) was paired with the new rank 0:
// the first step waited 60 s at a barrier the old thread never reached, and lab-service's "trains a short run",
// run alone after a source change, timed out with no `done`. A thread must now say its layout, and another is
// refused at once (the trainer then runs on one engine, or reports it when two were asked for).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PROTOCOL } from '../../engine/training/data-parallel.js';
import { availableCores } from '../../engine/training/early-thread.js';
import { liveParallelThreads, startHelper } from '../../engine/training/parallel-trainer.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-thread-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in thread that answers the backend message with `answer` (what a build of other sources would say). */
function standIn(name: string, answer: object): URL {
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(file, `import { parentPort } from 'node:worker_threads';\nparentPort.postMessage(${JSON.stringify(answer)});\nsetInterval(() => {}, 1000);\n`);
  return pathToFileURL(file);
}

describe('a training thread from another build', () => {
  it('is refused when it says no layout (a build from before the check), with the fix, and is ended', async () => {
    const before = liveParallelThreads();
    await expect(startHelper('cpu', [], standIn('old', { type: 'backend' }))).rejects.toThrow(/old\.mjs is out of date \(another shared-memory layout\): run npm run build:node/);
    expect(liveParallelThreads()).toBe(before);
  });

  it('is refused when its layout differs in one slot', async () => {
    const other = JSON.parse(PROTOCOL) as { Control: Record<string, number> };
    other.Control.Size += 1;
    await expect(startHelper('cpu', [], standIn('other-layout', { type: 'backend', protocol: JSON.stringify(other) }))).rejects.toThrow(/out of date/);
  });

  it('is taken when it says this layout', async () => {
    const helper = await startHelper('cpu', [], standIn('same', { type: 'backend', protocol: PROTOCOL }));
    expect(helper.alive).toBe(true);
    await helper.terminate();
    expect(helper.alive).toBe(false);
  });
});

/** A stand-in thread that says this build's layout, then runs `then` (its own source). */
function sayingThen(name: string, then: string): URL {
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(file, `import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ type: 'backend', protocol: ${JSON.stringify(PROTOCOL)} });\n${then}\n`);
  return pathToFileURL(file);
}

describe('what a training thread says after it started, as the run reads it', () => {
  it('a thread that exits: the run hears "the thread exited", and the thread is gone from the count', async () => {
    const before = liveParallelThreads();
    const helper = await startHelper('cpu', [], sayingThen('exits', 'setTimeout(() => process.exit(0), 50);'));
    await expect(helper.next('ready')).rejects.toThrow(/^training thread 1: the thread exited$/);
    expect(helper.alive).toBe(false);
    expect(liveParallelThreads()).toBe(before);
  });

  it('a thread that throws: its own message, not a generic one', async () => {
    const helper = await startHelper('cpu', [], sayingThen('throws', 'setTimeout(() => { throw new Error("kernel out of memory"); }, 50);'));
    await expect(helper.next('ready')).rejects.toThrow(/^training thread 1: kernel out of memory$/);
    await helper.exited;
  });

  it('a thread that answers out of turn: which answer came and which was expected', async () => {
    const helper = await startHelper('cpu', [], sayingThen('out-of-turn', "parentPort.postMessage({ type: 'ended', tensors: 0 }); setInterval(() => {}, 1000);"));
    await expect(helper.next('ready')).rejects.toThrow("training thread 1 answered 'ended', expected 'ready'");
    await helper.terminate();
  });

  it('a thread that reports an error: its words, as a rejection', async () => {
    const helper = await startHelper('cpu', [], sayingThen('error', "parentPort.postMessage({ type: 'error', message: 'no model for variant x' }); setInterval(() => {}, 1000);"));
    await expect(helper.next('ready')).rejects.toThrow(/^training thread 1: no model for variant x$/);
    await helper.terminate();
  });

  it('what an early thread offered after it was taken (its kernels\' modules) is not read as an answer', async () => {
    const helper = await startHelper('cpu', [], sayingThen('offers', "parentPort.postMessage({ type: 'modules', simd: [] }); parentPort.postMessage({ type: 'ready' }); setInterval(() => {}, 1000);"));
    await expect(helper.next('ready')).resolves.toEqual({ type: 'ready' });
    await helper.terminate();
  });
});


describe('availableCores: the cores this process may use', () => {
  it('what Node says is available (a container\'s limit), else the machine\'s core count', () => {
    // Node's count, when it differs from the cores listed, is the one used.
    const machine = os.cpus().length;
    const limit = vi.spyOn(os, 'availableParallelism').mockReturnValue(machine + 3);
    expect(availableCores()).toBe(machine + 3);
    limit.mockRestore();
    // A Node without availableParallelism (before 18.14): the cores listed.
    const saved = os.availableParallelism;
    try {
      (os as { availableParallelism?: unknown }).availableParallelism = undefined;
      expect(availableCores()).toBe(machine);
    } finally {
      os.availableParallelism = saved;
    }
  });
});
