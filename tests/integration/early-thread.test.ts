// Rank 1's thread started with the process (engine/training/early-thread.ts, which the CLI's bin calls before
// loading the engine): the run adopts that very thread, with what it said before anyone listened; a thread on
// another backend, or one that died, is never adopted; and a waiting thread never keeps the process alive.
// The threads run the compiled dist/engine/training/parallel-worker.js: `npm run build:node` first.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import type { Worker } from 'node:worker_threads';
import { earlyThreadWaiting, earlyWasmModule, startThreadEarly, takeEarlyThread } from '../../engine/training/early-thread.js';
import { compiledSimdModules } from '../../engine/backends/wasm-simd.js';
import { PROTOCOL } from '../../engine/training/data-parallel.js';
import { endParallelThreads, liveParallelThreads, parallelWorkerUrl, startHelper, warmParallelEngine } from '../../engine/training/parallel-trainer.js';
import { prepareTrainingRun } from '../../engine/training/run.js';
import type { TrainerEvent } from '../../common/protocol.js';

beforeAll(async () => {
  parallelWorkerUrl(); // throws, naming the missing file, when the build is absent
  await initBackend('wasm');
});

/** Resolves when the thread sends its 'backend' message (it offers its modules before). */
const saidBackend = (worker: Worker): Promise<void> => new Promise((resolve) => {
  const listener = (m: { type: string }): void => { if (m.type === 'backend') { worker.off('message', listener); resolve(); } };
  worker.on('message', listener);
});

afterEach(async () => {
  takeEarlyThread('wasm')?.worker.terminate();
  await endParallelThreads();
});

describe('a rank 1 thread started early', () => {
  it('is the thread the run gets, and what it said before it was taken is not lost', async () => {
    const early = startThreadEarly('wasm', ['seed'])!;
    expect(early).not.toBeNull();
    expect(startThreadEarly('wasm', ['seed'])).toBeNull(); // at most one
    expect(earlyThreadWaiting()).toBe(true);
    // Its 'backend' message (after its warm-up) arrives while only the early listener hears it.
    await saidBackend(early);
    expect(earlyWasmModule()).toBeInstanceOf(WebAssembly.Module); // offered before, for this thread's backend
    const helper = await startHelper('wasm');
    expect(helper.worker).toBe(early);
    // The early listeners are gone: only the run's own (message, error, exit) remain.
    expect([early.listenerCount('message'), early.listenerCount('error'), early.listenerCount('exit')]).toEqual([1, 1, 1]);
    expect(earlyThreadWaiting()).toBe(false);
    expect(liveParallelThreads()).toBe(1);
    await helper.terminate();
  });

  it('a run on two engines adopts it and trains with it (both copies equal at the end)', async () => {
    const early = startThreadEarly('wasm', ['seed'])!;
    await warmParallelEngine('wasm', ['seed']);
    expect(liveParallelThreads()).toBe(1);
    const events: TrainerEvent[] = [];
    const prepared = prepareTrainingRun({ variant: 'seed', recipe: { epochs: 1 }, dataset: { kind: 'mnist' }, limit: 256, testLimit: 50, seed: 2 });
    const { finish, trainer } = prepared.start({ runId: 'early', backend: 'wasm', workers: 2, emit: (e) => events.push(e) });
    const { done } = await finish('early');
    expect(done.reason).toBe('completed');
    expect(events.find((e) => e.type === 'started')).toMatchObject({ engines: 2 });
    expect(trainer.parallelReport.copiesIdentical).toBe(true);
    expect(liveParallelThreads()).toBe(1); // the early thread, idle again: no other was started
    expect(early.threadId).toBeGreaterThan(0);
  });

  it('its compiled modules reach this thread before it is taken: the kernels\' at once, the backend\'s for its start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'early-thread-'));
    const offering = path.join(dir, 'offer.mjs');
    // A stand-in for the thread: a module of its own making (an empty one), then its 'backend' message.
    fs.writeFileSync(offering, `import { parentPort } from 'node:worker_threads';
const empty = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
parentPort.postMessage({ type: 'modules', wasm: empty, simd: [['stand-in kernel|own memory', empty]] });
parentPort.postMessage({ type: 'backend', protocol: ${JSON.stringify(PROTOCOL)} });
setInterval(() => {}, 1000);
`);
    const early = startThreadEarly('wasm', [], pathToFileURL(offering))!;
    await saidBackend(early);
    expect(compiledSimdModules().map(([key]) => key)).toContain('stand-in kernel|own memory');
    expect(earlyWasmModule()).toBeInstanceOf(WebAssembly.Module);
    expect(WebAssembly.Module.exports(earlyWasmModule()!)).toEqual([]);
    // Taken: the offer was not among what the run's side reads ('backend' comes first)
    const taken = takeEarlyThread('wasm')!;
    expect(taken.messages.map((m) => m.type)).toEqual(['backend']);
    await taken.worker.terminate();
  });

  it('on another backend than the run\'s: ended, never adopted', async () => {
    const early = startThreadEarly('cpu', [])!;
    const exited = once(early, 'exit');
    expect(takeEarlyThread('wasm')).toBeNull();
    await exited;
    expect(earlyThreadWaiting()).toBe(false);
  });

  it('that died before it was taken: not adopted (the run starts its own)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'early-thread-'));
    const crashing = path.join(dir, 'crash.mjs');
    fs.writeFileSync(crashing, 'process.exit(3);\n');
    const early = startThreadEarly('wasm', [], pathToFileURL(crashing))!;
    await once(early, 'exit');
    await new Promise((resolve) => setImmediate(resolve));
    expect(takeEarlyThread('wasm')).toBeNull();
    const helper = await startHelper('wasm');
    expect(helper.worker).not.toBe(early);
    await helper.terminate();
  });

  it('a thread that throws while starting is never adopted, and its error is not thrown in the process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'early-thread-'));
    const throwing = path.join(dir, 'throw.mjs');
    fs.writeFileSync(throwing, 'throw new Error("no backend here");\n');
    const early = startThreadEarly('wasm', [], pathToFileURL(throwing))!;
    // (events.once would itself reject on the thread's 'error' event)
    await new Promise((resolve) => early.once('exit', resolve));
    expect(takeEarlyThread('wasm')).toBeNull();
  });

  it('a thread taken as its uncaught error arrives, before it has exited: not adopted', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'early-thread-'));
    const throwing = path.join(dir, 'throw-later.mjs');
    fs.writeFileSync(throwing, 'setTimeout(() => { throw new Error("kernel out of memory"); }, 20);\n');
    const early = startThreadEarly('wasm', [], pathToFileURL(throwing))!;
    let takenAtError: unknown = 'never asked';
    // Heard after the early thread's own listener, as a run asking in that moment would be.
    early.once('error', () => { takenAtError = takeEarlyThread('wasm'); });
    await new Promise((resolve) => early.once('exit', resolve));
    expect(takenAtError).toBeNull();
  });

  it('never keeps the process alive: a command that ends before its run exits while the thread still loads', async () => {
    const script = `import { startThreadEarly } from ${JSON.stringify(pathToFileURL(path.resolve('dist/engine/training/early-thread.js')).href)};
if (!startThreadEarly('wasm', ['modern'])) process.exit(4);
process.stdout.write('started');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    expect(stdout).toBe('started');
  });
});
