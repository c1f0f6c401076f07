// The backend ladder (Node only): tensorflow (tfjs-node) → wasm → cpu.
// The first rung that loads becomes tfjs's backend; each attempt is reported with
// the reason it failed, so hosts can show why a machine trains on wasm or cpu.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError, errorMessage } from '../../common/errors.js';
import type { BackendName } from '../../common/protocol.js';
import { BACKEND_NAMES } from '../../common/names.js';
import { missingTfjsNodeAddon } from './tfjs-node-addon.js';
import { registerCpuTrainingKernels } from './cpu-kernels.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { prepareWasmThreads, unrefWasmThreads, wantedWasmThreads, wasmThreadsInUse } from './wasm-threads.js';

export interface BackendAttempt { name: BackendName; ok: boolean; reason?: string }
export interface BackendReport {
  name: BackendName;
  /** One line for people: what the backend is and how it runs here. */
  note: string;
  attempts: BackendAttempt[];
}

/** Overrides where the wasm binaries are read from (a folder holding tfjs-backend-wasm*.wasm). */
export const WASM_DIR_ENV = 'LENET_LAB_WASM_DIR';
const WASM_BINARY = 'tfjs-backend-wasm-simd.wasm';
const WASM_THREADED_BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';

const require = createRequire(import.meta.url);

class RungFailure extends Error {}

/** The folder with the wasm binaries: the env override, else the installed package's dist/. */
export function wasmBinaryDir(): string {
  const override = process.env[WASM_DIR_ENV];
  if (override !== undefined && override !== '') return path.resolve(override);
  // Resolved from this file, so it also finds node_modules inside a packaged app.
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/** Runs `init` while collecting console.warn output, which is where tfjs reports backend init errors. */
async function withWarningsCaptured<T>(init: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...parts: unknown[]) => { warnings.push(parts.map((p) => errorMessage(p)).join(' ')); };
  try {
    return { value: await init(), warnings };
  } finally {
    console.warn = original;
  }
}

async function switchTo(name: BackendName): Promise<void> {
  const { value: ok, warnings } = await withWarningsCaptured(() => tf.setBackend(name));
  if (!ok || tf.getBackend() !== name) {
    const detail = warnings.filter((w) => !/^Initialization of backend/.test(w)).join(' ').split('\n')[0];
    throw new RungFailure(`the ${name} backend failed to initialise${detail ? `: ${detail}` : ''}`);
  }
}

function isModuleNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function tryTensorflow(): Promise<string> {
  const missing = missingTfjsNodeAddon();
  if (missing) throw new RungFailure(`tfjs-node is installed but failed to load: ${missing}`);
  // A variable specifier: the package is optional and absent from most installs.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
  } catch (e) {
    const message = errorMessage(e);
    if (isModuleNotFound(e) && /Cannot find (package|module) '@tensorflow\/tfjs-node'/.test(message)) {
      throw new RungFailure('tfjs-node is not installed (optional; no build for this platform)');
    }
    throw new RungFailure(`tfjs-node is installed but failed to load: ${message.split('\n')[0]}`);
  }
  // tfjs-node registers 'tensorflow' with the tfjs-core it imports; it must be ours.
  if (tf.findBackendFactory('tensorflow') === null) {
    throw new RungFailure(
      `tfjs-node loaded, but registered its backend with another copy of @tensorflow/tfjs-core ` +
      `(the engine uses ${tf.version_core}); install versions that share one tfjs-core`);
  }
  await switchTo('tensorflow');
  return 'tfjs-node: native libtensorflow, all cores';
}

/** tfjs-backend-wasm registers its backend with this priority. */
const WASM_PRIORITY = 2;

async function tryWasm(threads: number): Promise<string> {
  const dir = wasmBinaryDir();
  if (!existsSync(path.join(dir, WASM_BINARY))) {
    throw new RungFailure(`no ${WASM_BINARY} in ${dir}${process.env[WASM_DIR_ENV] ? ` (from ${WASM_DIR_ENV})` : ''}`);
  }
  setWasmPaths(dir.endsWith(path.sep) ? dir : dir + path.sep);
  registerWasmTrainingKernels();
  registerCpuTrainingKernels();
  const simd = (): string => (tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? ', SIMD' : ', no SIMD');
  let threadsUnavailable = '';
  if (threads > 1 && existsSync(path.join(dir, WASM_THREADED_BINARY))) {
    const factory = tf.findBackendFactory('wasm');
    const undo = prepareWasmThreads(threads);
    try {
      await switchTo('wasm');
      unrefWasmThreads();
      const inUse = wasmThreadsInUse();
      return `WebAssembly (XNNPACK${simd()}, ${inUse} threads per engine), with LeNet Lab's training kernels`;
    } catch (e) {
      // Back to the single-threaded build: a fresh registration, since the failed one is spent.
      threadsUnavailable = ` (threads unavailable: ${errorMessage(e).split('\n')[0]})`;
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setThreadsCount(1);
      if (factory) {
        tf.removeBackend('wasm');
        tf.registerBackend('wasm', factory, WASM_PRIORITY);
      }
    } finally {
      undo();
    }
  }
  await switchTo('wasm');
  return `WebAssembly (XNNPACK${simd()}, 1 thread per engine), with LeNet Lab's training kernels${threadsUnavailable}`;
}

async function tryCpu(): Promise<string> {
  registerCpuTrainingKernels();
  await switchTo('cpu');
  return 'plain JavaScript (one thread per engine), with LeNet Lab\'s training kernels (the slowest rung)';
}

const RUNGS: Record<BackendName, (options: BackendOptions) => Promise<string>> = {
  tensorflow: tryTensorflow,
  wasm: (options) => withWasmModule(options.wasmModule, () => tryWasm(options.wasmThreads ?? wantedWasmThreads())),
  cpu: tryCpu,
};

export interface BackendOptions {
  /** XNNPACK threads for the wasm backend (default 1, or LENET_LAB_WASM_THREADS). */
  wasmThreads?: number;
  /**
   * The wasm backend's module as another engine of this process compiled it (compiledWasmModule()).
   * A worker thread that reuses it starts with that engine's optimised code instead of warming up
   * its own (≈ 60 steps at half speed).
   */
  wasmModule?: WebAssembly.Module;
}

let compiledWasm: WebAssembly.Module | undefined;

/** The module the wasm backend compiled or reused in this thread, for other engines of this process. */
export const compiledWasmModule = (): WebAssembly.Module | undefined => compiledWasm;

/** Runs `init` with WebAssembly.instantiate remembering the compiled module, or instantiating `reuse` instead. */
async function withWasmModule<T>(reuse: WebAssembly.Module | undefined, init: () => Promise<T>): Promise<T> {
  const instantiate = WebAssembly.instantiate;
  const hooked = async (source: unknown, imports?: WebAssembly.Imports): Promise<unknown> => {
    if (source instanceof WebAssembly.Module) return instantiate(source, imports);
    if (reuse) {
      compiledWasm = reuse;
      return { module: reuse, instance: await instantiate(reuse, imports) };
    }
    const result = await instantiate(source as BufferSource, imports);
    compiledWasm = result.module;
    return result;
  };
  WebAssembly.instantiate = hooked as typeof WebAssembly.instantiate;
  try {
    return await init();
  } finally {
    WebAssembly.instantiate = instantiate;
  }
}

let active: BackendName | undefined;

/**
 * Makes the fastest backend that loads tfjs's active backend. With `preferred`, only
 * that backend is tried, and failing is a UserError('unsupported') naming it and why.
 */
export async function initBackend(preferred?: BackendName, options: BackendOptions = {}): Promise<BackendReport> {
  const order: readonly BackendName[] = preferred ? [preferred] : BACKEND_NAMES;
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const note = await RUNGS[name](options);
      attempts.push({ name, ok: true });
      active = name;
      return { name, note, attempts };
    } catch (e) {
      const reason = e instanceof RungFailure ? e.message : `unexpected error: ${errorMessage(e)}`;
      attempts.push({ name, ok: false, reason });
    }
  }
  if (preferred) {
    throw new UserError('unsupported', `backend '${preferred}' is not available here: ${attempts[0]?.reason ?? 'unknown reason'}`);
  }
  throw new Error(`no tfjs backend could be initialised: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`);
}

/** The backend initBackend chose. Throws if initBackend has not succeeded yet. */
export function activeBackend(): BackendName {
  // engine().backendName, unlike getBackend(), does not initialise a backend as a side effect.
  const current: string | null | undefined = tf.engine().backendName;
  if (active !== undefined && current === active) return active;
  if (current && (BACKEND_NAMES as readonly string[]).includes(current)) return current as BackendName;
  throw new Error('no backend is active: call initBackend() first');
}
