// Smoke test of the real desktop app through Playwright's Electron driver.
// It needs an Electron binary; where there is none (this workplace installs
// with ELECTRON_SKIP_BINARY_DOWNLOAD=1) it is skipped and says why.
// Runs against the build: npm run build first (dist/main, dist/preload, dist/renderer, dist/hosts).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP_REASON = 'Electron binary not installed (ELECTRON_SKIP_BINARY_DOWNLOAD=1); run `npx electron --version` after a normal install';

/** The Electron executable, or null. require('electron') throws when the binary was never downloaded. */
function electronBinary(): string | null {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const BUILT = ['dist/main/main.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html', 'dist/hosts/worker-entry.js'];

describe('Electron app (smoke)', () => {
  const binary = electronBinary();
  let app: ElectronApplication | null = null;
  let userData: string | null = null;

  afterAll(async () => {
    await app?.close().catch(() => {});
    if (userData) await rm(userData, { recursive: true, force: true });
  });

  async function launch(): Promise<{ app: ElectronApplication; appWindow: Page }> {
    const missing = BUILT.filter((file) => !existsSync(path.join(ROOT, file)));
    if (missing.length) throw new Error(`The smoke test runs the build; ${missing.join(', ')} missing. Run "npm run build" first.`);
    userData = await mkdtemp(path.join(os.tmpdir(), 'lenet-electron-'));
    app = await _electron.launch({
      executablePath: binary!,
      args: ['.'],
      cwd: ROOT,
      env: { ...(process.env as Record<string, string>), LENET_LAB_USER_DATA_DIR: userData, LENET_LAB_BACKEND: 'cpu' },
    });
    const appWindow = await app.firstWindow();
    await appWindow.waitForLoadState('domcontentloaded');
    return { app, appWindow };
  }

  it('opens the window on app:// with the lab API and the security defaults', async (ctx) => {
    if (!binary) ctx.skip(SKIP_REASON);
    const { app: electronApp, appWindow } = await launch();

    expect(appWindow.url()).toMatch(/^app:\/\/lenet-lab\//);
    await expect.poll(() => appWindow.title()).toBe('LeNet Lab');
    await appWindow.getByTestId('nav-train').waitFor({ state: 'visible' });

    // The page sees window.lab and nothing of Node or Electron. (window.lab existing at all proves
    // contextIsolation: contextBridge refuses to work without it.)
    const page = await appWindow.evaluate(() => {
      const lab = (globalThis as unknown as { lab?: Record<string, unknown> }).lab ?? {};
      return {
        labKeys: Object.keys(lab).sort(),
        require: typeof (globalThis as { require?: unknown }).require,
        process: typeof (globalThis as { process?: unknown }).process,
        popup: globalThis.open('https://example.org/') === null,
      };
    });
    expect(page.require).toBe('undefined');
    expect(page.process).toBe('undefined');
    expect(page.popup).toBe(true);
    expect(page.labKeys).toEqual(expect.arrayContaining(['info', 'train', 'saveModel', 'onTrainerEvent', 'onMenuCommand']));
    expect(page.labKeys.join(' ')).not.toMatch(/ipc|invoke:|send/i);

    // A request goes all the way to the trainer utility process and back.
    const info = await appWindow.evaluate(() => (globalThis as unknown as { lab: { info(r: object): Promise<unknown> } }).lab.info({}));
    expect(info).toMatchObject({ ok: true, value: { transport: 'electron', canOpenDialogs: true } });

    // app:// responses carry the CSP header.
    const csp = await appWindow.evaluate(async () => (await fetch('app://lenet-lab/index.html')).headers.get('content-security-policy'));
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");

    // The navigation and webview guards are on the window's web contents.
    const guards = await electronApp.evaluate(({ BrowserWindow }) => {
      const contents = BrowserWindow.getAllWindows()[0]!.webContents;
      return ['will-navigate', 'will-redirect', 'will-attach-webview'].map((name) => contents.listenerCount(name));
    });
    for (const count of guards) expect(count).toBeGreaterThan(0);
  });

  it('switches views from the View menu', async (ctx) => {
    if (!binary) ctx.skip(SKIP_REASON);
    if (!app) ctx.skip('the window did not open in the first test');
    const electronApp = app!;
    const appWindow = await electronApp.firstWindow();
    await electronApp.evaluate(({ Menu }) => {
      const item = Menu.getApplicationMenu()?.items.flatMap((top) => top.submenu?.items ?? []).find((entry) => entry.label === 'Draw');
      item?.click();
    });
    await appWindow.getByTestId('draw-canvas').waitFor({ state: 'visible' });
  });
});
