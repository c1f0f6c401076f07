import { defineConfig } from 'vitest/config';

// Unit and engine tests. The browser end-to-end suite has its own config in tests/e2e/.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // .ci/run asks for a JSON report too, to print one plain "N passed, N failed" line at the end.
    ...(process.env.LENET_LAB_TEST_REPORT
      ? { reporters: ['default', 'json'], outputFile: { json: `${process.env.LENET_LAB_TEST_REPORT}/unit.json` } }
      : {}),
  },
});
