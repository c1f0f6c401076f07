// The release build's self-test (main/self-test.ts) against a fake host: which checks pass and fail, the
// report it writes, and what it refuses. The real run is in CI, on each installed app.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSelfTest, SELF_TEST_MODEL_NAME, SELF_TEST_TRAIN, selfTestReportPath, type SelfTestHost } from '../../main/self-test.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Event = { type: string } & Record<string, unknown>;

/** A host whose trainer trains on `engines` engines and saves into a real temp folder. */
/** `runs`: per train call, the engines it starts on and the `engines` event it sends before done, if any (else every run on `engines`). */
function fakeHost(over: { engines?: number; url?: string; labKeys?: string[]; saveFiles?: string[]; doneReason?: string; runs?: { engines: number; note?: string; event?: Event }[] } = {}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lenet-selftest-'));
  dirs.push(root);
  const modelsDir = path.join(root, '用户 数据', 'models');
  const calls: { name: string; request: unknown }[] = [];
  const waiting: { match: (event: Event) => boolean; resolve: (event: Event) => void }[] = [];
  const emit = (event: Event): void => {
    for (const waiter of waiting.splice(0)) {
      if (waiter.match(event)) waiter.resolve(event);
      else waiting.push(waiter);
    }
  };
  const engines = over.engines ?? (os.availableParallelism() >= 2 ? 2 : 1);
  const host: SelfTestHost = {
    async call(name, request) {
      calls.push({ name, request });
      if (name === 'info') return { ok: true, value: { transport: 'electron', backend: 'wasm', backendNote: 'SIMD', dataset: { dir: '/r/mnist', trainCount: 60000, testCount: 10000 } } } as never;
      if (name === 'train') {
        const run = over.runs?.[calls.filter((c) => c.name === 'train').length - 1] ?? { engines };
        setTimeout(() => {
          emit({ type: 'started', backend: 'wasm', engines: run.engines, ...(run.note ? { enginesNote: run.note } : {}) });
          if (run.event) emit(run.event);
          emit({ type: 'done', reason: over.doneReason ?? 'completed', testAccuracy: 0.71, seconds: 3.2 });
        }, 1);
        return { ok: true, value: { runId: 'r' } } as never;
      }
      if (name === 'saveModel') {
        const dir = path.join(modelsDir, (request as { name: string }).name);
        mkdirSync(dir, { recursive: true });
        for (const file of over.saveFiles ?? ['model.json', 'weights.bin']) writeFileSync(path.join(dir, file), '{}');
        return { ok: true, value: { dir } } as never;
      }
      return { ok: false, error: { code: 'internal', message: `unexpected ${name}` } } as never;
    },
    pageLoaded: async () => {},
    inspectPage: async () => ({ url: over.url ?? 'app://lenet-lab/index.html', labKeys: over.labKeys ?? ['info', 'train', 'saveModel', 'onTrainerEvent', 'onMenuCommand', 'stop'], requireType: 'undefined', processType: 'undefined' }),
    nextTrainerEvent: (match) => new Promise((resolve) => waiting.push({ match, resolve })),
    screenshot: async () => new Uint8Array([137, 80, 78, 71]),
    modelsDir,
    logFile: path.join(root, 'logs', 'lenet-lab.log'),
    runtime: { platform: 'test' },
  };
  return { host, calls, report: path.join(root, 'report 报告', 'self-test.json'), modelsDir };
}

describe('selfTestReportPath', () => {
  it('is off without the variable, and takes only an absolute .json path', () => {
    expect(selfTestReportPath({})).toBeNull();
    expect(selfTestReportPath({ LENET_LAB_SELF_TEST: '' })).toBeNull();
    const absolute = path.resolve('/tmp/r.json');
    expect(selfTestReportPath({ LENET_LAB_SELF_TEST: absolute })).toBe(absolute);
    expect(() => selfTestReportPath({ LENET_LAB_SELF_TEST: 'r.json' })).toThrow(/absolute path of a \.json/);
    expect(() => selfTestReportPath({ LENET_LAB_SELF_TEST: path.resolve('/tmp/r.txt') })).toThrow(/\.json/);
  });
});

describe('runSelfTest', () => {
  it('passes every check, trains the short run and saves under the non-ASCII name, then writes the report and a screenshot', async () => {
    const { host, calls, report, modelsDir } = fakeHost();
    const result = await runSelfTest(host, report);
    expect(result.checks.map((check) => [check.name, check.ok])).toEqual([['page', true], ['info', true], ['train', true], ['save', true], ['screenshot', true]]);
    expect(result.ok).toBe(true);
    expect(calls.map((call) => call.name)).toEqual(['info', 'train', 'saveModel']);
    expect(calls[1]!.request).toEqual(SELF_TEST_TRAIN);
    expect(calls[2]!.request).toEqual({ name: SELF_TEST_MODEL_NAME });
    expect([...SELF_TEST_MODEL_NAME].some((ch) => ch.codePointAt(0)! > 0x7f)).toBe(true);
    const written = JSON.parse(readFileSync(report, 'utf8'));
    expect(written).toMatchObject({ ok: true, runtime: { platform: 'test', backend: 'wasm' }, screenshot: report.replace(/\.json$/, '.png') });
    expect(readFileSync(report.replace(/\.json$/, '.png'))).toEqual(Buffer.from([137, 80, 78, 71]));
    expect(written.checks[3].detail).toBe(`saved to ${path.join(modelsDir, SELF_TEST_MODEL_NAME)}`);
  });

  describe.skipIf(os.availableParallelism() < 2)('a run that begins on one engine while the second still starts', () => {
    const trainDetail = (result: Awaited<ReturnType<typeof runSelfTest>>) => result.checks.find((check) => check.name === 'train')!;

    it('the second joins mid-run: two engines, said with the step it joined at, one run', async () => {
      const { host, calls, report } = fakeHost({ runs: [{ engines: 1, event: { type: 'engines', engines: 2, step: 3 } }] });
      const result = await runSelfTest(host, report);
      expect(result.ok).toBe(true);
      expect(trainDetail(result).detail).toBe('wasm on 2 engine(s) (the second from step 3): test accuracy 0.710 after 3.2 s');
      expect(calls.filter((call) => call.name === 'train')).toHaveLength(1);
    });

    it('the run ends before the second is ready: trained again, which finds it ready', async () => {
      const { host, calls, report } = fakeHost({ runs: [{ engines: 1 }, { engines: 2 }] });
      const result = await runSelfTest(host, report);
      expect(result.ok).toBe(true);
      expect(trainDetail(result).detail).toBe('wasm on 2 engine(s): test accuracy 0.710 after 3.2 s, second run');
      expect(calls.map((call) => call.name)).toEqual(['info', 'train', 'train', 'saveModel']);
    });

    it('one engine again on the second try: fails (no third)', async () => {
      const { host, calls, report } = fakeHost({ runs: [{ engines: 1 }, { engines: 1 }, { engines: 2 }] });
      const result = await runSelfTest(host, report);
      expect(result.ok).toBe(false);
      expect(trainDetail(result).detail).toMatch(/^trained on 1 engine\(s\), expected 2$/);
      expect(calls.filter((call) => call.name === 'train')).toHaveLength(2);
    });

    it('the second cannot start: fails at once with the reason, no second try', async () => {
      const note = 'one engine: a second could not start (no wasm)';
      const { host, calls, report } = fakeHost({ runs: [{ engines: 1, event: { type: 'engines', engines: 1, step: 4, enginesNote: note } }] });
      const result = await runSelfTest(host, report);
      expect(result.ok).toBe(false);
      expect(trainDetail(result).detail).toBe(`trained on 1 engine(s), expected 2: ${note}`);
      expect(calls.filter((call) => call.name === 'train')).toHaveLength(1);
    });

    it('started on one with a reason (the second failed before the run): fails at once', async () => {
      const { host, calls, report } = fakeHost({ runs: [{ engines: 1, note: 'one engine: a second could not start (x)' }] });
      const result = await runSelfTest(host, report);
      expect(trainDetail(result).detail).toBe('trained on 1 engine(s), expected 2: one engine: a second could not start (x)');
      expect(calls.filter((call) => call.name === 'train')).toHaveLength(1);
    });
  });

  it('fails, and says why, for each broken part alone', async () => {
    const cases: [Parameters<typeof fakeHost>[0], string, RegExp][] = [
      [{ url: 'data:text/html,error' }, 'page', /not the app:\/\/ page/],
      [{ labKeys: ['info'] }, 'page', /lacks train, saveModel, onTrainerEvent, onMenuCommand/],
      [{ engines: os.availableParallelism() >= 2 ? 1 : 2 }, 'train', /trained on \d engine\(s\), expected \d/],
      [{ doneReason: 'diverged' }, 'train', /ended diverged/],
      [{ saveFiles: ['model.json'] }, 'save', /weights\.bin is missing/],
    ];
    for (const [over, failing, why] of cases) {
      const { host, report } = fakeHost(over);
      const result = await runSelfTest(host, report);
      expect(result.ok, failing).toBe(false);
      expect(result.checks.filter((check) => !check.ok).map((check) => check.name), failing).toEqual([failing]);
      expect(result.checks.find((check) => check.name === failing)!.detail).toMatch(why);
      expect(JSON.parse(readFileSync(report, 'utf8')).ok).toBe(false);
    }
  });

  it('a step that hangs fails at its limit instead of hanging CI', async () => {
    const { host, report } = fakeHost();
    host.pageLoaded = () => new Promise(() => {});
    const result = await runSelfTest(host, report, 50);
    expect(result.checks[0]).toMatchObject({ name: 'page', ok: false, detail: 'page took longer than 0 s' });
    expect(result.checks.slice(1).every((check) => check.ok)).toBe(true);
  });
});
