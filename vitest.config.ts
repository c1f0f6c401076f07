import { tierConfig } from './tests/vitest.tier.js';

// Pure unit tests: no build, no child processes (tests/unit/). The other tiers have their own
// configs: tests/integration/ (needs dist/ or processes) and tests/e2e/ (the browser).
export default tierConfig('unit', { testTimeout: 120_000, hookTimeout: 120_000 });
