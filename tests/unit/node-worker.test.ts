// spawnForkedWorker (hosts/node-worker.ts), each call inside its test: what the forked worker gets (its
// environment, no flags of ours, structured messages, no stdin, our stderr for its output) and how its end
// is reported. The worker is a small script written here.
import fs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnForkedWorker } from '../../hosts/node-worker.js';
import type { FromWorker, WorkerPort } from '../../hosts/worker-link.js';

let dir: string;
let script: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lenet-node-worker-'));
  script = path.join(dir, 'worker.mjs');
  await writeFile(script, `
import fs from 'node:fs';
const id = (fd) => { const s = fs.fstatSync(fd); return [s.dev, s.ino, s.isCharacterDevice()]; };
process.on('message', (m) => {
  if (m.kind === 'report') process.send({ argv: process.argv.slice(2), execArgv: process.execArgv,
    x: process.env.LENET_TEST_X ?? null, nodeOptions: process.env.NODE_OPTIONS ?? null, path: process.env.PATH ?? null,
    stdin: id(0), stdout: id(1), stderr: id(2) });
  if (m.kind === 'echo') process.send(m.value);
  if (m.kind === 'exit') process.exit(m.code);
});
process.on('disconnect', () => process.exit(0));
`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The next message from the worker. */
const next = (port: WorkerPort): Promise<FromWorker> => new Promise((resolve) => port.onMessage(resolve));
const exitOf = (port: WorkerPort): Promise<number | null> => new Promise((resolve) => port.onExit(resolve));
const send = (port: WorkerPort, message: unknown): void => port.send(message as never);

describe('spawnForkedWorker', () => {
  it('gives the worker the host environment and ours, without NODE_OPTIONS, no flags, no stdin, and our stderr', async () => {
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--no-warnings';
    let port: WorkerPort;
    try {
      port = spawnForkedWorker({ LENET_TEST_X: 'x-value' }, { entry: script });
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    expect(port.pid).toBeGreaterThan(0);
    const answer = next(port);
    send(port, { kind: 'report' });
    const report = await answer as unknown as Record<string, unknown>;
    const parentStderr = fs.fstatSync(2);
    expect(report).toMatchObject({ argv: [], execArgv: [], x: 'x-value', nodeOptions: null, path: process.env.PATH });
    expect(report['stdin']).toEqual([fs.statSync('/dev/null').dev, fs.statSync('/dev/null').ino, true]);
    for (const fd of ['stdout', 'stderr']) expect(report[fd], fd).toEqual([parentStderr.dev, parentStderr.ino, parentStderr.isCharacterDevice()]);
    port.kill();
    expect(await exitOf(port)).toBeNull(); // kill() is SIGTERM, whose default ends it by the signal
  });

  it('passes structured messages (a Map, typed arrays) both ways, not JSON', async () => {
    const port = spawnForkedWorker({}, { entry: script });
    const answer = next(port);
    send(port, { kind: 'echo', value: { map: new Map([[1, 'one']]), bytes: new Uint8Array([1, 2, 3]) } });
    const echoed = await answer as unknown as { map: Map<number, string>; bytes: Uint8Array };
    expect(echoed.map).toBeInstanceOf(Map);
    expect(echoed.map.get(1)).toBe('one');
    expect(echoed.bytes).toBeInstanceOf(Uint8Array);
    expect(Array.from(echoed.bytes)).toEqual([1, 2, 3]);
    port.kill();
    await exitOf(port);
  });

  it('reports its exit code once to each listener, also to one added after the exit; sends and kills after it are ignored', async () => {
    const port = spawnForkedWorker({}, { entry: script });
    const first: (number | null)[] = [];
    const second: (number | null)[] = [];
    port.onExit((code) => first.push(code));
    port.onExit((code) => second.push(code));
    const exited = exitOf(port);
    send(port, { kind: 'exit', code: 7 });
    expect(await exited).toBe(7);
    expect([first, second]).toEqual([[7], [7]]);
    const late: (number | null)[] = [];
    port.onExit((code) => late.push(code));
    expect(late).toEqual([]); // told asynchronously, as a live worker would be
    await Promise.resolve();
    expect(late).toEqual([7]);
    expect(() => send(port, { kind: 'echo', value: 1 })).not.toThrow();
    expect(() => port.kill()).not.toThrow();
    expect([first, second, late]).toEqual([[7], [7], [7]]);
  });

  it('reports a worker ended by a signal as null', async () => {
    const port = spawnForkedWorker({}, { entry: script });
    const exited = exitOf(port);
    process.kill(port.pid!, 'SIGKILL');
    expect(await exited).toBeNull();
  });
});
