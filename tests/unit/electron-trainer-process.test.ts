import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import type { ForkOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { WorkerClient } from '../../hosts/worker-link.js';
import type { FromWorker, ToWorker } from '../../hosts/worker-link.js';
import {
  appLayout,
  spawnUtilityWorker,
  TRAINER_SERVICE_NAME,
  trainerEnv,
  utilityWorkerSpawner,
  type UtilityChild,
  type UtilityForker,
} from '../../main/trainer-process.js';

/** Stands in for Electron's UtilityProcess: records what the host posts, lets the test answer or crash. */
class FakeUtilityProcess extends EventEmitter implements UtilityChild {
  readonly posted: ToWorker[] = [];
  killed = false;
  constructor(readonly modulePath: string, readonly options: ForkOptions | undefined) {
    super();
  }
  postMessage(message: ToWorker): void {
    this.posted.push(structuredClone(message));
  }
  kill(): boolean {
    this.killed = true;
    queueMicrotask(() => this.emit('exit', 15));
    return true;
  }
  reply(message: FromWorker): void {
    this.emit('message', structuredClone(message));
  }
}
class FakeForker implements UtilityForker {
  readonly children: FakeUtilityProcess[] = [];
  fork(modulePath: string, _args?: string[], options?: ForkOptions): FakeUtilityProcess {
    const child = new FakeUtilityProcess(modulePath, options);
    this.children.push(child);
    return child;
  }
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('appLayout', () => {
  it('development: everything from the repo, MNIST left to the engine', () => {
    const layout = appLayout({ isPackaged: false, appPath: '/repo', resourcesPath: '/electron/resources', userDataPath: '/home/u/.config/LeNet Lab' });
    expect(layout).toEqual({
      rendererDir: path.join('/repo', 'dist', 'renderer'),
      preloadPath: path.join('/repo', 'dist', 'preload', 'preload.cjs'),
      workerEntry: path.join('/repo', 'dist', 'hosts', 'worker-entry.js'),
      assetsDir: path.join('/repo', 'assets'),
      mnistDir: null,
      modelsDir: path.join('/home/u/.config/LeNet Lab', 'models'),
      windowStateFile: path.join('/home/u/.config/LeNet Lab', 'window-state.json'),
    });
  });

  it('packaged: code in the asar, assets and MNIST as resources', () => {
    const layout = appLayout({ isPackaged: true, appPath: '/opt/LeNet Lab/resources/app.asar', resourcesPath: '/opt/LeNet Lab/resources', userDataPath: '/u' });
    expect(layout.workerEntry).toBe(path.join('/opt/LeNet Lab/resources/app.asar', 'dist', 'hosts', 'worker-entry.js'));
    expect(layout.assetsDir).toBe(path.join('/opt/LeNet Lab/resources', 'assets'));
    expect(layout.mnistDir).toBe(path.join('/opt/LeNet Lab/resources', 'mnist'));
  });
});

describe('trainerEnv', () => {
  const layout = appLayout({ isPackaged: true, appPath: '/a/app.asar', resourcesPath: '/a', userDataPath: '/u' });

  it('sets the worker configuration and drops Node switches', () => {
    const env = trainerEnv(layout, {
      PATH: '/usr/bin', HOME: '/home/u', NODE_OPTIONS: '--require /tmp/evil.js', ELECTRON_RUN_AS_NODE: '1', ELECTRON_NO_ASAR: '1',
      LENET_LAB_MODELS_DIR: '/elsewhere', LENET_LAB_TRANSPORT: 'browser', LENET_LAB_BACKEND: 'cpu', UNSET: undefined,
    });
    expect(env).toEqual({
      PATH: '/usr/bin', HOME: '/home/u', LENET_LAB_BACKEND: 'cpu',
      LENET_LAB_MODELS_DIR: path.join('/u', 'models'), LENET_LAB_ASSETS_DIR: path.join('/a', 'assets'),
      LENET_LAB_TRANSPORT: 'electron', LENET_LAB_MNIST_DIR: path.join('/a', 'mnist'),
    });
  });

  it('lets the user point MNIST elsewhere, and leaves it unset in development', () => {
    expect(trainerEnv(layout, { LENET_LAB_MNIST_DIR: '/data/mnist' }).LENET_LAB_MNIST_DIR).toBe('/data/mnist');
    const dev = appLayout({ isPackaged: false, appPath: '/repo', resourcesPath: '/r', userDataPath: '/u' });
    expect(trainerEnv(dev, {})).not.toHaveProperty('LENET_LAB_MNIST_DIR');
  });
});

describe('spawnUtilityWorker', () => {
  it('pipes both of the trainer\'s streams line by line when given an output, and inherits them when not', () => {
    const forker = new FakeForker();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    forker.fork = (modulePath, _args, options) => {
      const child = Object.assign(new FakeUtilityProcess(modulePath, options), { stdout, stderr });
      forker.children.push(child);
      return child;
    };
    const lines: string[] = [];
    spawnUtilityWorker(forker, { entry: '/w.js', env: {}, output: (stream, line) => lines.push(`${stream}: ${line}`) });
    expect(forker.children[0]!.options).toMatchObject({ stdio: 'pipe' });
    stdout.write('backend wasm\nhalf a ');
    stderr.write('Error: boom\r\n    at x\n');
    stdout.end('line\n');
    return new Promise<void>((resolve) => setTimeout(() => {
      expect(lines).toEqual(['stdout: backend wasm', 'stderr: Error: boom', 'stderr:     at x', 'stdout: half a line']);
      const inherited = new FakeForker();
      spawnUtilityWorker(inherited, { entry: '/w.js', env: {} });
      expect(inherited.children[0]!.options).toMatchObject({ stdio: 'inherit' });
      resolve();
    }, 10));
  });

  it('forks the worker entry as a named utility process with the given env', () => {
    const forker = new FakeForker();
    spawnUtilityWorker(forker, { entry: '/app/dist/hosts/worker-entry.js', env: { A: '1' } });
    const child = forker.children[0]!;
    expect(child.modulePath).toBe('/app/dist/hosts/worker-entry.js');
    expect(child.options).toMatchObject({ serviceName: TRAINER_SERVICE_NAME, env: { A: '1' } });
  });

  it('carries invokes and results through WorkerClient', async () => {
    const forker = new FakeForker();
    const events: [string, unknown][] = [];
    const client = new WorkerClient(utilityWorkerSpawner(forker, { entry: 'w.js', env: {} }), (name, payload) => events.push([name, payload]));
    client.start();
    const answer = client.invoke('status', {});
    const child = forker.children[0]!;
    expect(child.posted).toEqual([{ kind: 'invoke', id: 1, name: 'status', request: {} }]);
    child.reply({ kind: 'result', id: 1, result: { ok: true, value: { phase: 'idle', runId: null } } });
    await expect(answer).resolves.toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    child.reply({ kind: 'event', name: 'trainerEvent', payload: { type: 'state', runId: 'r', phase: 'running' } });
    child.emit('message', null); // junk from a confused worker is ignored
    expect(events).toEqual([['trainerEvent', { type: 'state', runId: 'r', phase: 'running' }]]);
  });

  it('a crash settles what is pending, reports trainerCrashed, and a restart forks a fresh trainer', async () => {
    const forker = new FakeForker();
    const events: [string, unknown][] = [];
    const client = new WorkerClient(utilityWorkerSpawner(forker, { entry: 'w.js', env: {} }), (name, payload) => events.push([name, payload]));
    client.start();
    const pending = client.invoke('train', { variant: 'lenet5' });
    forker.children[0]!.reply({ kind: 'event', name: 'trainerEvent', payload: { type: 'state', runId: 'r', phase: 'running' } });
    forker.children[0]!.emit('exit', 139); // SIGSEGV in a native kernel mid-run, say
    await expect(pending).resolves.toMatchObject({ ok: false, error: { code: 'crashed' } });
    // The crash ends the run for every window, with its reason, then reports the crash itself.
    expect(events.slice(1)).toEqual([
      ['trainerEvent', { type: 'error', runId: 'r', message: 'The trainer process stopped unexpectedly (exit code 139), which ended this run.' }],
      ['trainerEvent', { type: 'state', runId: 'r', phase: 'idle' }],
      ['trainerCrashed', expect.objectContaining({ exitCode: 139 })],
    ]);
    expect(client.running).toBe(false);
    await expect(client.invoke('status', {})).resolves.toMatchObject({ ok: false, error: { code: 'crashed' } });

    client.restart();
    expect(forker.children).toHaveLength(2);
    const fresh = forker.children[1]!;
    const status = client.invoke('status', {});
    fresh.reply({ kind: 'result', id: fresh.posted[0]!.id, result: { ok: true, value: { phase: 'idle', runId: null } } });
    await expect(status).resolves.toMatchObject({ ok: true });
    expect(events).toHaveLength(4); // the restart itself is not a crash (and no run was active to end)
  });

  it('a trainer that dies before its first word is replaced at once on wasm, then cpu, and its requests go again', async () => {
    const forker = new FakeForker();
    const logs: string[] = [];
    const events: [string, unknown][] = [];
    const client = new WorkerClient(utilityWorkerSpawner(forker, { entry: 'w.js', env: { A: '1' }, log: (l) => logs.push(l) }), (name, payload) => events.push([name, payload]));
    client.start();
    const status = client.invoke('status', {});
    forker.children[0]!.emit('exit', 7); // died while loading tfjs-node, say
    expect(forker.children).toHaveLength(2);
    expect(forker.children[1]!.options?.env).toEqual({ A: '1', LENET_LAB_BACKEND: 'wasm', LENET_LAB_FALLBACK_NOTE: expect.stringMatching(/exit code 7.*wasm backend/) });
    expect(forker.children[1]!.posted).toEqual([{ kind: 'invoke', id: 1, name: 'status', request: {} }]);
    forker.children[1]!.emit('exit', 9);
    expect(forker.children).toHaveLength(3);
    expect(forker.children[2]!.options?.env).toMatchObject({ A: '1', LENET_LAB_BACKEND: 'cpu' });
    expect(forker.children[2]!.posted).toEqual([{ kind: 'invoke', id: 1, name: 'status', request: {} }]);
    forker.children[2]!.reply({ kind: 'result', id: 1, result: { ok: true, value: { phase: 'idle', runId: null } } });
    await expect(status).resolves.toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    expect(events).toEqual([]); // nothing crashed as far as the window knows
    expect(logs.join('\n')).toMatch(/wasm backend instead[\s\S]*cpu backend instead/);
    // The last rung is kept: a crash on cpu is reported, and a restart stays on cpu.
    forker.children[2]!.emit('exit', 139);
    await tick();
    expect(events).toEqual([['trainerCrashed', expect.objectContaining({ exitCode: 139 })]]);
    client.restart();
    expect(forker.children[3]!.options?.env).toMatchObject({ LENET_LAB_BACKEND: 'cpu' });
  });

  it('a trainer that dies before its first word on the last rung is reported as a crash', async () => {
    const forker = new FakeForker();
    const events: [string, unknown][] = [];
    const client = new WorkerClient(utilityWorkerSpawner(forker, { entry: 'w.js', env: {} }), (name, payload) => events.push([name, payload]));
    client.start();
    const status = client.invoke('status', {});
    forker.children[0]!.emit('exit', 1);
    forker.children[1]!.emit('exit', 1);
    forker.children[2]!.emit('exit', 1);
    expect(forker.children).toHaveLength(3);
    await expect(status).resolves.toMatchObject({ ok: false, error: { code: 'crashed', params: { exitCode: 1 } } });
    expect(events).toEqual([['trainerCrashed', expect.objectContaining({ exitCode: 1 })]]);
  });

  it('a trainer that crashes after it has spoken is restarted as it was', async () => {
    const forker = new FakeForker();
    const client = new WorkerClient(utilityWorkerSpawner(forker, { entry: 'w.js', env: { A: '1' } }), () => undefined);
    client.start();
    const status = client.invoke('status', {});
    forker.children[0]!.reply({ kind: 'result', id: 1, result: { ok: true, value: { phase: 'idle', runId: null } } });
    await status;
    forker.children[0]!.emit('exit', 139);
    await tick();
    client.restart();
    expect(forker.children[1]!.options?.env).toEqual({ A: '1' });
  });

  it('kill() on dispose is not reported as a crash, and nothing is posted after exit', async () => {
    const forker = new FakeForker();
    const events: string[] = [];
    const client = new WorkerClient(utilityWorkerSpawner(forker, { entry: 'w.js', env: {} }), (name) => events.push(name));
    client.start();
    const child = forker.children[0]!;
    client.dispose();
    await tick();
    expect(child.killed).toBe(true);
    expect(events).toEqual([]);

    const port = spawnUtilityWorker(forker, { entry: 'w.js', env: {} });
    const exited: (number | null)[] = [];
    port.onExit((code) => exited.push(code));
    forker.children[1]!.emit('exit', 1);
    port.send({ kind: 'invoke', id: 1, name: 'status', request: {} });
    expect(forker.children[1]!.posted).toEqual([]);
    port.onExit((code) => exited.push(code)); // late listeners still hear about it
    await tick();
    expect(exited).toEqual([1, 1]);
  });

  it('a postMessage that throws (uncloneable) stops the worker instead of hanging the request', () => {
    const forker = new FakeForker();
    const logs: string[] = [];
    const port = spawnUtilityWorker(forker, { entry: 'w.js', env: {}, log: (line) => logs.push(line) });
    const child = forker.children[0]!;
    child.postMessage = () => {
      throw new Error('could not be cloned');
    };
    port.send({ kind: 'invoke', id: 1, name: 'status', request: {} });
    expect(child.killed).toBe(true);
    expect(logs[0]).toMatch(/could not be cloned/);
  });
});
