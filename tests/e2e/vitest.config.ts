import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The browser end-to-end suite: `vitest run --config tests/e2e/vitest.config.ts`.
// It runs against the build (npm run build), one file at a time: each file starts
// its own server, lab worker and Chromium, and two cores hold one of those well.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['tests/e2e/**/*.e2e.ts', 'tests/e2e/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 180_000,
    // The page answers within a frame or two, but a busy 2-core machine may take seconds: poll patiently.
    expect: { poll: { timeout: 20_000, interval: 100 } },
    ...(process.env.LENET_LAB_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: `${process.env.LENET_LAB_TEST_REPORT}/e2e.json` } }
      : {}),
  },
});
