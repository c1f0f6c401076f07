// Model names (the saveModel request): letters and digits of any script, one spelling per name.
import { describe, expect, it } from 'vitest';
import { invokeChannels } from '../../common/contract.js';

const parse = (name: string) => invokeChannels.saveModel.request.safeParse({ name });

describe('model names', () => {
  it('accepts names in Chinese, with accents, spaces, dots, dashes and brackets', () => {
    for (const name of ['手写 数字 é', '我的模型 (2)', 'lenet5 2025-01-01 10.30', 'Ünïcödé_1', '(copy) x']) {
      expect(parse(name), name).toMatchObject({ success: true, data: { name } });
    }
  });

  it('stores a decomposed (macOS) spelling in its composed form', () => {
    expect(parse('cafe\u0301')).toMatchObject({ success: true, data: { name: 'caf\u00e9' } });
  });

  it('refuses separators, dot files, control characters, a leading mark or dash, and 81 characters', () => {
    for (const name of ['../x', 'a/b', 'a\\b', '.hidden', 'a\u0000b', 'a\nb', '\u0301x', '-x', 'a:b', '模'.repeat(81)]) {
      expect(parse(name).success, JSON.stringify(name)).toBe(false);
    }
    expect(parse('模'.repeat(80)).success).toBe(true);
  });
});
