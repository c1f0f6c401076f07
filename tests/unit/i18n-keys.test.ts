// The message file and the code agree: every key the code names exists in en.json,
// every key in en.json is named somewhere, and every message is valid ICU.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from '@formatjs/icu-messageformat-parser';
import { createLabIntl, describeError } from '../../common/i18n/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const en = JSON.parse(readFileSync(path.join(ROOT, 'common/i18n/en.json'), 'utf8')) as Record<string, string>;

/**
 * Where keys are used. A folder joins this list when its strings move into en.json
 * (the Network, Filters and Feature maps views live in renderer/ already and are scanned).
 */
const SOURCE_ROOTS = ['renderer/src', 'common', 'main'];
const SOURCE_FILE = /\.(ts|svelte)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(rel);
    return SOURCE_FILE.test(entry.name) ? [rel] : [];
  });
}
const sources = SOURCE_ROOTS.flatMap(sourceFiles).map((file) => ({ file, text: readFileSync(path.join(ROOT, file), 'utf8') }));

/** The first segments of the keys: a quoted 'namespace.rest' literal in code is a message key. */
const NAMESPACES = new Set(Object.keys(en).map((key) => key.split('.')[0]!));
const KEY_LITERAL = /['"`]([a-z][a-zA-Z]*(?:\.[a-zA-Z][\w-]*)+)['"`]/g;

function keysNamedInCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const { file, text } of sources) {
    for (const match of text.matchAll(KEY_LITERAL)) {
      const key = match[1]!;
      // Module names ('chart.js') are not keys.
      if (/(from|import\()\s*$/.test(text.slice(Math.max(0, match.index - 8), match.index))) continue;
      if (NAMESPACES.has(key.split('.')[0]!)) found.set(key, file);
    }
  }
  return found;
}

/**
 * Keys the code builds at run time instead of naming: `error.<code>` words an error code
 * (common/i18n describeError), so it counts as used where the code is named as a literal.
 */
const DYNAMIC_KEYS: { prefix: string; usedWhen: (rest: string) => boolean }[] = [
  { prefix: 'error.', usedWhen: (code) => sources.some(({ text }) => text.includes(`'${code}'`)) },
  // save.problem.<problem>: one per ModelNameProblem of common/model-name.ts.
  { prefix: 'save.problem.', usedWhen: (problem) => MODEL_NAME_SOURCE.includes(`'${problem}'`) },
];

const MODEL_NAME_SOURCE = readFileSync(path.join(ROOT, 'common', 'model-name.ts'), 'utf8');

describe('en.json', () => {
  it('has every key the code names', () => {
    const missing = [...keysNamedInCode()].filter(([key]) => !(key in en)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });

  it('has no key that no code names', () => {
    const named = keysNamedInCode();
    const unused = Object.keys(en).filter((key) => {
      if (named.has(key)) return false;
      const dynamic = DYNAMIC_KEYS.find((rule) => key.startsWith(rule.prefix));
      return !dynamic?.usedWhen(key.slice(dynamic.prefix.length));
    });
    expect(unused).toEqual([]);
  });

  it('holds valid ICU messages', () => {
    for (const [key, message] of Object.entries(en)) expect(() => parse(message), key).not.toThrow();
  });

  it('the scan finds keys in .ts and .svelte files (the checks above are not vacuous)', () => {
    const named = keysNamedInCode();
    expect(named.get('view.train.title')).toBe(path.join('common', 'views.ts'));
    expect([...named.values()].some((file) => file.endsWith('.svelte'))).toBe(true);
  });
});

describe('createLabIntl', () => {
  const lab = createLabIntl('en');
  it('fills placeholders, plurals and numbers', () => {
    expect(lab.t('save.saved', { name: 'lenet5 run' })).toBe('Saved “lenet5 run”');
    expect(lab.t('about.datasetCounts', { name: 'MNIST', train: 60000, test: 10000 })).toBe('MNIST: 60,000 training, 10,000 test images');
    expect(lab.count(59999.6)).toBe('60,000');
    expect(lab.count(Number.NaN)).toBe('—');
    expect(lab.percent(0.9891, 2)).toBe('98.91%');
    expect(lab.percent(0.5, 0)).toBe('50%');
    expect(lab.percent(null)).toBe('—');
  });
});

describe('describeError', () => {
  const lab = createLabIntl('en');
  it('words a code that has its own message from its parameters', () => {
    expect(describeError({ code: 'run-failed', params: { message: 'out of memory' } }, lab)).toBe('out of memory');
    expect(describeError({ code: 'run-lost' }, lab)).toBe('The trainer process stopped unexpectedly; this run is lost.');
  });
  it('falls back to the host message with its code, and to the code alone', () => {
    expect(describeError({ code: 'busy', message: 'a run is in progress' }, lab)).toBe('a run is in progress (busy)');
    expect(describeError({ code: 'internal' }, lab)).toBe('Something went wrong (internal).');
  });
});
