// The message files and the code agree: every key the code names exists in en.json,
// every key in en.json is named somewhere, both languages have the same keys with the same
// placeholders (arguments, their formats, plural and select structure), and every message is valid ICU.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { createLabIntl, describeError, LOCALES, matchLocale } from '../../common/i18n/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const readMessages = (file: string) => JSON.parse(readFileSync(path.join(ROOT, 'common/i18n', file), 'utf8')) as Record<string, string>;
const en = readMessages('en.json');
const zhCN = readMessages('zh-CN.json');
const FILES: Record<string, Record<string, string>> = { en, 'zh-CN': zhCN };

/**
 * What a message needs from its caller, as sorted strings: each argument with its format, each select with its
 * options, each plural with its argument (its categories differ by language: Chinese has only "other"), and
 * the same for everything nested inside their options.
 */
function placeholders(message: string): string[] {
  const found = new Set<string>();
  const walk = (elements: MessageFormatElement[]): void => {
    for (const element of elements) {
      switch (element.type) {
        case TYPE.argument: found.add(`{${element.value}}`); break;
        case TYPE.number: found.add(`{${element.value}, number}`); break;
        case TYPE.date: found.add(`{${element.value}, date}`); break;
        case TYPE.time: found.add(`{${element.value}, time}`); break;
        case TYPE.select:
          found.add(`{${element.value}, select, ${Object.keys(element.options).sort().join('|')}}`);
          for (const option of Object.values(element.options)) walk(option.value);
          break;
        case TYPE.plural:
          found.add(`{${element.value}, ${element.pluralType === 'ordinal' ? 'selectordinal' : 'plural'}}`);
          for (const option of Object.values(element.options)) walk(option.value);
          break;
        case TYPE.tag: found.add(`<${element.value}>`); walk(element.children); break;
        default: break;
      }
    }
  };
  walk(parse(message));
  return [...found].sort();
}

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
];

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

  it('keeps its keys sorted, so branches that add keys merge cleanly', () => {
    for (const [locale, messages] of Object.entries(FILES)) expect(Object.keys(messages), locale).toEqual(Object.keys(messages).sort());
  });
});

describe('every language', () => {
  it('has a message file for each locale, and no other', () => {
    expect(Object.keys(FILES).sort()).toEqual([...LOCALES].sort());
  });

  it.each(LOCALES.filter((locale) => locale !== 'en'))('%s has exactly the keys of en.json', (locale) => {
    const messages = FILES[locale]!;
    expect(Object.keys(en).filter((key) => !(key in messages)), 'missing').toEqual([]);
    expect(Object.keys(messages).filter((key) => !(key in en)), 'not in en.json').toEqual([]);
  });

  it.each(LOCALES.filter((locale) => locale !== 'en'))('%s has the placeholders of each English message', (locale) => {
    const messages = FILES[locale]!;
    const differ = Object.keys(en)
      .filter((key) => key in messages && JSON.stringify(placeholders(en[key]!)) !== JSON.stringify(placeholders(messages[key]!)))
      .map((key) => `${key}: en ${placeholders(en[key]!).join(' ')} ≠ ${locale} ${placeholders(messages[key]!).join(' ')}`);
    expect(differ).toEqual([]);
  });

  it.each(LOCALES.filter((locale) => locale !== 'en'))('%s is a translation (only names and symbols may stay English)', (locale) => {
    const messages = FILES[locale]!;
    // Proper names and code stay as they are (LeNet-5, MNIST, SGD…); anything longer with English words is untranslated.
    const same = Object.keys(en).filter((key) => messages[key] === en[key] && /[a-z]{3,} [a-z]{3,}/i.test(en[key]!.replace(/\{[^}]*\}/g, '')));
    expect(same).toEqual([]);
  });

  it('the placeholder comparison sees a renamed argument, a lost format, a changed select and a missing plural', () => {
    const base = placeholders('{n, plural, one {# pixel} other {# pixels}} in {name} ({all, select, yes {all} other {some}}) {count, number}');
    expect(placeholders('{n, plural, other {# 像素}}，{name}（{all, select, yes {全部} other {部分}}）{count, number}')).toEqual(base);
    for (const changed of [
      '{n, plural, other {# 像素}} {title} {all, select, yes {全部} other {部分}} {count, number}',
      '{n, plural, other {# 像素}} {name} {all, select, yes {全部} other {部分}} {count}',
      '{n, plural, other {# 像素}} {name} {all, select, yes {全部} no {无} other {部分}} {count, number}',
      '{n} 像素 {name} {all, select, yes {全部} other {部分}} {count, number}',
      '{n, plural, other {# 像素 {extra}}} {name} {all, select, yes {全部} other {部分}} {count, number}',
    ]) expect(placeholders(changed), changed).not.toEqual(base);
  });

  it('the scan finds keys in .ts and .svelte files (the checks above are not vacuous)', () => {
    const named = keysNamedInCode();
    expect(named.get('view.train.title')).toBe(path.join('common', 'views.ts'));
    expect([...named.values()].some((file) => file.endsWith('.svelte'))).toBe(true);
  });
});

describe('matchLocale', () => {
  it('maps any Chinese to zh-CN, English to English, and everything else to English', () => {
    const cases: [string[], string][] = [
      [['zh-CN'], 'zh-CN'], [['zh'], 'zh-CN'], [['zh-TW', 'en-US'], 'zh-CN'], [['zh-Hans-SG'], 'zh-CN'], [['ZH_cn'], 'zh-CN'],
      [['en-GB', 'zh-CN'], 'en'], [['fr-FR', 'zh-CN'], 'zh-CN'], [['fr-FR', 'de'], 'en'], [[], 'en'], [['zhx'], 'en'],
    ];
    for (const [preferred, expected] of cases) expect(matchLocale(preferred), preferred.join(',')).toBe(expected);
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

  it('formats durations, dates and decimals by Intl in each language', () => {
    const zh = createLabIntl('zh-CN');
    for (const [seconds, clock] of [[0, '0:00'], [59.6, '1:00'], [754, '12:34'], [3723, '1:02:03']] as const) {
      expect(lab.clock(seconds)).toBe(clock);
      expect(zh.clock(seconds)).toBe(clock);
    }
    for (const bad of [null, Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      expect(lab.clock(bad)).toBe('—');
      expect(zh.durationWords(bad)).toBe('—');
    }
    expect(lab.durationWords(185)).toBe('3 min 5 s');
    expect(lab.durationWords(3723)).toBe('1 hr 2 min 3 s');
    expect(lab.durationWords(42)).toBe('42 s');
    expect(zh.durationWords(185)).toBe('3分5秒');
    expect(zh.durationWords(3723)).toBe('1小时2分3秒');
    // Rounded to whole seconds: below half a second is "under a second", not "0 s"; half a second is 1 s.
    expect(zh.durationWords(0)).toBe('不到1秒');
    expect(zh.durationWords(0.49)).toBe('不到1秒');
    expect(lab.durationWords(0.49)).toBe('under a second');
    expect(lab.durationWords(0.5)).toBe('1 s');
    expect(zh.durationWords(0.5)).toBe('1秒');
    expect(lab.durationWords(60)).toBe('1 min 0 s');
    const noon = new Date(2026, 11, 6, 17, 30);
    expect(lab.date(noon)).toMatch(/Dec 6, 2026/);
    expect(zh.date(noon)).toMatch(/2026年12月6日/);
    expect(zh.date('not a date')).toBe('not a date');
    expect(zh.count(60000)).toBe('60,000');
    expect(zh.percent(0.9891, 2)).toBe('98.91%');
    expect(zh.decimal(1.23456, 1)).toBe('1.2');
    expect(zh.t('recipe.shift.pixels', { n: 2 })).toBe('最多 2 像素');
    expect(lab.t('recipe.shift.pixels', { n: 1 })).toBe('up to 1 pixel');
    expect(zh.t('evaluate.cell.count', { count: 1, limited: 'yes', limit: 60 })).toBe('1 张图像，显示前 60 张');
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
