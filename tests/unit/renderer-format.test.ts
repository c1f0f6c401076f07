// Label formatting and the 1998 comparison table of the renderer.
import { describe, expect, it } from 'vitest';
import { formatCompact, formatCount, formatDuration, formatPercent, formatValue } from '../../renderer/src/lib/format.js';
import { PAPER_RESULTS, rankWithPaper } from '../../renderer/src/lib/paper-results.js';

describe('format', () => {
  it('formats durations as m:ss and h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(59.6)).toBe('1:00');
    expect(formatDuration(754)).toBe('12:34');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
  });
  it('formats percentages, counts and values', () => {
    expect(formatPercent(0.9891, 2)).toBe('98.91%');
    expect(formatPercent(null)).toBe('—');
    expect(formatCount(60000)).toBe('60,000');
    expect(formatCompact(1234)).toBe('1.2K');
    expect(formatValue(0.123456)).toBe('0.123');
    expect(formatValue(2.302585)).toBe('2.3');
    expect(formatValue(0.00001234)).toBe('1.23e-5');
    expect(formatValue(0.0008)).toBe('0.0008');
    expect(formatValue(Number.NaN)).toBe('—');
  });
});

describe('rankWithPaper', () => {
  it('holds the paper table of 1998', () => {
    expect(PAPER_RESULTS.map((r) => r.error)).toEqual([12.0, 5.0, 4.7, 1.7, 1.1, 0.95, 0.8, 0.8, 0.7]);
  });
  it('inserts the model at its place, worst first', () => {
    const rows = rankWithPaper(1.2);
    expect(rows).toHaveLength(PAPER_RESULTS.length + 1);
    const mine = rows.findIndex((r) => r.mine);
    expect(rows[mine - 1]!.name).toBe('LeNet-1');
    expect(rows[mine + 1]!.name).toBe('LeNet-4');
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.error).toBeLessThanOrEqual(rows[i - 1]!.error);
  });
  it('puts a tie below the paper row and a better model last', () => {
    const tie = rankWithPaper(0.95);
    const at = tie.findIndex((r) => r.mine);
    expect(tie[at - 1]!.name).toBe('LeNet-5');
    expect(rankWithPaper(0.5).at(-1)!.mine).toBe(true);
    expect(rankWithPaper(50)[0]!.mine).toBe(true);
  });
});

describe('distinctTickLabels', () => {
  it('keeps the plain labels when they differ, and adds digits only when they would repeat', async () => {
    const { distinctTickLabels } = await import('../../renderer/src/lib/format.js');
    const twoDigits = (v: number) => v.toFixed(1);
    expect(distinctTickLabels([1, 2, 5], twoDigits)).toEqual(['1.0', '2.0', '5.0']);
    const close = [2.3, 2.301, 2.302, 2.303];
    const labels = distinctTickLabels(close, twoDigits);
    expect(new Set(labels).size).toBe(4);
    expect(labels[0]).toMatch(/^2\.30*$/);
  });
});
