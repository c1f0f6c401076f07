// The packaged app, as built by `npm run dist:e2e` (electron-builder.e2e.yml: the release build with the
// one fuse Playwright needs), driven through Playwright's Electron driver: asar, fuses, resourcesPath and
// the trainer in its utility process, as users get them. It reads a drawn digit with the shipped model,
// trains a short run on two engines (worker threads, SharedArrayBuffer, the wasm from app.asar.unpacked),
// saves it, takes a screenshot and quits cleanly. CI runs it on Windows, macOS and Linux; where no packaged
// app exists (this workplace cannot download Electron) it skips and says why.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { drawStroke, goTo, textOf } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Set by CI to the packaged executable; otherwise the e2e build's output for this OS is looked for. */
const PACKAGED_APP_ENV = 'LENET_LAB_PACKAGED_APP';

export function packagedExecutable(root = ROOT, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | null {
  const chosen = env[PACKAGED_APP_ENV];
  if (chosen) return existsSync(chosen) ? chosen : null;
  const output = path.join(root, 'release-e2e');
  const candidates = platform === 'win32'
    ? [path.join(output, 'win-unpacked', 'LeNet Lab.exe')]
    : platform === 'darwin'
      ? ['mac-arm64', 'mac', 'mac-universal'].map((dir) => path.join(output, dir, 'LeNet Lab.app', 'Contents', 'MacOS', 'LeNet Lab'))
      : [path.join(output, 'linux-unpacked', 'lenet-lab')];
  return candidates.find((file) => existsSync(file)) ?? null;
}

const SKIP_REASON = `no packaged app: run "npm run dist:e2e" where Electron can be downloaded, or set ${PACKAGED_APP_ENV} to the packaged executable`;
const SCREENSHOT = path.join(ROOT, 'test-results', `electron-app-${process.platform}-${process.arch}.png`);

type LabWindow = { lab: Record<string, (...args: unknown[]) => unknown> };
type TrainerEvent = { type: string } & Record<string, unknown>;

describe('the packaged app (Playwright _electron)', () => {
  const executable = packagedExecutable();
  let app: ElectronApplication | null = null;
  let userData: string | null = null;
  let output = '';

  afterAll(async () => {
    await app?.close().catch(() => {});
    if (userData) await rm(userData, { recursive: true, force: true });
  });

  it('reads a drawn digit, trains on two engines in the utility process, saves, and quits cleanly', async (ctx) => {
    if (!executable) ctx.skip(SKIP_REASON);
    userData = await mkdtemp(path.join(os.tmpdir(), 'lenet 用户 '));
    app = await _electron.launch({
      executablePath: executable!,
      args: [],
      // wasm on purpose: tfjs-node (Linux packages) trains on one engine; this run must prove the two-engine path.
      env: { ...(process.env as Record<string, string>), LENET_LAB_USER_DATA_DIR: userData, LENET_LAB_BACKEND: 'wasm' },
      timeout: 120_000,
    });
    app.process().stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    const page: Page = await app.firstWindow();
    await page.getByTestId('nav-train').waitFor({ state: 'visible', timeout: 60_000 });
    expect(page.url()).toBe('app://lenet-lab/index.html');
    expect(await app.evaluate(({ app: electronApp }) => electronApp.isPackaged)).toBe(true);

    // The shipped model reads a "1" drawn with the mouse.
    await expect.poll(() => textOf(page, 'model-info'), { timeout: 60_000 }).toMatch(/test \d/);
    await goTo(page, 'draw');
    const pad = page.getByTestId('draw-canvas');
    await pad.waitFor({ state: 'visible' });
    await drawStroke(page, pad, [[0.5, 0.15], [0.5, 0.5], [0.5, 0.85]]);
    await expect.poll(() => textOf(page, 'prediction'), { timeout: 30_000 }).toBe('1');

    // Short runs through the preload, main and the utility process. The trainer warms its second engine when
    // it starts: a run before that is ready begins on one and the second joins it (or the next run finds it
    // ready), so the second run starts on two.
    for (const run of [1, 2]) {
      const events = await page.evaluate(() => new Promise<TrainerEvent[]>((resolve, reject) => {
        const { lab } = globalThis as unknown as LabWindow;
        const seen: TrainerEvent[] = [];
        const unsubscribe = lab.onTrainerEvent!((event: unknown) => {
          seen.push(event as TrainerEvent);
          if ((event as TrainerEvent).type === 'done') {
            (unsubscribe as () => void)();
            resolve(seen);
          }
        });
        void (lab.train!({ variant: 'lenet5', limit: 512, testLimit: 500, seed: 1998, recipe: { epochs: 1, batchSize: 32 } }) as Promise<{ ok: boolean; error?: { message: string } }>)
          .then((result) => { if (!result.ok) reject(new Error(result.error!.message)); });
      }));
      const started = events.find((event) => event.type === 'started');
      const done = events.at(-1)!;
      expect(started, output).toMatchObject({ backend: 'wasm', engines: run === 2 ? 2 : expect.any(Number) });
      expect(started?.enginesNote, output).toBeUndefined();
      expect(done, output).toMatchObject({ type: 'done', reason: 'completed', epochsCompleted: 1 });
    }

    // Saved under a non-ASCII name in userData: nothing is left unsaved, so quitting asks nothing.
    const saved = await page.evaluate(() => ((globalThis as unknown as LabWindow).lab.saveModel!({ name: '手写 模型' }) as Promise<{ ok: boolean; value?: { dir: string } }>));
    expect(saved, output).toMatchObject({ ok: true, value: { dir: path.join(userData, 'models', '手写 模型') } });

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    const child = app.process();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await app.close();
    app = null;
    expect(await exited, output).toBe(0);
    expect(output).not.toMatch(/trainer (exited|crashed)|FatalError/i);
  });
});
