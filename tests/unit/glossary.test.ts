// The glossary: the lesson's own Chinese terms are all there, and docs/glossary.md lists exactly the app's entries.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GLOSSARY } from '../../common/i18n/glossary.js';

// The terms issue 10 names, as the lesson writes them (an oracle of its own, not read from the glossary).
const LESSON_TERMS: Array<[string, string]> = [
  ['kernel', '卷积核'], ['feature map', '特征图'], ['pooling / subsampling', '池化 / 下采样'],
  ['fully connected layer', '全连接层'], ['bias', '偏置项'], ['activation function', '激活函数'],
  ['receptive field', '感受野'], ['learning rate', '学习率'], ['momentum', '动量'], ['batch size', '批大小'],
  ['epoch', '轮'], ['gradient', '梯度'], ['confusion matrix', '混淆矩阵'],
];

describe('glossary', () => {
  it('holds every term of the lesson with its Chinese name', () => {
    for (const [en, zh] of LESSON_TERMS) {
      const entry = GLOSSARY.find((e) => e.en.term === en);
      expect(entry, en).toBeDefined();
      expect(entry!['zh-CN'].term).toBe(zh);
    }
  });

  it('has unique ids and a meaning in both languages', () => {
    expect(new Set(GLOSSARY.map((e) => e.id)).size).toBe(GLOSSARY.length);
    for (const e of GLOSSARY) {
      expect(e.en.meaning.length, e.id).toBeGreaterThan(20);
      expect(e['zh-CN'].meaning.length, e.id).toBeGreaterThan(8);
      expect(e['zh-CN'].meaning, e.id).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('docs/glossary.md has one row per entry, in order, and nothing else', () => {
    const rows = readFileSync(new URL('../../docs/glossary.md', import.meta.url), 'utf8')
      .split('\n').filter((l) => l.startsWith('| <a id="'));
    expect(rows.map((r) => /id="([^"]+)"/.exec(r)![1])).toEqual(GLOSSARY.map((e) => e.id));
    for (const [i, e] of GLOSSARY.entries()) {
      expect(rows[i]).toContain(`**${e.en.term}**`);
      expect(rows[i]).toContain(`**${e['zh-CN'].term}**`);
      expect(rows[i]).toContain(e['zh-CN'].meaning);
    }
  });
});
