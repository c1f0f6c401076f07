// The convolution lab's core against plain reference loops written here (sharing no code with it),
// on the wasm backend (with the engine's own kernels) and on cpu (the renderer's).
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../engine/backends/ladder.js';
import {
  CONV_KINDS, CONV_LIMITS, LENET5_C3_LINKS, compareKinds, convCounts, kernelPreset, convGeometry, convolve, defaultConvSettings, explainForward,
  explainSeparable, explainTransposed, explainWindow, gaussianBlur, identityKernel, learnedC1Kernels, lenetC3Alternatives,
  parameterSharing, presetWeights, sharpen, sobelX, sobelY, transposedScatter, upsampledGrid, UPSAMPLED_BORDER, UPSAMPLED_INSERTED,
  type ConvKind, type ConvSettings, type ConvWeights, type FeatureMaps,
} from '../../common/convolution/index.js';
import { LENET5_C3_CONNECTIONS } from '../../common/network/layers.js';
import { isUserError } from '../../common/errors.js';
import { refForward, refSeparable, refTransposed } from './conv-reference.js';

/** Uniform numbers in [−1, 1) from an LCG: independent of the library's PRNG. */
function randoms(count: number, seed: number): Float32Array {
  let state = seed * 2654435761 % 4294967296;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) % 4294967296;
    return state / 2147483648 - 1;
  });
}

const settings = (kind: ConvKind, over: Partial<ConvSettings>): ConvSettings => ({
  kind, kernelSize: 3, stride: 1, padding: 'valid', dilation: 1, filters: 2, depthMultiplier: 1, outputPadding: 0, useBias: true, depthwiseBias: false, ...over,
});

function expectClose(actual: FeatureMaps, expected: FeatureMaps): void {
  expect(actual.shape).toEqual(expected.shape);
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) worst = Math.max(worst, Math.abs(actual.data[i]! - expected.data[i]!));
  expect(worst).toBeLessThan(1e-4);
}

function randomWeights(s: ConvSettings, c: number, seed: number): ConvWeights {
  const k = s.kernelSize;
  const t = (shape: number[], salt: number) => ({ shape, data: randoms(shape.reduce((a, b) => a * b, 1), seed * 7 + salt) });
  const bias = s.useBias ? t([s.filters], 1) : null;
  if (s.kind === 'depthwise-separable') {
    return { depthwise: t([k, k, c, s.depthMultiplier], 2), pointwise: t([1, 1, c * s.depthMultiplier, s.filters], 3), depthwiseBias: s.depthwiseBias ? t([c * s.depthMultiplier], 4) : null, bias };
  }
  return { kernel: t(s.kind === 'transposed' ? [k, k, s.filters, c] : [k, k, c, s.filters], 5), bias };
}

const input = (h: number, w: number, c: number, seed: number): FeatureMaps => ({ shape: [h, w, c], data: randoms(h * w * c, seed) });

// Several strides, paddings, dilations, kernel sizes (odd, even, 1) and filters; edges: a kernel as large as
// the padded input (a 1×1 output), odd 'same' splits, stride larger than the kernel, non-square inputs.
const FORWARD_CASES: [string, [number, number, number], Partial<ConvSettings>][] = [
  ['3×3 valid', [7, 9, 1], {}],
  ['5×5 same, 3 channels', [8, 8, 3], { kernelSize: 5, padding: 'same', filters: 4 }],
  ['4×4 (even) same, stride 2', [9, 7, 2], { kernelSize: 4, padding: 'same', stride: 2 }],
  ['3×3 padding 2, stride 3', [10, 11, 1], { padding: 2, stride: 3, filters: 3 }],
  ['1×1', [5, 6, 3], { kernelSize: 1, filters: 2 }],
  ['kernel exactly the padded input', [4, 4, 2], { kernelSize: 6, padding: 1 }],
  ['stride larger than the kernel', [9, 9, 1], { kernelSize: 2, stride: 4 }],
  ['no bias', [6, 6, 1], { useBias: false }],
];
const DILATED_CASES: [string, [number, number, number], Partial<ConvSettings>][] = [
  ['D2 valid', [9, 9, 1], { dilation: 2 }],
  ['D3 same, 2 channels', [10, 8, 2], { dilation: 3, padding: 'same', filters: 3 }],
  ['D2 stride 2 (tfjs refuses both: sliced)', [11, 12, 1], { dilation: 2, stride: 2, padding: 1 }],
  ['D2 stride 3 same, even kernel', [13, 10, 2], { dilation: 2, stride: 3, kernelSize: 4, padding: 'same' }],
  ['dilated span exactly the input', [9, 9, 1], { dilation: 4, kernelSize: 3 }],
];
const TRANSPOSED_CASES: [string, [number, number, number], Partial<ConvSettings>][] = [
  ['3×3 stride 2 valid', [4, 5, 1], { stride: 2 }],
  ['5×5 stride 2 same', [4, 4, 2], { kernelSize: 5, stride: 2, padding: 'same', filters: 3 }],
  ['4×4 stride 2 padding 1', [5, 3, 1], { kernelSize: 4, stride: 2, padding: 1 }],
  ['stride 3 with output padding 2', [3, 4, 2], { stride: 3, padding: 1, outputPadding: 2 }],
  ['kernel smaller than the stride, same', [3, 3, 1], { kernelSize: 2, stride: 3, padding: 'same' }],
  ['stride 1 padding 2 (= span − 1)', [6, 6, 1], { padding: 2 }],
  ['dilation 2', [4, 4, 2], { dilation: 2, stride: 2, padding: 1 }],
  ['1×1 stride 2', [3, 4, 1], { kernelSize: 1, stride: 2 }],
];
const SEPARABLE_CASES: [string, [number, number, number], Partial<ConvSettings>][] = [
  ['3×3 valid, 2 channels', [7, 7, 2], {}],
  ['5×5 same, 6 channels → 16 (C3-like)', [14, 14, 6], { kernelSize: 5, padding: 'same', filters: 16 }],
  ['stride 2, multiplier 2, both biases', [9, 8, 3], { stride: 2, depthMultiplier: 2, depthwiseBias: true, padding: 1 }],
  ['dilation 2 stride 2', [12, 12, 2], { dilation: 2, stride: 2 }],
];

describe.each(['wasm', 'cpu'] as const)('the four kinds on %s against reference loops', (backend) => {
  it('initialises the backend', async () => {
    await initBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });

  it.each(FORWARD_CASES)('standard: %s', (_, shape, over) => {
    const s = settings('standard', over);
    const x = input(...shape, 11);
    const wts = randomWeights(s, shape[2], 3) as { kernel: { data: Float32Array }; bias: { data: Float32Array } | null };
    expectClose(convolve(x, s, wts as ConvWeights).output, refForward(x, s, wts.kernel.data, wts.bias?.data ?? null));
  });

  it.each(DILATED_CASES)('dilated: %s', (_, shape, over) => {
    const s = settings('dilated', over);
    const x = input(...shape, 12);
    const wts = randomWeights(s, shape[2], 4) as { kernel: { data: Float32Array }; bias: { data: Float32Array } | null };
    expectClose(convolve(x, s, wts as ConvWeights).output, refForward(x, s, wts.kernel.data, wts.bias?.data ?? null));
  });

  it.each(TRANSPOSED_CASES)('transposed: %s', (_, shape, over) => {
    const s = settings('transposed', over);
    const x = input(...shape, 13);
    const wts = randomWeights(s, shape[2], 5) as { kernel: { data: Float32Array }; bias: { data: Float32Array } | null };
    expectClose(convolve(x, s, wts as ConvWeights).output, refTransposed(x, s, wts.kernel.data, wts.bias?.data ?? null));
  });

  it.each(SEPARABLE_CASES)('depthwise separable: %s', (_, shape, over) => {
    const s = settings('depthwise-separable', over);
    const x = input(...shape, 14);
    const wts = randomWeights(s, shape[2], 6);
    if (!('depthwise' in wts)) throw new Error('unreachable');
    const result = convolve(x, s, wts);
    const ref = refSeparable(x, s, wts.depthwise.data, wts.pointwise.data, wts.depthwiseBias?.data ?? null, wts.bias?.data ?? null);
    expectClose(result.depthwiseOutput!, ref.mid);
    expectClose(result.output, ref.out);
  });

  it('depthwise separable equals tf.separableConv2d where that op applies (valid or same, stride 1)', () => {
    for (const padding of ['valid', 'same'] as const) {
      const s = settings('depthwise-separable', { padding, useBias: false, filters: 3 });
      const x = input(8, 8, 3, 15);
      const wts = randomWeights(s, 3, 7);
      if (!('depthwise' in wts)) throw new Error('unreachable');
      const direct = tf.tidy(() => tf.separableConv2d(tf.tensor4d(x.data, [1, 8, 8, 3]), tf.tensor4d(wts.depthwise.data, [3, 3, 3, 1]),
        tf.tensor4d(wts.pointwise.data, [1, 1, 3, 3]), 1, padding));
      expectClose(convolve(x, s, wts).output, { shape: direct.shape.slice(1) as [number, number, number], data: direct.dataSync() as Float32Array });
      direct.dispose();
    }
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    for (const kind of CONV_KINDS) {
      const s = settings(kind, { stride: 2, dilation: kind === 'standard' ? 1 : 2 });
      const c = kind === 'depthwise-separable' ? 2 : 1;
      convolve(input(12, 12, c, 1), s, randomWeights(s, c, 1));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the window explanation matches the computed output', () => {
  const checkEvery = (s: ConvSettings, x: FeatureMaps, wts: ConvWeights) => {
    const out = convolve(x, s, wts).output;
    const [oh, ow, f] = out.shape;
    for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < f; o++) {
      const e = explainWindow(x, s, wts, i, j, o);
      expect(e.value).toBeCloseTo(out.data[(i * ow + j) * f + o]!, 4);
    }
  };

  it.each(([
    ['standard', FORWARD_CASES[3]!],
    ['standard', FORWARD_CASES[2]!],
    ['dilated', DILATED_CASES[3]!],
    ['transposed', TRANSPOSED_CASES[3]!],
    ['transposed', TRANSPOSED_CASES[6]!],
    ['depthwise-separable', SEPARABLE_CASES[2]!],
  ] as const).map(([kind, [name, shape, over]]) => [kind, name, shape, over] as const))('%s: %s, at every output position', async (kind, _, shape, over) => {
    await initBackend('wasm');
    const s = settings(kind, over);
    checkEvery(s, input(...shape, 21), randomWeights(s, shape[2], 8));
  });

  it('dilated: the window reads X[i·s + d·m − P, j·s + d·n − P], padding zeros flagged, with the formula filled in', () => {
    const s = settings('dilated', { dilation: 2, stride: 3, padding: 1, filters: 1 });
    const x = input(10, 10, 1, 2);
    const e = explainForward(x, s, randomWeights(s, 1, 2), 2, 1, 0);
    expect(e.terms.map((t) => [t.row, t.col])).toEqual([[5, 2], [5, 4], [5, 6], [7, 2], [7, 4], [7, 6], [9, 2], [9, 4], [9, 6]]);
    const corner = explainForward(x, s, randomWeights(s, 1, 2), 0, 0, 0);
    expect(corner.terms.filter((t) => t.padding).map((t) => [t.row, t.col])).toEqual([[-1, -1], [-1, 1], [-1, 3], [1, -1], [3, -1]]);
    expect(corner.terms.filter((t) => t.padding).every((t) => t.x === 0 && t.product === 0)).toBe(true);
    expect(e.formula).toBe('Y[i, j] = Σₘ Σₙ W[m, n]·X[i·S + D·m, j·S + D·n] + b');
    expect(e.filled).toBe('Y[2, 1] = Σₘ Σₙ W[m, n]·X[2·3 + 2·m, 1·3 + 2·n] + b');
  });

  it('standard, stride 1: the lesson\'s formula Y[i, j] = Σₘ Σₙ W[m, n]·X[i + m, j + n] + b', () => {
    const s = settings('standard', { filters: 1 });
    const e = explainForward(input(5, 5, 1, 1), s, randomWeights(s, 1, 1), 1, 2, 0);
    expect(e.formula).toBe('Y[i, j] = Σₘ Σₙ W[m, n]·X[i + m, j + n] + b');
    expect(e.filled).toBe('Y[1, 2] = Σₘ Σₙ W[m, n]·X[1·1 + m, 2·1 + n] + b');
    expect(e.terms).toHaveLength(9);
  });

  it('transposed: the pixels that reach an output, their place in the zero-inserted grid, and each pixel\'s scatter', () => {
    const s = settings('transposed', { kernelSize: 3, stride: 2, filters: 1 });
    const x = input(3, 3, 1, 5);
    const wts = randomWeights(s, 1, 5);
    // Y[2] gathers a = 1 (m = 0) and a = 0 (m = 2): a·2 + m = 2.
    const e = explainTransposed(x, s, wts, 2, 2, 0);
    expect(e.terms.map((t) => [t.row, t.col, t.m, t.n])).toEqual([[1, 1, 0, 0], [1, 0, 0, 2], [0, 1, 2, 0], [0, 0, 2, 2]]);
    const grid = upsampledGrid(x, s);
    // 3 pixels with a zero between each (5) and K − 1 = 2 zeros around: 9; the output is 9 − 3 + 1 = 7.
    expect(grid.shape).toEqual([9, 9, 1]);
    expect(grid.origin).toEqual([2, 2]);
    const row2 = Array.from(grid.source.subarray(2 * 9, 3 * 9));
    expect(row2).toEqual([UPSAMPLED_BORDER, UPSAMPLED_BORDER, 0, UPSAMPLED_INSERTED, 1, UPSAMPLED_INSERTED, 2, UPSAMPLED_BORDER, UPSAMPLED_BORDER]);
    expect(grid.data[(4 * 9 + 4) * 1]).toBe(x.data[1 * 3 + 1]);
    // Each term's grid cell lies in the 3×3 window whose corner is the output position.
    for (const t of e.terms) {
      expect(t.upRow! - 2).toBeGreaterThanOrEqual(0);
      expect(t.upRow! - 2).toBeLessThan(3);
      expect(grid.source[t.upRow! * 9 + t.upCol!]).toBe(t.row * 3 + t.col);
    }
    // The scatter of one pixel, summed over all pixels, is the output.
    const out = convolve(x, s, wts).output;
    const total = new Float32Array(out.data.length).fill((wts as { bias: { data: Float32Array } }).bias.data[0]!);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      const scatter = transposedScatter(x, s, wts, a, b, 0);
      expect(scatter).toHaveLength(9);
      for (const t of scatter) if (!t.cropped) total[t.row * 7 + t.col] += t.product;
    }
    expectClose({ shape: out.shape, data: total }, out);
  });

  it('depthwise separable: one K×K window per channel, then a 1×1 across them', () => {
    const s = settings('depthwise-separable', { filters: 4 });
    const x = input(6, 6, 3, 9);
    const e = explainSeparable(x, s, randomWeights(s, 3, 9), 1, 2, 3);
    expect(e.depthwise).toHaveLength(3);
    expect(e.depthwise.map((d) => new Set(d.terms.map((t) => t.channel)))).toEqual([new Set([0]), new Set([1]), new Set([2])]);
    expect(e.pointwise.terms.map((t) => t.x)).toEqual(e.depthwise.map((d) => d.value));
    expect(e.pointwise.filled).toBe('Y[1, 2, 3] = Σ_c P[c, 3]·Z[1, 2, c] + b[3]');
  });

  it('refuses an output position outside the output', () => {
    const s = settings('standard', {});
    const x = input(5, 5, 1, 1);
    expect(() => explainWindow(x, s, randomWeights(s, 1, 1), 3, 0, 0)).toThrow(/outside the 3×3×2 output/);
    expect(() => explainWindow(x, s, randomWeights(s, 1, 1), 2, 2, 2)).toThrow(/outside/);
    expect(() => explainWindow(x, s, randomWeights(s, 1, 1), 2, 2, 1)).not.toThrow();
  });
});

describe('output sizes, with the formula filled in', () => {
  it.each([
    // kind, input, settings, expected output, filled formula
    ['standard', [28, 28, 1], {}, [28 - 5 + 1, 28 - 5 + 1, 6], '⌊(28 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 24'],
    ['dilated', [28, 28, 1], {}, [20, 20, 6], '⌊(28 + 2·0 − 2·(5−1) − 1) / 1⌋ + 1 = 20'],
    ['standard', [32, 32, 1], { stride: 2, padding: 1 }, [15, 15, 6], '⌊(32 + 2·1 − 1·(5−1) − 1) / 2⌋ + 1 = 15'],
    ['standard', [28, 28, 1], { stride: 3, padding: 'same' }, [10, 10, 6], '⌈28 / 3⌉ = 10'],
    ['transposed', [28, 28, 1], {}, [59, 59, 6], '(28 − 1)·2 − 2·0 + 1·(5 − 1) + 1 + 0 = 59'],
    ['transposed', [14, 14, 1], { padding: 2, outputPadding: 1 }, [28, 28, 6], '(14 − 1)·2 − 2·2 + 1·(5 − 1) + 1 + 1 = 28'],
    ['transposed', [14, 14, 1], { padding: 'same' }, [28, 28, 6], '14·2 = 28'],
    ['depthwise-separable', [14, 14, 6], {}, [10, 10, 16], '⌊(14 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 10'],
  ] as const)('%s on %j with %j', (kind, shape, over, expected, filled) => {
    const g = convGeometry({ ...defaultConvSettings(kind), ...over }, shape);
    expect(g.outputShape).toEqual(expected);
    expect(g.rows.filled).toBe(filled);
  });

  it('splits an odd "same" padding like tfjs: the extra zero after', () => {
    const g = convGeometry(settings('standard', { kernelSize: 4, padding: 'same' }), [6, 6, 1]);
    expect([g.rows.padBefore, g.rows.padAfter]).toEqual([1, 2]);
  });

  it('takes the largest kernel that fits the padded input and refuses one more', () => {
    expect(convGeometry(settings('standard', { kernelSize: 7, padding: 1 }), [5, 5, 1]).outputShape).toEqual([1, 1, 2]);
    expect(() => convGeometry(settings('standard', { kernelSize: 8, padding: 1 }), [5, 5, 1])).toThrow('the 8×8 kernel is larger than the padded input: H + 2P = 5 + 2·1 = 7');
    expect(convGeometry(settings('dilated', { kernelSize: 3, dilation: 4 }), [9, 12, 1]).outputShape).toEqual([1, 4, 2]);
    expect(() => convGeometry(settings('dilated', { kernelSize: 3, dilation: 4 }), [8, 12, 1])).toThrow(/dilated by 4 spans 9 pixels.*H \+ 2P = 8/);
    expect(() => convGeometry(settings('dilated', { kernelSize: 3, dilation: 4 }), [12, 8, 1])).toThrow(/W \+ 2P = 8/);
  });

  it.each([
    ['kernelSize', CONV_LIMITS.kernelSize, /kernel size must be a whole number from 1 to 15/],
    ['stride', CONV_LIMITS.stride, /stride must be a whole number from 1 to 8/],
    ['dilation', CONV_LIMITS.dilation, /dilation must be a whole number from 1 to 8/],
    ['filters', CONV_LIMITS.filters, /filters must be a whole number from 1 to 64/],
    ['padding', CONV_LIMITS.padding, /padding must be a whole number from 0 to 16/],
  ] as const)('%s: accepts its limits, refuses one beyond each and fractions', (key, limits, message) => {
    const base = settings('dilated', { kernelSize: 1, padding: 20 as never });
    const at = (v: number) => () => convGeometry({ ...base, padding: 0, [key]: v }, [256, 256, 1]);
    expect(at(limits.min)).not.toThrow();
    expect(at(limits.max)).not.toThrow();
    expect(at(limits.min - 1)).toThrow(message);
    expect(at(limits.max + 1)).toThrow(message);
    expect(at(limits.min + 0.5)).toThrow(message);
    expect(at(Number.NaN)).toThrow(message);
  });

  it('refuses what a kind does not have, each as a user error', () => {
    const cases: [Partial<ConvSettings> & { kind: ConvKind }, [number, number, number], RegExp][] = [
      [{ kind: 'standard', dilation: 2 }, [9, 9, 1], /standard convolution has dilation 1/],
      [{ kind: 'dilated', depthMultiplier: 2 }, [9, 9, 1], /only a depthwise separable/],
      [{ kind: 'standard', outputPadding: 1 }, [9, 9, 1], /only a transposed convolution has output padding/],
      [{ kind: 'transposed', stride: 2, outputPadding: 2 }, [9, 9, 1], /output padding must be a whole number from 0 to stride − 1 = 1, got 2/],
      [{ kind: 'transposed', stride: 2, padding: 'same', outputPadding: 1 }, [9, 9, 1], /not 'same'/],
      [{ kind: 'transposed', kernelSize: 3, padding: 3 }, [9, 9, 1], /more than the kernel's span − 1 = 2/],
      [{ kind: 'transposed', kernelSize: 1, stride: 1, padding: 1 }, [1, 1, 1], /leaves no output/],
      [{ kind: 'depthwise-separable' }, [9, 9, 1], /at least 2 channels/],
      [{ kind: 'pointy' as ConvKind }, [9, 9, 1], /unknown kind "pointy"/],
    ];
    for (const [over, shape, message] of cases) {
      let caught: unknown;
      try {
        convGeometry(settings(over.kind, over), shape);
      } catch (e) {
        caught = e;
      }
      expect(isUserError(caught), String(message)).toBe(true);
      expect((caught as Error).message).toMatch(message);
    }
    expect(() => convGeometry(settings('transposed', { stride: 2, outputPadding: 1 }), [9, 9, 1])).not.toThrow();
    expect(() => convGeometry(settings('transposed', { kernelSize: 3, padding: 2 }), [9, 9, 1])).not.toThrow();
  });
});

describe('parameter and multiply-add counts', () => {
  it('LeNet-5 C1: 156 parameters, 117,600 multiply-adds', () => {
    const c = convCounts({ ...defaultConvSettings('standard') }, [32, 32, 1]);
    expect([c.params, c.weights, c.biases, c.macs]).toEqual([156, 150, 6, 117_600]);
    expect(c.paramsFormula).toBe('K·K·C·F + F = 5·5·1·6 + 6 = 156');
    expect(c.macsFormula).toBe("H'·W'·K·K·C·F = 28·28·5·5·1·6 = 117,600");
  });

  it('LeNet-5 C3 three ways: 1,516 (the paper), 2,416 (every pair), 262 (depthwise separable)', () => {
    expect(LENET5_C3_CONNECTIONS.flat().reduce((a, b) => a + b, 0)).toBe(LENET5_C3_LINKS);
    const rows = lenetC3Alternatives();
    expect(rows.map((r) => [r.params, r.macs])).toEqual([[1516, 150_000], [2416, 240_000], [262, 24_600]]);
    expect(rows[2]!.paramsFormula).toBe('K·K·C + C·F + F = 5·5·6 + 6·16 + 16 = 262');
    expect(rows[2]!.macsFormula).toBe("H'·W'·K·K·C + H'·W'·C·F = 10·10·5·5·6 + 10·10·6·16 = 24,600");
  });

  it('depthwise separable with a multiplier and both biases', () => {
    const c = convCounts(settings('depthwise-separable', { depthMultiplier: 2, depthwiseBias: true, filters: 4 }), [8, 8, 3]);
    // 3·3·3·2 + 6·4 weights, 6 + 4 biases; 6×6 windows.
    expect([c.weights, c.biases, c.params, c.macs]).toEqual([78, 10, 88, 36 * 54 + 36 * 24]);
    expect(c.paramsFormula).toBe('K·K·C·M + C·M·F + C·M + F = 3·3·3·2 + 3·2·4 + 3·2 + 4 = 88');
  });

  it('transposed counts every scattered product; dilated has standard\'s parameters and fewer windows', () => {
    expect(convCounts(defaultConvSettings('transposed'), [28, 28, 1])).toMatchObject({ params: 156, macs: 28 * 28 * 25 * 6 });
    expect(convCounts(defaultConvSettings('dilated'), [28, 28, 1])).toMatchObject({ params: 156, macs: 20 * 20 * 25 * 6 });
  });

  it('compares the four kinds side by side, naming the kind it cannot apply to', () => {
    const rows = compareKinds(defaultConvSettings('standard'), [28, 28, 1]);
    expect(rows.map((r) => r.kind)).toEqual(['standard', 'depthwise-separable', 'transposed', 'dilated']);
    expect(rows.map((r) => ('counts' in r ? r.counts.params : r.error))).toEqual([156, expect.stringMatching(/at least 2 channels/), 156, 156]);
    expect(rows[3]!.settings.dilation).toBe(2);
    const six = compareKinds({ ...defaultConvSettings('dilated'), filters: 16 }, [14, 14, 6]);
    expect(six.map((r) => ('counts' in r ? r.counts.params : r.error))).toEqual([2416, 262, 2416, 2416]);
    expect(six[0]!.settings.dilation).toBe(1);
  });

  it('parameter sharing: C1 is 156 parameters, the same mapping fully connected 4,821,600', () => {
    const p = parameterSharing();
    expect(p.convolution).toBe(156);
    expect(p.fullyConnected).toBe(32 * 32 * 6 * 28 * 28 + 6 * 28 * 28);
    expect(p.fullyConnected).toBe(4_821_600);
    expect(p.ratio).toBeCloseTo(30_907.69, 2);
    expect(p.fullyConnectedFormula).toBe('32·32·6·28·28 + 6·28·28 = 4,821,600');
  });
});

describe('kernel presets', () => {
  const grid = (k: Float32Array) => Array.from(k);
  it('Sobel x and y, 3×3 and 5×5', () => {
    expect(grid(sobelX(3))).toEqual([-1, 0, 1, -2, 0, 2, -1, 0, 1]);
    expect(grid(sobelY(3))).toEqual([-1, -2, -1, 0, 0, 0, 1, 2, 1]);
    expect(grid(sobelX(5)).slice(10, 15)).toEqual([-6, -12, 0, 12, 6]);
    expect(() => sobelX(1)).toThrow(/at least 2/);
  });

  it('blur sums to 1, identity passes the input through, sharpen is the classic one at 3×3', () => {
    expect(grid(gaussianBlur(3)).map((v) => v * 16)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    expect(grid(gaussianBlur(5)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(grid(sharpen(3))).toEqual([0, -1, 0, -1, 5, -1, 0, -1, 0]);
    expect(grid(sharpen(5)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(grid(identityKernel(4)).indexOf(1)).toBe(5); // (1, 1): the centre 'same' padding lines up
  });

  it('identity with same padding gives the input back, on every kind of kernel size', async () => {
    await initBackend('wasm');
    for (const k of [1, 2, 3, 4, 5]) {
      const s = settings('standard', { kernelSize: k, padding: 'same', filters: 1 });
      const x = input(6, 7, 1, k);
      expectClose(convolve(x, s, presetWeights(s, 1, 'identity', { seed: 0 })).output, x);
    }
  });

  it('random kernels repeat from the seed and differ between seeds; edge filters cycle x, y, −x, −y', () => {
    const s = settings('standard', { filters: 4 });
    const a = presetWeights(s, 1, 'random', { seed: 3 }) as { kernel: { data: Float32Array } };
    const b = presetWeights(s, 1, 'random', { seed: 3 }) as { kernel: { data: Float32Array } };
    const c = presetWeights(s, 1, 'random', { seed: 4 }) as { kernel: { data: Float32Array } };
    expect(a.kernel.data).toEqual(b.kernel.data);
    expect(a.kernel.data).not.toEqual(c.kernel.data);
    expect(Math.max(...a.kernel.data.map(Math.abs))).toBeLessThanOrEqual(1);
    const edge = presetWeights(s, 1, 'edge', { seed: 0 }) as { kernel: { data: Float32Array } };
    const filter = (f: number) => Array.from({ length: 9 }, (_, cell) => edge.kernel.data[cell * 4 + f]);
    expect([filter(0), filter(1), filter(2), filter(3)]).toEqual([grid(sobelX(3)), grid(sobelY(3)), grid(sobelX(3)).map((v) => -v), grid(sobelY(3)).map((v) => -v)]);
  });

  it('learned C1 kernels come from a [5, 5, 1, 6] tensor, with the model\'s biases', () => {
    const data = Float32Array.from({ length: 150 }, (_, i) => i);
    const kernels = learnedC1Kernels({ kernel: { shape: [5, 5, 1, 6], data } });
    expect(kernels).toHaveLength(6);
    expect(Array.from(kernels[2]!.subarray(0, 3))).toEqual([2, 8, 14]);
    const s = { ...defaultConvSettings('standard'), filters: 8 };
    const w = presetWeights(s, 1, 'learned-c1', { seed: 0, learnedC1: { kernel: { shape: [5, 5, 1, 6], data }, bias: { shape: [6], data: Float32Array.from([1, 2, 3, 4, 5, 6]) } } });
    if (!('kernel' in w)) throw new Error('unreachable');
    expect(Array.from(w.bias!.data)).toEqual([1, 2, 3, 4, 5, 6, 1, 2]);
    expect(w.kernel.data[7 * 1 + 0]).toBe(kernels[7 % 6]![0]); // filter 7 at cell 0 is C1 kernel 1
    expect(() => presetWeights({ ...s, kernelSize: 3 }, 1, 'learned-c1', { seed: 0, learnedC1: { kernel: { shape: [5, 5, 1, 6], data } } })).toThrow(/5×5/);
    expect(() => learnedC1Kernels({ kernel: { shape: [3, 3, 1, 6], data: new Float32Array(54) } })).toThrow(/\[5, 5, 1, N\]/);
  });

  it('one kernel of a preset for the editor: the same numbers as in the whole set', () => {
    expect(Array.from(kernelPreset('edge', 3, { seed: 0, index: 1 }))).toEqual(Array.from(sobelY(3)));
    expect(kernelPreset('random', 4, { seed: 5 })).toEqual(kernelPreset('random', 4, { seed: 5 }));
    expect(() => kernelPreset('learned-c1', 5, { seed: 0 })).toThrow(/need a model/);
  });

  it('the shipped model\'s C1 kernels on a test digit: the conv, its explanation and the model\'s own C1 agree', async () => {
    await initBackend('wasm');
    const { loadModel } = await import('../../engine/io/model-store.js');
    const { createPredictor } = await import('../../common/network/predict.js');
    const { getVariant } = await import('../../common/network/variants.js');
    const { loadDataset } = await import('../../engine/data/dataset.js');
    const { model, meta } = await loadModel('assets/models/lenet5');
    const c1 = model.getLayer('C1').getWeights();
    const learnedC1 = { kernel: { shape: c1[0]!.shape, data: c1[0]!.dataSync() as Float32Array }, bias: { shape: c1[1]!.shape, data: c1[1]!.dataSync() as Float32Array } };
    const predictor = createPredictor(model, getVariant(meta.variant));
    const images = loadDataset({ kind: 'mnist' }).test.images;
    const digit = Float32Array.from(images.subarray(0, 784), (v) => v / 255);
    const activations = predictor.predict(digit).activations;
    const x = activations.find((a) => a.id === 'INPUT')!;
    const s = { ...defaultConvSettings('standard') };
    const result = convolve({ shape: [32, 32, 1], data: x.data }, s, presetWeights(s, 1, 'learned-c1', { seed: 0, learnedC1 }));
    // The model's C1 map is the scaled tanh of this convolution: 1.7159·tanh(2a/3).
    const c1Maps = activations.find((a) => a.id === 'C1')!;
    const worst = result.output.data.reduce((m, a, i) => Math.max(m, Math.abs(1.7159 * Math.tanh((2 * a) / 3) - c1Maps.data[i]!)), 0);
    expect(worst).toBeLessThan(1e-4);
    const e = explainForward({ shape: [32, 32, 1], data: x.data }, s, presetWeights(s, 1, 'learned-c1', { seed: 0, learnedC1 }), 12, 9, 4);
    expect(e.value).toBeCloseTo(result.output.data[(12 * 28 + 9) * 6 + 4]!, 4);
    predictor.dispose();
    model.dispose();
  });

  it('weights of the wrong shape are refused with the shape expected', async () => {
    await initBackend('wasm');
    const s = settings('standard', {});
    const w = randomWeights(settings('standard', { filters: 3 }), 1, 1);
    expect(() => convolve(input(5, 5, 1, 1), s, w)).toThrow('kernel must have shape [3, 3, 1, 2], got [3, 3, 1, 3]');
  });
});
