// XNNPACK on every core for the wasm backend in Node.
//
// tfjs-backend-wasm ships a threaded build (Emscripten pthreads, which use worker_threads in Node)
// but never uses it there, for three reasons this module works around while the backend starts:
//  - its feature check answers "no threads" whenever it runs in Node: the flag is set here instead;
//  - it hands the pthread worker script and the main script over as Blob URLs, which Node's Worker
//    cannot load: both are written to files, in a folder private to this process (mkdtemp, 0700: on
//    a shared lab machine nobody else can swap the code we run), removed when the process exits;
//  - it caps XNNPACK's pool at half the logical cores (1 on a 2-core machine, assuming
//    hyper-threading): the core count it reads is doubled so that the cap is the count asked for.
// The patches of URL.createObjectURL and os.cpus last only as long as the backend's start.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/**
 * XNNPACK threads per training engine (default 1). Training already runs two data-parallel engines,
 * one per core, which beats one engine with two XNNPACK threads on two cores (BENCHMARKS.md); on a
 * machine with more cores, LENET_LAB_WASM_THREADS=cores/2 gives each engine its share.
 */
export const WASM_THREADS_ENV = 'LENET_LAB_WASM_THREADS';

/** Threads XNNPACK should use: LENET_LAB_WASM_THREADS (at most 8, the build's pool), else 1. */
export function wantedWasmThreads(): number {
  const override = Number(process.env[WASM_THREADS_ENV]);
  return Number.isInteger(override) && override >= 1 ? Math.min(override, 8) : 1;
}

let scripts: { main: string; worker: string } | undefined;

/** The two scripts the threaded build's pthreads load, as CommonJS files (written once per process). */
function writeThreadScripts(): { main: string; worker: string } {
  if (scripts && existsSync(scripts.main) && existsSync(scripts.worker)) return scripts;
  const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as (...a: unknown[]) => unknown;
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  const mainScript = `var WasmBackendModuleThreadedSimd = ${factory.toString()}\n`;
  // The worker source is a template literal whose "\n" escapes became newlines (tfjs escapes them back the same way).
  const workerBody = wasmWorkerContents.replace(/\n/g, '\\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lenet-lab-wasm-threads-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const main = path.join(dir, 'main.cjs');
  const worker = path.join(dir, 'worker.cjs');
  writeFileSync(main, mainScript, { mode: 0o600 });
  // The worker turns the main script's Blob (posted to it) into a URL too: map that to the file as well.
  writeFileSync(worker, `URL.createObjectURL = () => ${JSON.stringify(main)};\n${workerBody}`, { mode: 0o600 });
  scripts = { main, worker };
  return scripts;
}

/**
 * Arranges for the next initialisation of the wasm backend to use the threaded build with
 * `threads` XNNPACK threads. Call it right before tf.setBackend('wasm'); call the returned
 * function right after, whatever happened.
 */
export function prepareWasmThreads(threads: number): () => void {
  const scripts = writeThreadScripts();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = (blob: Blob) =>
    blob?.type === 'application/javascript' ? scripts.worker : blob?.type === 'text/javascript' ? scripts.main : createObjectURL(blob);
  const doubled = (): os.CpuInfo[] => {
    const real = cpus();
    const stand = { model: 'cpu', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
    return Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(1, real.length)] ?? stand);
  };
  os.cpus = doubled;
  return () => {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  };
}

/**
 * Lets the process exit while the pthread workers wait for work: Emscripten keeps a started
 * thread's worker referenced, so a CLI run or a test file would never end on its own.
 */
export function unrefWasmThreads(): void {
  const wasm = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: unknown[]; unusedWorkers?: unknown[] } } }).wasm;
  const workers = [...(wasm?.PThread?.runningWorkers ?? []), ...(wasm?.PThread?.unusedWorkers ?? [])];
  for (const worker of workers) (worker as { unref?: () => void }).unref?.();
}

/** XNNPACK's thread count in the running wasm backend. */
export function wasmThreadsInUse(): number {
  try {
    return getThreadsCount();
  } catch {
    return 1;
  }
}
