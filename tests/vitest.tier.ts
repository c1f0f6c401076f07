import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

type TestOptions = NonNullable<ViteUserConfig['test']>;

/**
 * One test tier (unit, integration, e2e): the files under tests/<tier>/, run from the repo root.
 * `.ci/run` sets LENET_LAB_TEST_REPORT to a folder; each tier then also writes <tier>.json there,
 * and .ci/summary.mjs prints one "N passed, N failed" line from them.
 */
export function tierConfig(tier: string, test: TestOptions = {}) {
  const report = process.env.LENET_LAB_TEST_REPORT;
  return defineConfig({
    root: fileURLToPath(new URL('..', import.meta.url)),
    test: {
      include: [`tests/${tier}/**/*.test.ts`],
      environment: 'node',
      pool: 'forks',
      ...test,
      ...(report ? { reporters: ['default', 'json'], outputFile: { json: `${report}/${tier}.json` } } : {}),
    },
  });
}
