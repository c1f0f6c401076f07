// Where the early thread's code is found (engine/training/early-thread.ts parallelWorkerUrl): next to the
// module once compiled, else the build's copy under dist/ (tests run the sources), else a refusal that names
// the missing file and the fix; and startThreadEarly, which must never throw, answers null without a build.
// The file system is mocked here: the build's presence is the one thing these tests change.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, default: { ...actual, existsSync: vi.fn(actual.existsSync) }, existsSync: vi.fn(actual.existsSync) };
});
const { existsSync } = await import('node:fs');
const { parallelWorkerUrl, startThreadEarly, earlyThreadWaiting } = await import('../../engine/training/early-thread.js');

const present = (...names: string[]): void => {
  vi.mocked(existsSync).mockImplementation((file) => names.some((name) => String(file).endsWith(name)));
};
afterEach(() => {
  vi.mocked(existsSync).mockReset();
});

describe('the compiled thread entry', () => {
  it('next to this module when it is there (the compiled engine runs from dist/)', () => {
    present('engine/training/parallel-worker.js');
    const url = parallelWorkerUrl();
    expect(fileURLToPath(url)).toMatch(/engine[/\\]training[/\\]parallel-worker\.js$/);
    expect(fileURLToPath(url)).not.toMatch(/dist[/\\]engine/);
  });

  it('else the build\'s copy under dist/ (the sources run by the tests)', () => {
    present('dist/engine/training/parallel-worker.js');
    expect(fileURLToPath(parallelWorkerUrl())).toMatch(/dist[/\\]engine[/\\]training[/\\]parallel-worker\.js$/);
  });

  it('else refused, naming the file it needs and the fix', () => {
    present();
    expect(() => parallelWorkerUrl()).toThrow(/^parallel training needs the compiled worker .*dist[/\\]engine[/\\]training[/\\]parallel-worker\.js: run npm run build:node$/);
  });

  it('without a build, startThreadEarly starts nothing and says so by null, without throwing', () => {
    present();
    expect(startThreadEarly('wasm', ['seed'])).toBeNull();
    expect(earlyThreadWaiting()).toBe(false);
  });
});
