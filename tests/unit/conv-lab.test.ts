// The Convolutions view's logic: its controls at every limit, the sliding window's stepping, one kernel read and
// edited in each TF.js layout, the inserted zeros, and the "What CNNs solve" series. Oracles are literal tables.
import { describe, expect, it } from 'vitest';
import { createLabIntl } from '../../common/i18n/index.js';
import { upsampledGrid, type ConvSettings, type ConvWeights } from '../../common/convolution/index.js';
import {
  checkControls, defaultFields, insertedZerosMarked, kernelOf, keyStep, parseCell, parseWhole, pointwiseOf, positionAt, scatterField,
  stepIndex, windowField, withKernelCell, type ConvFields,
} from '../../renderer/src/lib/conv-lab.js';
import { accuracyGap, breaks, overfitSeries, recordRun, sweep, sweepSeries, sweepValues } from '../../renderer/src/lib/cnn-panels.js';

const { t } = createLabIntl('en');
const DIGIT: [number, number, number] = [28, 28, 1];
const fields = (over: Partial<ConvFields>, kind: Parameters<typeof defaultFields>[0] = 'standard'): ConvFields => ({ ...defaultFields(kind), ...over });
const check = (over: Partial<ConvFields>, kind: Parameters<typeof defaultFields>[0] = 'standard', shape = DIGIT) =>
  checkControls(kind, fields(over, kind), shape, t);

describe('checkControls', () => {
  it('accepts the defaults of each kind, with the output size', () => {
    expect(check({}).geometry?.outputShape).toEqual([24, 24, 6]);
    expect(check({}, 'dilated').geometry?.outputShape).toEqual([20, 20, 6]);
    expect(check({}, 'transposed').geometry?.outputShape).toEqual([59, 59, 6]);
    expect(check({}, 'depthwise-separable', [14, 14, 6]).geometry?.outputShape).toEqual([10, 10, 16]);
  });
  it.each([
    ['kernelSize', '1', '0', 'Kernel size K must be a whole number from 1 to 15 (got “0”)'],
    ['kernelSize', '15', '16', 'Kernel size K must be a whole number from 1 to 15 (got “16”)'],
    ['stride', '1', '0', 'Stride S must be a whole number from 1 to 8 (got “0”)'],
    ['stride', '8', '9', 'Stride S must be a whole number from 1 to 8 (got “9”)'],
    ['filters', '1', '0', 'Filters F must be a whole number from 1 to 64 (got “0”)'],
    ['filters', '64', '65', 'Filters F must be a whole number from 1 to 64 (got “65”)'],
    ['padding', '16', '17', 'Padding must be valid, same or a whole number from 0 to 16 (got “17”)'],
    ['padding', '0', '-1', 'Padding must be valid, same or a whole number from 0 to 16 (got “-1”)'],
  ] as const)('%s: %s is accepted, %s refused', (field, ok, bad, message) => {
    expect(check({ [field]: ok }).errors).toEqual({});
    const refused = check({ [field]: bad });
    expect(refused.settings).toBeNull();
    expect(refused.errors).toEqual({ [field]: message });
  });
  it('dilation 1…8 on the dilated kind; the standard kind ignores the field (fixed at 1)', () => {
    expect(check({ dilation: '1', kernelSize: '3' }, 'dilated').errors).toEqual({});
    expect(check({ dilation: '8', kernelSize: '3' }, 'dilated').settings?.dilation).toBe(8);
    expect(check({ dilation: '9', kernelSize: '3' }, 'dilated').errors.dilation).toContain('from 1 to 8');
    expect(check({ dilation: 'abc' }).settings?.dilation).toBe(1);
  });
  it('refuses text, decimals and empty fields, and reads a true minus sign', () => {
    for (const bad of ['', ' ', '2.5', '3px', 'five']) expect(check({ stride: bad }).errors.stride).toBeDefined();
    expect(parseWhole('\u22123')).toBe(-3);
    expect(check({ padding: ' Same ' }).settings?.padding).toBe('same');
    expect(check({ padding: 'valid' }).settings?.padding).toBe('valid');
  });
  it('says when the dilated kernel outgrows the padded input, at the boundary', () => {
    expect(check({ dilation: '6' }, 'dilated').problem).toBeNull(); // 6·4 + 1 = 25 ≤ 28
    expect(check({ dilation: '7' }, 'dilated').problem).toBe(
      'The 5×5 kernel with dilation 7 spans 29 pixels, more than the padded input (28 + 2·0 = 28): make K or D smaller, or pad more');
    expect(check({ dilation: '7', padding: '1' }, 'dilated').problem).toBeNull(); // 28 + 2 = 30 ≥ 29
    expect(check({ kernelSize: '15', padding: 'same' }).problem).toBeNull();
  });
  it('refuses transposed padding that crops beyond the kernel’s reach, at the boundary', () => {
    expect(check({ kernelSize: '3', padding: '2' }, 'transposed').problem).toBeNull();
    expect(check({ kernelSize: '3', padding: '3' }, 'transposed').problem).toBe("Padding 3 crops more than the kernel's reach (2): use at most 2");
  });
});

describe('parseCell', () => {
  it('reads decimals with a point or a comma and a true minus sign; refuses the rest', () => {
    expect(parseCell(' 0.5 ')).toBe(0.5);
    expect(parseCell('\u22121,25')).toBe(-1.25);
    expect(parseCell('.5')).toBe(0.5);
    expect(parseCell('1e-2')).toBe(0.01);
    for (const bad of ['', '-', 'abc', '1..2', 'Infinity', '1e999']) expect(parseCell(bad)).toBeNull();
  });
});

describe('the sliding window', () => {
  const grid = { rows: 3, cols: 4 };
  it('numbers positions in reading order and wraps both ways', () => {
    expect(positionAt(0, grid)).toEqual({ row: 0, col: 0 });
    expect(positionAt(5, grid)).toEqual({ row: 1, col: 1 });
    expect(positionAt(12, grid)).toEqual({ row: 0, col: 0 });
    expect(positionAt(-1, grid)).toEqual({ row: 2, col: 3 });
    expect(stepIndex(11, 1, grid)).toBe(0);
    expect(stepIndex(0, -1, grid)).toBe(11);
    expect(stepIndex(0, 0, { rows: 0, cols: 0 })).toBe(0);
  });
  it('moves with the arrow keys, Home and End, and ignores other keys', () => {
    expect(keyStep('ArrowRight', 3, grid)).toBe(4);
    expect(keyStep('ArrowLeft', 0, grid)).toBe(11);
    expect(keyStep('ArrowDown', 1, grid)).toBe(5);
    expect(keyStep('ArrowUp', 1, grid)).toBe(9);
    expect(keyStep('Home', 7, grid)).toBe(0);
    expect(keyStep('End', 0, grid)).toBe(11);
    expect(keyStep('a', 0, grid)).toBeNull();
  });
  it('reads X[i·S − P + D·m] in the input; a transposed pixel lands at a·S − P', () => {
    const dilated = check({ stride: '2', padding: '1', dilation: '2', kernelSize: '3' }, 'dilated');
    expect(windowField(dilated.settings!, dilated.geometry!, { row: 3, col: 4 })).toEqual({ top: 5, left: 7, height: 5, width: 5 });
    const transposed = check({ kernelSize: '3', padding: '1' }, 'transposed');
    expect(scatterField(transposed.settings!, transposed.geometry!, { row: 2, col: 0 })).toEqual({ top: 3, left: -1, height: 3, width: 3 });
  });
});

describe('one kernel of a weight set', () => {
  const base = (kind: ConvSettings['kind'], filters: number): ConvSettings =>
    ({ kind, kernelSize: 2, stride: 1, padding: 'valid', dilation: 1, filters, depthMultiplier: 1, outputPadding: 0, useBias: false, depthwiseBias: false });
  const seq = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
  it('conv2d [K, K, C, F]: filter f, channel c at ((m·K + n)·C + c)·F + f', () => {
    const w: ConvWeights = { kernel: { shape: [2, 2, 2, 3], data: seq(24) }, bias: null };
    expect(Array.from(kernelOf(w, base('standard', 3), 2, 1, 1))).toEqual([4, 10, 16, 22]);
    const edited = withKernelCell(w, base('standard', 3), 2, 1, 1, 2, -7);
    expect(Array.from(kernelOf(edited, base('standard', 3), 2, 1, 1))).toEqual([4, 10, -7, 22]);
    expect(Array.from(kernelOf(w, base('standard', 3), 2, 1, 1))).toEqual([4, 10, 16, 22]); // the original is untouched
  });
  it('conv2dTranspose [K, K, F, C]: at ((m·K + n)·F + f)·C + c', () => {
    const w: ConvWeights = { kernel: { shape: [2, 2, 3, 2], data: seq(24) }, bias: null };
    expect(Array.from(kernelOf(w, base('transposed', 3), 2, 1, 0))).toEqual([2, 8, 14, 20]);
  });
  it('depthwise [K, K, C, 1] per channel, and the pointwise P[c, f] of one output', () => {
    const w: ConvWeights = { depthwise: { shape: [2, 2, 3, 1], data: seq(12) }, pointwise: { shape: [1, 1, 3, 2], data: seq(6) }, depthwiseBias: null, bias: null };
    const s = base('depthwise-separable', 2);
    expect(Array.from(kernelOf(w, s, 3, 0, 2))).toEqual([2, 5, 8, 11]);
    expect(Array.from(kernelOf(withKernelCell(w, s, 3, 0, 2, 0, 9), s, 3, 0, 2))).toEqual([9, 5, 8, 11]);
    expect(Array.from(pointwiseOf(w, s, 1))).toEqual([1, 3, 5]);
  });
  it('marks the inserted zeros of a transposed input as NaN, keeping the pixels and the border', () => {
    const s = { ...base('transposed', 1), kernelSize: 2, stride: 2 };
    const grid = upsampledGrid({ shape: [2, 2, 1], data: Float32Array.from([1, 2, 3, 4]) }, s);
    // 4×4 output + K − 1 = 5 per side: one border zero, pixels two apart, inserted zeros between.
    const N = Number.NaN;
    expect(Array.from(insertedZerosMarked(grid))).toEqual([0, 0, 0, 0, 0, 0, 1, N, 2, 0, 0, N, N, N, 0, 0, 3, N, 4, 0, 0, 0, 0, 0, 0]);
  });
});

describe('What CNNs solve: series', () => {
  it('sweeps exact values, both ends included', () => {
    expect(sweepValues(-6, 6, 1)).toEqual([-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6]);
    expect(sweepValues(0.5, 1.5, 0.1)).toEqual([0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.4, 1.5]);
    expect(sweepValues(-90, 90, 10)).toHaveLength(19);
    expect(sweepValues(1, 0, 1)).toEqual([]);
  });
  // A fake model: right (digit 3) only within |x| ≤ 2.
  const predict = (pixels: Float32Array) => {
    const x = pixels[0]!;
    const right = Math.abs(x) <= 2;
    const probabilities = Array.from({ length: 10 }, (_, d) => (d === (right ? 3 : 8) ? 0.9 : 0.1 / 9));
    return { digit: right ? 3 : 8, probabilities };
  };
  const points = sweep(sweepValues(-4, 4, 1), (x) => Float32Array.of(x), predict, 3);
  it('classifies each value and finds where the prediction breaks on each side', () => {
    expect(points.map((p) => p.digit)).toEqual([8, 8, 3, 3, 3, 3, 3, 8, 8]);
    expect(breaks(points, 3, 0)).toEqual({ below: -3, above: 3 });
    expect(breaks(points.slice(2, 7), 3, 0)).toEqual({ below: null, above: null });
    expect(sweep([0], (x) => Float32Array.of(x), () => null, 3)).toEqual([]);
  });
  it('plots the confidence in the true digit (%) and marks the wrong ones', () => {
    const [line, wrong] = sweepSeries(points, 3, t);
    expect(line!.label).toBe('confidence in 3');
    expect(line!.points[4]).toEqual({ x: 0, y: 90 });
    expect(wrong!.points.map((p) => p.x)).toEqual([-4, -3, 3, 4]);
    expect(wrong!.points[0]!.y).toBeCloseTo(100 / 90, 6);
  });
  it('gives each run a train line and test markers, and the gap at its last epoch', () => {
    const small = { runId: 'a', trainCount: 500, epochs: [{ epoch: 1, trainAccuracy: 0.8, testAccuracy: 0.7 }, { epoch: 2, trainAccuracy: 1, testAccuracy: 0.85 }] };
    const series = overfitSeries([small], t);
    expect(series.map((s) => [s.label, s.style, s.color])).toEqual([['train (500 images)', 'line', 0], ['test (500 images)', 'points', 1]]);
    expect(series[1]!.points).toEqual([{ x: 1, y: 70 }, { x: 2, y: 85 }]);
    expect(accuracyGap(small)).toBeCloseTo(0.15, 10);
    expect(accuracyGap({ ...small, epochs: [] })).toBeNull();
  });
  it('keeps one run per training-set size, the newest, sorted by size', () => {
    const run = (runId: string, trainCount: number) => ({ runId, trainCount, epochs: [] });
    let runs = recordRun([], run('b', 60_000));
    runs = recordRun(runs, run('a', 500));
    expect(runs.map((r) => r.runId)).toEqual(['a', 'b']);
    runs = recordRun(runs, run('c', 500));
    expect(runs.map((r) => r.runId)).toEqual(['c', 'b']);
    runs = recordRun(runs, { ...run('c', 500), epochs: [{ epoch: 1, trainAccuracy: 1, testAccuracy: 0.5 }] });
    expect(runs).toHaveLength(2);
    expect(runs[0]!.epochs).toHaveLength(1);
  });
});
