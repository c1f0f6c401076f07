// Rank 1's thread started before this process has loaded its engine. The CLI starts it as its process starts
// (cli/early-engine.ts), so the thread loads its backend and warms up on the other core while this one reads
// its modules and MNIST (about a second), and the run finds it ready. Only Node's built-ins are imported here:
// importing this module costs nothing. parallel-trainer.ts adopts the thread when the run asks for one.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendName, VariantName } from '../../common/protocol.js';
import { adoptSimdModules } from '../backends/wasm-simd.js';
import type { HelperSetup, ToCoordinator } from './parallel-worker.js';

/** Cores this process may use. */
export const availableCores = (): number => os.availableParallelism?.() ?? os.cpus().length;

/**
 * The compiled thread entry. Next to this module once compiled (dist/engine/training/); when this
 * module runs from the TypeScript sources (tests), the build's copy under dist/.
 */
export function parallelWorkerUrl(): URL {
  const sibling = new URL('./parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL('../../dist/engine/training/parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`parallel training needs the compiled worker ${fileURLToPath(built)}: run npm run build:node`);
}

interface EarlyThread {
  backend: BackendName;
  worker: Worker;
  /** What the thread said before it was adopted (a Worker drops messages nobody listens to). */
  messages: ToCoordinator[];
  /** The backend's wasm module as the thread compiled it, for this thread's backend (earlyWasmModule). */
  wasmModule?: WebAssembly.Module;
  exited: boolean;
  listeners: { message: (m: ToCoordinator) => void; error: (e: Error) => void; exit: () => void };
}

let early: EarlyThread | null = null;

/**
 * Starts rank 1's thread now, on `backend`, warming `warmUp`'s variants: at most one, and it never keeps the
 * process alive by itself (a command that fails before its run exits at once). Nothing here throws: the
 * thread, or null where one is already waiting or none could start (the run then starts one and reports why).
 */
export function startThreadEarly(backend: BackendName, warmUp: VariantName[], url?: URL): Worker | null {
  if (early) return null;
  let worker: Worker;
  try {
    worker = new Worker(url ?? parallelWorkerUrl(), { workerData: { backend, warmUp, offerModules: true } satisfies HelperSetup });
  } catch {
    return null;
  }
  worker.unref();
  const thread: EarlyThread = {
    backend, worker, messages: [], exited: false,
    listeners: {
      message: (m) => {
        if (m.type !== 'modules') return void thread.messages.push(m);
        // Compiled there, used here: this thread's kernels skip assembling them, its backend compiling its module.
        adoptSimdModules(m.simd);
        if (m.wasm) thread.wasmModule = m.wasm;
      },
      error: () => { thread.exited = true; }, // an uncaught error ends the thread: never adopted
      exit: () => { thread.exited = true; },
    },
  };
  worker.on('message', thread.listeners.message).on('error', thread.listeners.error).once('exit', thread.listeners.exit);
  early = thread;
  return worker;
}

/**
 * The early thread, with what it said so far, if it runs `backend` and is still alive; else null (a thread
 * on another backend is ended: the run's engine came out different from the guess). Taken at most once.
 */
export function takeEarlyThread(backend: BackendName): { worker: Worker; messages: ToCoordinator[] } | null {
  const thread = early;
  early = null;
  if (!thread) return null;
  // Synchronously, so no message falls between these listeners and the adopter's.
  thread.worker.off('message', thread.listeners.message).off('error', thread.listeners.error).off('exit', thread.listeners.exit);
  if (thread.exited) return null;
  if (thread.backend !== backend) {
    thread.worker.on('error', () => undefined);
    void thread.worker.terminate();
    return null;
  }
  thread.worker.ref();
  return { worker: thread.worker, messages: thread.messages };
}

/**
 * The wasm backend's module as the early thread compiled it, once it has said so: this thread's backend then
 * starts with the thread's code, optimised by its warm-up (V8 shares a module's code between threads).
 */
export const earlyWasmModule = (): WebAssembly.Module | undefined => early?.wasmModule;

/** Whether an early thread waits to be adopted (tests). */
export const earlyThreadWaiting = (): boolean => early !== null;
