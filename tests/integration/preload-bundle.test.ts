// The preload bundle stays small: it carries the channel names and nothing of
// zod or the schemas (common/channels.ts is its only project import).
// Runs against the build (npm run build:preload).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INVOKE_NAMES } from '../../common/channels.js';

const bundle = path.resolve(import.meta.dirname, '../../dist/preload/preload.cjs');
const LIMIT_BYTES = 20 * 1024;

describe('dist/preload/preload.cjs', () => {
  it(`is at most ${LIMIT_BYTES} bytes`, () => {
    expect(existsSync(bundle), 'run `npm run build` first').toBe(true);
    expect(statSync(bundle).size).toBeLessThanOrEqual(LIMIT_BYTES);
  });

  it('holds the channel names and no zod', () => {
    const code = readFileSync(bundle, 'utf8');
    for (const name of INVOKE_NAMES) expect(code).toContain(`"${name}"`);
    expect(code).not.toMatch(/zod|safeParse|ZodError/);
    expect(code).toContain('require("electron")');
  });
});
