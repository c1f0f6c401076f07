import { tierConfig } from '../vitest.tier.js';

// The browser end-to-end suite: `vitest run --config tests/e2e/vitest.config.ts`.
// It runs against the build (npm run build), one file at a time: each file starts
// its own server, lab worker and Chromium, and two cores hold one of those well.
export default tierConfig('e2e', {
  include: ['tests/e2e/**/*.e2e.ts', 'tests/e2e/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 600_000,
  hookTimeout: 180_000,
  // The page answers within a frame or two, but a busy 2-core machine may take seconds: poll patiently.
  expect: { poll: { timeout: 20_000, interval: 100 } },
});
