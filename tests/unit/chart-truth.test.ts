import { describe, expect, it } from 'vitest';
import { distinctTickLabels, formatValue } from '../../renderer/src/lib/format.js';
import { axisBounds, gradientVerdict, roundLogBounds } from '../../renderer/src/lib/train-charts.js';

describe('roundLogBounds', () => {
  it.each([
    // bounds → moved outward to 1, 2 or 5 × 10^k (a bound already round stays)
    [{ min: 0.7281, max: 7.2814 }, { min: 0.5, max: 10 }],
    [{ min: 0.1, max: 1 }, { min: 0.1, max: 1 }],
    [{ min: 0.2, max: 5 }, { min: 0.2, max: 5 }],
    [{ min: 0.19999, max: 5.0001 }, { min: 0.1, max: 10 }],
    [{ min: 0.21, max: 4.9 }, { min: 0.2, max: 5 }],
    [{ min: 0.51, max: 1.9 }, { min: 0.5, max: 2 }],
    [{ min: 3e-21, max: 2e-18 }, { min: 2e-21, max: 2e-18 }],
    [{ min: 9.9, max: 10.1 }, { min: 5, max: 20 }],
  ])('%o → %o', (bounds, rounded) => {
    const got = roundLogBounds(bounds);
    expect(got.min).toBeCloseTo(rounded.min, 12 - Math.floor(Math.log10(rounded.min)));
    expect(got.max).toBeCloseTo(rounded.max, 12 - Math.floor(Math.log10(rounded.max)));
    expect(got.min).toBeLessThanOrEqual(bounds.min);
    expect(got.max).toBeGreaterThanOrEqual(bounds.max);
  });
});

describe('axisBounds', () => {
  it('widens a flat loss to one power of ten about its value', () => {
    const b = axisBounds([2.302585, 2.302585, 2.3025851], 'logarithmic', 10)!;
    expect(b.max / b.min).toBeCloseTo(10, 9);
    expect(Math.sqrt(b.min * b.max)).toBeCloseTo(2.30258505, 6);
  });
  it('keeps a span already wide enough, at the boundary and beyond', () => {
    expect(axisBounds([0.1, 1], 'logarithmic', 10)).toEqual({ min: 0.1, max: 1 });
    expect(axisBounds([0.05, 2], 'logarithmic', 10)).toEqual({ min: 0.05, max: 2 });
    expect(axisBounds([3, 5], 'linear', 2)).toEqual({ min: 3, max: 5 });
  });
  it('widens just below the boundary', () => {
    const b = axisBounds([0.1, 0.99], 'logarithmic', 10)!;
    expect(b.max / b.min).toBeCloseTo(10, 9);
    expect(axisBounds([3, 4.5], 'linear', 2)).toEqual({ min: 2.75, max: 4.75 });
  });
  it('ignores what the axis cannot show, and says when nothing is left', () => {
    expect(axisBounds([0, -1, NaN, Infinity], 'logarithmic', 10)).toBeNull();
    expect(axisBounds([], 'linear', 1)).toBeNull();
    expect(axisBounds([0, 1, NaN], 'linear', 1)).toEqual({ min: 0, max: 1 });
  });
});

describe('tick labels', () => {
  it('never print more than 4 significant digits, blanking repeats', () => {
    const ticks = [2.30258509, 2.302585091, 2.302585092];
    const labels = distinctTickLabels(ticks, (v) => formatValue(v, 2));
    expect(labels).toEqual(['2.303', '', '']);
    expect(labels.every((l) => l.replace(/\D/g, '').length <= 4)).toBe(true);
  });
  it('keeps the blanks a log axis format leaves between its powers of ten', () => {
    const powersOnly = (v: number) => (Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? formatValue(v, 1) : '');
    expect(distinctTickLabels([2e-21, 5e-21, 1e-20, 2e-20, 5e-20, 1e-19], powersOnly)).toEqual(['', '', '1e-20', '', '', '1e-19']);
    expect(distinctTickLabels([0.5, 1, 2, 5, 10], powersOnly)).toEqual(['', '1', '', '', '10']);
  });
  it('still tells apart ticks that 4 digits can tell apart', () => {
    expect(distinctTickLabels([2.3, 2.301, 2.302], (v) => formatValue(v, 2))).toEqual(['2.3', '2.301', '2.302']);
  });
});

describe('gradientVerdict', () => {
  const layers = ['C1', 'C3', 'C5', 'F6', 'OUT'];
  const history = (norms: number[], steps = 5) => ({
    gradientLayers: layers,
    gradients: Array.from({ length: steps }, (_, step) => ({ step, norms })),
  });
  it('says nothing without data', () => {
    expect(gradientVerdict({ gradientLayers: layers, gradients: [] })).toEqual({ kind: 'none' });
  });
  it('the seed run: every layer near zero is not called a vanishing gradient', () => {
    expect(gradientVerdict(history([1e-9, 2e-9, 1e-7, 1e-6, 5e-4])).kind).toBe('allNearZero');
    // The threshold, each side: 0.000999 is near zero, 0.001 is not.
    expect(gradientVerdict(history([1e-9, 1e-9, 1e-9, 1e-9, 0.000999])).kind).toBe('allNearZero');
    expect(gradientVerdict(history([1e-9, 1e-9, 1e-9, 1e-9, 0.001])).kind).toBe('vanishing');
  });
  it('vanishing at a ratio of 100, healthy just under it', () => {
    expect(gradientVerdict(history([0.01, 0.1, 0.3, 0.5, 1]))).toEqual({ kind: 'vanishing', first: 'C1', last: 'OUT', ratio: 100 });
    expect(gradientVerdict(history([0.0101, 0.1, 0.3, 0.5, 1])).kind).toBe('healthy');
  });
  it('healthy: the powers of ten between the largest and smallest layer', () => {
    expect(gradientVerdict(history([0.5, 0.4, 0.3, 0.2, 0.05]))).toEqual({ kind: 'healthy', decades: 1 });
  });
  it('the median of the last five records decides, not one odd batch', () => {
    const h = history([0.5, 0.4, 0.3, 0.2, 0.5], 5);
    h.gradients[4] = { step: 4, norms: [1e-9, 1e-9, 1e-9, 1e-9, 1e-9] };
    expect(gradientVerdict(h).kind).toBe('healthy');
  });
});
