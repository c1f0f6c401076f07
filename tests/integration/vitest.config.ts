import { tierConfig } from '../vitest.tier.js';

// Integration tests: they run the build (dist/) or start processes, so `npm run build` first.
export default tierConfig('integration', { testTimeout: 120_000, hookTimeout: 120_000 });
