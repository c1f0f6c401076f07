// End-to-end harness: the real browser-mode host (hosts/browser-server.ts) with
// the real compiled lab worker (dist/hosts/worker-entry.js) and the built
// renderer (dist/renderer/), driven in Debian Chromium through playwright-core.
// One lab (server + worker + browser) per test file; every file gets a fresh
// models folder and a fresh browser profile.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startBrowserServer, type BrowserServer } from '../../hosts/browser-server.js';
import { spawnForkedWorker } from '../../hosts/node-worker.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RENDERER_DIR = path.join(REPO_ROOT, 'dist', 'renderer');
export const WORKER_ENTRY = path.join(REPO_ROOT, 'dist', 'hosts', 'worker-entry.js');
/** The app's assets (pretrained models, reference data); LENET_LAB_ASSETS_DIR overrides it as it does for `npm run serve`. */
export const ASSETS_DIR = process.env.LENET_LAB_ASSETS_DIR || path.join(REPO_ROOT, 'assets');
export const SCREENSHOTS_DIR = path.join(REPO_ROOT, 'docs', 'screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 800 };

export type ViewName = 'train' | 'network' | 'filters' | 'features' | 'draw' | 'evaluate' | 'convolutions';

export interface Lab {
  server: BrowserServer;
  context: BrowserContext;
  page: Page;
  /** The worker's LENET_LAB_MODELS_DIR (a fresh temp folder). */
  modelsDir: string;
  /** Uncaught exceptions in the page; a test ends by expecting this empty. */
  pageErrors: string[];
  /** console.error lines from the page, for failure messages. */
  consoleErrors: string[];
  close(): Promise<void>;
}

function requireBuilt(): void {
  const missing = [path.join(RENDERER_DIR, 'index.html'), WORKER_ENTRY].filter((file) => !existsSync(file));
  if (missing.length) {
    throw new Error(`The e2e tests run against the build, and ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing. Run "npm run build" first.`);
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing. Install Debian's Chromium with "apt-get install -y chromium" (never "npx playwright install").`);
  }
}

export interface LabOptions {
  /** The browser's language (navigator.languages), which the app follows on a first launch; en-US unless a test says. */
  locale?: string;
  /** The guided lesson opens by itself on a first launch; other tests start as if it had been seen (`lesson: true` keeps it). */
  lesson?: boolean;
  /** axe-core is injected as a script: the page's CSP must let it in. */
  bypassCSP?: boolean;
  /** Holds every message from the host this long before the page gets it (a slow first launch), order kept. */
  hostDelayMs?: number;
}

/** Starts server, worker and browser, opens the page and waits for the app to show its navigation. */
/** Relays the page's WebSocket to the host, each host message held `delayMs` (in order). */
async function delayHostMessages(context: BrowserContext, delayMs: number): Promise<void> {
  await context.routeWebSocket(/./, (ws) => {
    const server = ws.connectToServer();
    let last = Promise.resolve();
    server.onMessage((message) => {
      const due = Date.now() + delayMs;
      last = last.then(() => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())))).then(() => ws.send(message));
    });
  });
}

export async function startLab({ locale = 'en-US', lesson = false, bypassCSP = false, hostDelayMs = 0 }: LabOptions = {}): Promise<Lab> {
  requireBuilt();
  const sandbox = await mkdtemp(path.join(os.tmpdir(), 'lenet-e2e-'));
  const modelsDir = path.join(sandbox, 'models');
  const profileDir = path.join(sandbox, 'chromium-profile');
  await mkdir(modelsDir);
  // Let the worker's backend ladder choose (wasm here), as a student's machine would.
  delete process.env.LENET_LAB_BACKEND;
  const workerEnv = { LENET_LAB_MODELS_DIR: modelsDir, LENET_LAB_ASSETS_DIR: ASSETS_DIR, LENET_LAB_TRANSPORT: 'browser' };

  const serverLog: string[] = [];
  const server = await startBrowserServer({
    port: 0,
    rendererDir: RENDERER_DIR,
    spawnWorker: () => spawnForkedWorker(workerEnv, { entry: WORKER_ENTRY }),
    log: (line) => serverLog.push(line),
  });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: VIEWPORT,
      locale,
      deviceScaleFactor: 1,
      colorScheme: 'light',
      reducedMotion: 'reduce',
      bypassCSP,
    });
  } catch (error) {
    await server.close();
    throw error;
  }

  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });

  const close = async (): Promise<void> => {
    await context.close().catch(() => {});
    await server.close();
    await rm(sandbox, { recursive: true, force: true });
    if (serverLog.length) process.stderr.write(`browser server said:\n  ${serverLog.join('\n  ')}\n`);
    if (consoleErrors.length) process.stderr.write(`the page logged errors:\n  ${consoleErrors.join('\n  ')}\n`);
  };

  try {
    if (hostDelayMs > 0) await delayHostMessages(context, hostDelayMs);
    if (!lesson) await context.addInitScript(() => localStorage.setItem('lenet-lab.tour', JSON.stringify({ seen: true, step: null })));
    await page.goto(server.url);
    await page.getByTestId('nav-train').waitFor({ state: 'visible', timeout: 30_000 });
  } catch (error) {
    await close();
    throw new Error(`The app did not come up at ${server.url}: ${error instanceof Error ? error.message : String(error)}\n` +
      `page errors: ${pageErrors.join('\n') || 'none'}\nconsole errors: ${consoleErrors.join('\n') || 'none'}`, { cause: error });
  }
  return { server, context, page, modelsDir, pageErrors, consoleErrors, close };
}

export async function goTo(page: Page, view: ViewName): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
}

/** The canvas's pixels (RGBA) as a compact fingerprint: same picture ⇔ same fingerprint. */
export async function canvasPixels(canvas: Locator): Promise<{ width: number; height: number; hash: string; inked: number }> {
  return canvas.evaluate((element) => {
    const node = element as HTMLCanvasElement;
    const context = node.getContext('2d');
    if (!context) throw new Error('not a 2d canvas');
    const { data } = context.getImageData(0, 0, node.width, node.height);
    // FNV-1a over the bytes; "inked" counts pixels that are not fully transparent or plain white/black background.
    let hash = 0x811c9dc5;
    const first = [data[0], data[1], data[2], data[3]];
    let inked = 0;
    for (let i = 0; i < data.length; i++) hash = Math.imul(hash ^ data[i]!, 0x01000193) >>> 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== first[0] || data[i + 1] !== first[1] || data[i + 2] !== first[2] || data[i + 3] !== first[3]) inked++;
    }
    return { width: node.width, height: node.height, hash: hash.toString(16), inked };
  });
}

/** Fingerprints of every canvas under root, in document order. */
export async function allCanvasPixels(root: Locator): Promise<string[]> {
  const canvases = root.locator('canvas');
  const count = await canvases.count();
  const prints: string[] = [];
  for (let i = 0; i < count; i++) prints.push((await canvasPixels(canvases.nth(i))).hash);
  return prints;
}

/** Presses the mouse at the first point and drags through the rest; points are fractions (0..1) of the element's box. */
export async function drawStroke(page: Page, target: Locator, points: [number, number][], stepsPerSegment = 6): Promise<void> {
  const box = await target.boundingBox();
  if (!box) throw new Error('the drawing canvas is not visible');
  const at = ([fx, fy]: [number, number]): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
  const [start, ...rest] = points;
  if (!start) return;
  await page.mouse.move(...at(start));
  await page.mouse.down();
  for (const point of rest) await page.mouse.move(...at(point), { steps: stepsPerSegment });
  await page.mouse.up();
}

/** Points on an ellipse (a "0"), clockwise from the top, closed. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, count = 24): [number, number][] {
  const points: [number, number][] = [];
  for (let i = 0; i <= count; i++) {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count;
    points.push([cx + rx * Math.cos(angle), cy + ry * Math.sin(angle)]);
  }
  return points;
}

/** Closes every toast, so screenshots show the view, not the notifications of the steps before. */
export async function dismissToasts(page: Page): Promise<void> {
  // Always the first: each click removes a toast, so a list of the buttons taken up front goes stale.
  const buttons = page.getByTestId('toast-dismiss');
  for (let i = 0; i < 20 && (await buttons.count()) > 0; i++) await buttons.first().click({ timeout: 2000 }).catch(() => undefined);
}

/** A window-sized PNG of the current view for the README, scrolled to the view's top (in `folder` under docs/screenshots). */
export async function saveScreenshot(page: Page, view: string, folder = ''): Promise<string> {
  const dir = path.join(SCREENSHOTS_DIR, folder);
  await mkdir(dir, { recursive: true });
  await dismissToasts(page);
  const file = path.join(dir, `${view}.png`);
  await page.mouse.move(0, VIEWPORT.height - 1); // no hover effects or tooltips in the picture
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    for (const element of Array.from(document.querySelectorAll('*'))) if (element.scrollTop > 0) element.scrollTop = 0;
  });
  // Let charts and canvases finish their frame.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

/** A data-testid's text, trimmed; '' when the element is not on the page (no waiting). */
export async function textOf(page: Page, testId: string): Promise<string> {
  const element = page.getByTestId(testId);
  if ((await element.count()) === 0) return '';
  return ((await element.first().textContent({ timeout: 5_000 })) ?? '').trim();
}

const AXE = path.join(REPO_ROOT, 'node_modules', 'axe-core', 'axe.min.js');

export interface AxeFinding { id: string; impact: string; nodes: number; where: string }

/** axe-core's serious and critical violations in the page (or under `selector`); needs startLab({ bypassCSP: true }). */
export async function axe(page: Page, selector?: string): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async (context) => {
    type Node = { target: string[]; any: { data?: { contrastRatio?: number } }[] };
    const axe = (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: { id: string; impact: string; nodes: Node[] }[] }> } }).axe;
    const result = await axe.run(context ?? document, { resultTypes: ['violations'] });
    return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id, impact: v.impact, nodes: v.nodes.length,
        where: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}${n.any[0]?.data?.contrastRatio ? ` ${n.any[0].data.contrastRatio}:1` : ''}`).join(' | '),
      }));
  }, selector ?? null);
}
