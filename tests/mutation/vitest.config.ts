import { tierConfig } from '../vitest.tier.js';

// The mutation runs' Vitest config (tests/mutation/run.mjs): the unit tier plus the integration files a
// target names (run.mjs picks them). A hung mutant is called a Timeout by Stryker's own, tighter limit; the
// test timeout only has to let the dry run through on a loaded machine (a spawned CLI can take a minute).
export default tierConfig('unit', {
  include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
  testTimeout: 180_000,
  hookTimeout: 180_000,
});
