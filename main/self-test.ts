// The release build's self-test: LENET_LAB_SELF_TEST=<report.json> makes the installed app prove, on the
// machine it was installed on, the paths a class depends on, then write a JSON report and exit 0 or 1.
// It only does what a user can do from the window (load the page, ask for info, train, save a model);
// it adds no capability: no new IPC, no network, and it writes nothing but its report, a screenshot beside
// it and the saved model in the app's own models folder. CI runs it on every installer (.github/workflows).
// Plain Node: the Electron calls come in through SelfTestHost, so tests drive it with fakes.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { InvokeName, RequestOf, ResponseOf, Result } from '../common/contract.js';

export const SELF_TEST_ENV = 'LENET_LAB_SELF_TEST';
/** Letters of two scripts, an accent and a space: the model folder name must survive every file system. */
export const SELF_TEST_MODEL_NAME = '自检 模型 Prüfung';
/** A short run: enough batches for both engines to step and average, a few seconds on a school PC. */
export const SELF_TEST_TRAIN = { variant: 'lenet5', limit: 512, testLimit: 500, seed: 1998, recipe: { epochs: 1, batchSize: 32 } } as const;
/** Each step's limit; a step that hangs fails the test instead of hanging CI. */
export const SELF_TEST_STEP_MS = 180_000;

/** The report path from the environment, or null when the app starts normally. Relative paths are refused. */
export function selfTestReportPath(env: NodeJS.ProcessEnv): string | null {
  const value = env[SELF_TEST_ENV];
  if (value === undefined || value === '') return null;
  if (!path.isAbsolute(value) || !value.toLowerCase().endsWith('.json')) {
    throw new Error(`${SELF_TEST_ENV} must be the absolute path of a .json report file (got ${JSON.stringify(value).slice(0, 200)})`);
  }
  return value;
}

type TrainerEventLike = { type: string } & Record<string, unknown>;

export interface SelfTestHost {
  call<K extends InvokeName>(name: K, request: RequestOf<K>): Promise<Result<ResponseOf<K>>>;
  /** Resolves when the window's page has loaded (or rejects with why not). */
  pageLoaded(): Promise<void>;
  /** Evaluates the page's view of itself (read-only: keys of window.lab, typeof require). */
  inspectPage(): Promise<{ url: string; labKeys: string[]; requireType: string; processType: string }>;
  /** The next trainer event that matches, from now on. */
  nextTrainerEvent(match: (event: TrainerEventLike) => boolean): Promise<TrainerEventLike>;
  screenshot(): Promise<Uint8Array | null>;
  modelsDir: string;
  logFile: string;
  runtime: Record<string, string | boolean | number>;
  now?: () => number;
}

export interface SelfTestCheck { name: string; ok: boolean; detail: string; ms: number }
export interface SelfTestReport {
  ok: boolean;
  startedAt: string;
  runtime: Record<string, string | boolean | number>;
  checks: SelfTestCheck[];
  logFile: string;
  screenshot: string | null;
}

const REQUIRED_LAB_KEYS = ['info', 'train', 'saveModel', 'onTrainerEvent', 'onMenuCommand'];

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); });
  });

const unwrap = <T>(result: Result<T>, what: string): T => {
  if (!result.ok) throw new Error(`${what}: ${result.error.code}: ${result.error.message}`);
  return result.value;
};

/** Runs every check in order (a failed one does not stop the rest) and writes the report. */
export async function runSelfTest(host: SelfTestHost, reportPath: string, stepMs = SELF_TEST_STEP_MS): Promise<SelfTestReport> {
  const now = host.now ?? Date.now;
  const checks: SelfTestCheck[] = [];
  const step = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    const start = now();
    try {
      const detail = await withTimeout(body(), stepMs, name);
      checks.push({ name, ok: true, detail, ms: now() - start });
      return true;
    } catch (e) {
      checks.push({ name, ok: false, detail: e instanceof Error ? e.message : String(e), ms: now() - start });
      return false;
    }
  };
  const startedAt = new Date(now()).toISOString();
  await fs.mkdir(path.dirname(reportPath), { recursive: true });

  await step('page', async () => {
    await host.pageLoaded();
    const page = await host.inspectPage();
    if (!page.url.startsWith('app://lenet-lab/')) throw new Error(`the window shows ${page.url}, not the app:// page`);
    const missing = REQUIRED_LAB_KEYS.filter((key) => !page.labKeys.includes(key));
    if (missing.length) throw new Error(`the preload's API lacks ${missing.join(', ')}`);
    if (page.requireType !== 'undefined' || page.processType !== 'undefined') throw new Error('the page can reach Node (require or process is defined)');
    return `${page.url}; window.lab has ${page.labKeys.length} functions; no Node in the page`;
  });

  let backend = '';
  await step('info', async () => {
    const info = unwrap(await host.call('info', {}), 'info');
    if (info.transport !== 'electron') throw new Error(`the trainer says transport ${info.transport}`);
    backend = info.backend;
    return `backend ${info.backend} (${info.backendNote}); MNIST ${info.dataset.trainCount} + ${info.dataset.testCount} images from ${info.dataset.dir}`;
  });

  await step('train', async () => {
    // Two engines wherever two cores train on wasm or cpu; tfjs-node already uses every core on one.
    let wanted = 1;
    // A run that begins while the second engine still starts (the trainer warms it at launch) trains alone
    // until it joins; this short run may end first, and then the next run finds it ready: one more try.
    for (let attempt = 1; ; attempt++) {
      const started = host.nextTrainerEvent((event) => event.type === 'started');
      const joined = host.nextTrainerEvent((event) => event.type === 'engines' || event.type === 'done');
      const done = host.nextTrainerEvent((event) => event.type === 'done');
      unwrap(await host.call('train', SELF_TEST_TRAIN), 'train');
      const start = await started;
      const change = await joined;
      const end = await done;
      wanted = start.backend !== 'tensorflow' && os.availableParallelism() >= 2 ? 2 : 1;
      const last = change.type === 'engines' ? change : start;
      const engines = typeof last.engines === 'number' ? last.engines : 1;
      const note = last.enginesNote ?? start.enginesNote;
      if (engines !== wanted && attempt === 1 && note === undefined && change.type === 'done') continue;
      if (engines !== wanted) throw new Error(`trained on ${engines} engine(s), expected ${wanted}${note ? `: ${String(note)}` : ''}`);
      if (end.reason !== 'completed') throw new Error(`the run ended ${String(end.reason)}: ${String(end.message ?? '')}`);
      const from = change.type === 'engines' ? ` (the second from step ${String(change.step)})` : '';
      return `${String(start.backend)} on ${engines} engine(s)${from}: test accuracy ${Number(end.testAccuracy).toFixed(3)} after ${Number(end.seconds).toFixed(1)} s${attempt > 1 ? ', second run' : ''}`;
    }
  });

  await step('save', async () => {
    const saved = unwrap(await host.call('saveModel', { name: SELF_TEST_MODEL_NAME }), 'saveModel');
    const expected = path.join(host.modelsDir, SELF_TEST_MODEL_NAME);
    if (path.resolve(saved.dir) !== path.resolve(expected)) throw new Error(`saved to ${saved.dir}, expected ${expected}`);
    const files = await fs.readdir(expected);
    for (const file of ['model.json', 'weights.bin']) if (!files.includes(file)) throw new Error(`${file} is missing from ${expected}`);
    return `saved to ${expected}`;
  });

  let screenshot: string | null = null;
  await step('screenshot', async () => {
    const png = await host.screenshot();
    if (!png || png.length === 0) throw new Error('the window could not be captured');
    screenshot = reportPath.replace(/\.json$/i, '.png');
    await fs.writeFile(screenshot, png);
    return `${png.length} bytes`;
  });

  const report: SelfTestReport = {
    ok: checks.every((check) => check.ok),
    startedAt,
    runtime: { ...host.runtime, backend },
    checks,
    logFile: host.logFile,
    screenshot,
  };
  await fs.writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
