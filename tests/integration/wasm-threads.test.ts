// The opt-in threaded wasm backend (engine/backends/wasm-threads.ts): what it patches while the backend
// starts, and a real start in a child process (threads cannot be undone inside one process), which must
// train like one thread does and let the process exit on its own.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { WASM_THREADS_ENV, prepareWasmThreads, wantedWasmThreads } from '../../engine/backends/wasm-threads.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('prepareWasmThreads', () => {
  it('maps the Blob URLs to script files and doubles the core count, only until undone', () => {
    const createObjectURL = URL.createObjectURL;
    const cpus = os.cpus;
    const before = tf.env().getFlags()['WASM_HAS_MULTITHREAD_SUPPORT'];
    const undo = prepareWasmThreads(3);
    try {
      const worker = URL.createObjectURL(new Blob(['x'], { type: 'application/javascript' }));
      const main = URL.createObjectURL(new Blob(['y'], { type: 'text/javascript' }));
      expect(worker).toMatch(/lenet-lab-wasm-threads-[^\\/]+[\\/]worker\.cjs$/);
      // A folder only this user can enter: on a shared machine nobody can swap the code the threads run.
      if (process.platform !== 'win32') expect(fs.statSync(path.dirname(worker)).mode & 0o077).toBe(0);
      expect(main).toMatch(/main\.cjs$/);
      // The worker script maps the main script's Blob to its file, then runs Emscripten's worker code.
      const workerSource = fs.readFileSync(worker, 'utf8');
      expect(workerSource.startsWith(`URL.createObjectURL = () => ${JSON.stringify(main)};`)).toBe(true);
      expect(workerSource).toContain('ENVIRONMENT_IS_NODE');
      expect(fs.readFileSync(main, 'utf8')).toMatch(/^var WasmBackendModuleThreadedSimd = /);
      // Other Blobs still get real object URLs.
      expect(URL.createObjectURL(new Blob(['z'], { type: 'image/png' }))).toMatch(/^blob:/);
      expect(os.cpus()).toHaveLength(6);
      expect(tf.env().getFlags()['WASM_HAS_MULTITHREAD_SUPPORT']).toBe(true);
    } finally {
      undo();
      if (before === undefined) tf.env().reset(); else tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', before);
    }
    expect(URL.createObjectURL).toBe(createObjectURL);
    expect(os.cpus).toBe(cpus);
    expect(os.cpus().length).toBe(cpus().length);
  });

  it('writes the scripts once per process: a second preparation finds them in place', () => {
    const undo = prepareWasmThreads(2);
    const file = URL.createObjectURL(new Blob([''], { type: 'application/javascript' }));
    undo();
    const written = fs.statSync(file).mtimeMs;
    const again = prepareWasmThreads(2);
    // A rewrite would land in a new private folder, under another name.
    expect(URL.createObjectURL(new Blob([''], { type: 'application/javascript' }))).toBe(file);
    again();
    expect(fs.statSync(file).mtimeMs).toBe(written);
  });

  it(`reads ${WASM_THREADS_ENV}: 1 by default, capped at the build's 8`, () => {
    const saved = process.env[WASM_THREADS_ENV];
    try {
      delete process.env[WASM_THREADS_ENV];
      expect(wantedWasmThreads()).toBe(1);
      process.env[WASM_THREADS_ENV] = '4';
      expect(wantedWasmThreads()).toBe(4);
      process.env[WASM_THREADS_ENV] = '64';
      expect(wantedWasmThreads()).toBe(8);
      process.env[WASM_THREADS_ENV] = 'many';
      expect(wantedWasmThreads()).toBe(1);
    } finally {
      if (saved === undefined) delete process.env[WASM_THREADS_ENV]; else process.env[WASM_THREADS_ENV] = saved;
    }
  });
});

describe('the threaded wasm backend, started for real', () => {
  // Ten training steps of `modern` on the same batches; prints the backend note and the losses.
  const script = `
    const D = ${JSON.stringify(path.join(ROOT, 'dist'))};
    const { initBackend } = await import(D + '/engine/backends/ladder.js');
    const { loadDataset } = await import(D + '/engine/data/dataset.js');
    const { VARIANTS } = await import(D + '/common/network/variants.js');
    const { LocalStepper } = await import(D + '/engine/training/step.js');
    const { rangeIndices } = await import(D + '/engine/training/batches.js');
    const report = await initBackend('wasm');
    const spec = VARIANTS.modern;
    const stepper = new LocalStepper(spec.build(3), spec, { ...spec.recipe, batchSize: 32 }, loadDataset({ kind: 'mnist' }).train, 10);
    const order = rangeIndices(320);
    const losses = [];
    for (let i = 0; i < 10; i++) losses.push(stepper.step(order, i * 32, i * 32 + 32, undefined, false).loss);
    console.log(JSON.stringify({ note: report.note, losses }));
  `;
  const run = (threads: string) => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, [WASM_THREADS_ENV]: threads },
  }).trim().split('\n').at(-1)!) as { note: string; losses: number[] };

  it('runs XNNPACK on 2 threads, trains as one thread does, and exits on its own', () => {
    const threaded = run('2');
    const single = run('1');
    expect(threaded.note).toMatch(/, 2 threads per engine\)/);
    expect(single.note).toMatch(/, 1 thread per engine\)/);
    expect(threaded.losses).toHaveLength(10);
    threaded.losses.forEach((loss, i) => expect(loss).toBeCloseTo(single.losses[i]!, 3));
    expect(threaded.losses[9]!).toBeLessThan(threaded.losses[0]!);
  });
});
