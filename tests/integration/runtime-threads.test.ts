// V8's threads lowered while a run trains on two engines (engine/training/runtime-threads.ts). In a child process
// the real threads: those recorded at its start end at the lowest priority, and its main thread and a Worker
// started after the recording keep theirs. In this process the Trainer's calls, with a spy for setpriority: a
// two-engine run lowers them as it starts, a run whose second engine joins lowers them at the join, and a run on
// one engine, asked for or after the second failed to start, leaves them. The compiled dist/ is needed
// (`npm run build:node`; npm test builds).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WASM_DIR_ENV, initBackend } from '../../engine/backends/ladder.js';
import { loadDataset, type Dataset } from '../../engine/data/dataset.js';
import { getVariant } from '../../common/network/variants.js';
import { Recipe, type TrainerEvent } from '../../common/protocol.js';
import { endParallelThreads, parallelWorkerUrl } from '../../engine/training/parallel-trainer.js';
import { recordRuntimeThreads } from '../../engine/training/runtime-threads.js';
import { Trainer, type TrainerOptions } from '../../engine/training/trainer.js';

const DIST_MODULE = path.resolve(__dirname, '../../dist/engine/training/runtime-threads.js');
const linux = process.platform === 'linux';

let mnist: Dataset;
beforeAll(async () => {
  parallelWorkerUrl(); // throws, naming the missing file, when the build is absent
  await initBackend('wasm');
  mnist = loadDataset({ kind: 'mnist' });
});

afterEach(() => {
  vi.restoreAllMocks();
  recordRuntimeThreads(fs.mkdtempSync(path.join(os.tmpdir(), 'tasks-'))); // nothing recorded for the next test
});

// The child: records, starts a Worker that says its own thread id, lowers, then reads every thread's niceness.
const CHILD = `
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
const { recordRuntimeThreads, lowerRuntimeThreads } = await import(process.argv[1]);
const recorded = recordRuntimeThreads();
const worker = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()); setTimeout(() => {}, 2000);", { eval: true, execArgv: [] });
const workerThread = Number(await new Promise((resolve) => worker.once('message', resolve)));
const lowered = lowerRuntimeThreads();
const again = lowerRuntimeThreads();
const nice = (id) => { const stat = fs.readFileSync('/proc/self/task/' + id + '/stat', 'utf8'); return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); };
const niceness = Object.fromEntries(fs.readdirSync('/proc/self/task').map((id) => { try { return [id, nice(id)]; } catch { return [id, null]; } }));
console.log(JSON.stringify({ main: process.pid, recorded, workerThread, lowered, again, niceness }));
await worker.terminate();
`;

describe('runtime threads, for real', () => {
  it.skipIf(!linux)('lowers the threads recorded at start, and only those (Linux)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD, pathToFileURL(DIST_MODULE).href]);
    const r = JSON.parse(stdout) as { main: number; recorded: number[]; workerThread: number; lowered: number; again: number; niceness: Record<string, number | null> };
    expect(r.recorded.length).toBeGreaterThanOrEqual(4); // V8's platform threads, at least
    expect(r.recorded).not.toContain(r.main);
    expect(r.recorded).not.toContain(r.workerThread);
    expect(r.lowered).toBe(r.recorded.length);
    expect(r.again).toBe(0);
    for (const id of r.recorded) expect(r.niceness[id]).toBe(19);
    expect(r.niceness[r.main]).toBe(0);
    expect(r.niceness[r.workerThread]).toBe(0);
  });
});

describe("the Trainer's runs", () => {
  const fakeThreads = [900001, 900002];
  let lowered: number[];
  function recordFake(): void {
    lowered = [];
    Object.defineProperty(process, 'platform', { value: 'linux', configurable: true }); // the fake folder stands in for /proc anywhere
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tasks-'));
      for (const id of [process.pid, ...fakeThreads]) fs.mkdirSync(path.join(dir, String(id)));
      recordRuntimeThreads(dir);
    } finally {
      Object.defineProperty(process, 'platform', { value: os.platform(), configurable: true });
    }
    vi.spyOn(os, 'setPriority').mockImplementation((id: number, niceness?: number) => { if (niceness === 19) lowered.push(id); });
  }
  function trainer(extra: Partial<TrainerOptions>, onEvent: (e: TrainerEvent, t: Trainer) => void = () => undefined) {
    const spec = getVariant('modern');
    const t: Trainer = new Trainer({
      runId: 'threads', spec, recipe: Recipe.parse({ ...spec.recipe, epochs: 1, batchSize: 64 }), dataset: mnist, limit: 256, testLimit: 100,
      seed: 3, backend: 'wasm', emit: (e) => onEvent(e, t), throttle: { batch: 0 }, ...extra,
    });
    return t;
  }

  it('a run on one engine leaves them', async () => {
    recordFake();
    const t = trainer({ workers: 1 });
    expect((await t.run()).done.reason).toBe('completed');
    expect(lowered).toEqual([]);
    t.model.dispose();
  });

  it('a run on two engines lowers them before its first step', async () => {
    recordFake();
    let atFirstBatch: number[] | null = null;
    const t = trainer({ workers: 2 }, (e) => { if (e.type === 'batch' && atFirstBatch === null) atFirstBatch = [...lowered]; });
    expect((await t.run()).done.reason).toBe('completed');
    expect(atFirstBatch).toEqual(fakeThreads);
    expect(lowered).toEqual(fakeThreads);
    t.model.dispose();
  });

  it.skipIf(os.availableParallelism() < 2)('a run whose second engine cannot start leaves them', async () => {
    await endParallelThreads(); // a warm idle thread would be reused
    recordFake();
    const saved = process.env[WASM_DIR_ENV];
    process.env[WASM_DIR_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), 'no-wasm-')); // rank 1 finds no wasm binaries
    try {
      const events: TrainerEvent[] = [];
      const t = trainer({ workers: undefined, limit: 128 }, (e) => events.push(e));
      expect((await t.run()).done.reason).toBe('completed');
      expect(events.filter((e) => e.type === 'engines').map((e) => (e as { engines: number }).engines)).toEqual([1]);
      expect(lowered).toEqual([]);
      t.model.dispose();
    } finally {
      if (saved === undefined) delete process.env[WASM_DIR_ENV];
      else process.env[WASM_DIR_ENV] = saved;
    }
  });

  it.skipIf(os.availableParallelism() < 2)('a run whose second engine joins lowers them at the join, not before', async () => {
    await endParallelThreads(); // no warm thread: the run starts alone and rank 1 joins when ready
    recordFake();
    let atStart: number[] | null = null, atJoin: number[] | null = null;
    const t = trainer({ workers: undefined, limit: 60000 }, (e, self) => {
      if (e.type === 'started') atStart = [...lowered];
      if (e.type === 'engines') { atJoin = [...lowered]; self.stop(); }
    });
    const { done } = await t.run();
    expect(done.reason).toBe('stopped');
    expect(atStart).toEqual([]);
    expect(t.parallelReport.joinedAtStep).toBeGreaterThan(0);
    expect(atJoin).toEqual(fakeThreads);
    t.model.dispose();
  });
});
