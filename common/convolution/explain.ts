// The sliding window, explained: for one output position, which input cells and weights meet, their
// products and the sum, with each kind's own index formula. The numbers come from the inputs and
// weights; the tests check every sum against the tfjs output at that position.
import { UserError } from '../errors.js';
import type { FeatureMaps } from './compute.js';
import { convGeometry, type ConvGeometry, type ConvSettings } from './geometry.js';
import type { ConvWeights, WeightTensor } from './kernels.js';

export interface WindowTerm {
  /** The input cell, in the unpadded input's coordinates (outside it for a padding zero). */
  row: number;
  col: number;
  channel: number;
  /** The kernel cell. */
  m: number;
  n: number;
  x: number;
  w: number;
  product: number;
  /** True for a padding zero (outside the input). */
  padding: boolean;
  /** Transposed only: where this input pixel sits in the zero-inserted, padded grid. */
  upRow?: number;
  upCol?: number;
}

export interface WindowExplanation {
  /** Output position and channel (for depthwise stages: the depthwise channel). */
  row: number;
  col: number;
  channel: number;
  terms: WindowTerm[];
  bias: number;
  /** Σ products + bias. */
  value: number;
  /** The kind's formula in letters, e.g. "Y[i, j] = Σₘ Σₙ W[m, n]·X[i·S + D·m, j·S + D·n] + b". */
  formula: string;
  /** The formula at this position, e.g. "Y[3, 4] = Σₘ Σₙ W[m, n]·X[3·1 + 2·m, 4·1 + 2·n] + b". */
  filled: string;
}

export interface PointwiseTerm {
  /** Depthwise channel c·M + q. */
  channel: number;
  x: number;
  w: number;
  product: number;
}

export interface SeparableExplanation {
  row: number;
  col: number;
  channel: number;
  /** Stage 1: one K×K window per depthwise channel, each on its own input channel. */
  depthwise: WindowExplanation[];
  /** Stage 2: the 1×1 convolution across the depthwise channels at this pixel. */
  pointwise: { terms: PointwiseTerm[]; bias: number; value: number; formula: string; filled: string };
  value: number;
}

const at = (maps: FeatureMaps, r: number, c: number, ch: number): number => maps.data[(r * maps.shape[1] + c) * maps.shape[2] + ch]!;
const biasAt = (b: WeightTensor | null, i: number): number => (b ? b.data[i]! : 0);
const sum = (terms: { product: number }[]): number => terms.reduce((a, t) => a + t.product, 0);

function checkPosition(g: ConvGeometry, row: number, col: number, channel: number, channels: number): void {
  const inside = (v: number, n: number) => Number.isSafeInteger(v) && v >= 0 && v < n;
  if (!inside(row, g.rows.output) || !inside(col, g.cols.output) || !inside(channel, channels)) {
    throw new UserError('invalid-request', `output position (${row}, ${col}, ${channel}) is outside the ${g.rows.output}×${g.cols.output}×${channels} output`);
  }
}

/** The index of X for one axis: "i·S + D·m" with the numbers filled in for position `i`. */
const indexText = (i: string | number, s: ConvSettings, letter: string): string => {
  const stride = s.stride === 1 && typeof i === 'string' ? `${i}` : `${i}·${typeof i === 'string' ? 'S' : s.stride}`;
  const dil = typeof i === 'string' ? (s.kind === 'standard' ? '' : 'D·') : s.dilation === 1 ? '' : `${s.dilation}·`;
  return `${stride} + ${dil}${letter}`;
};

/** Stage-one or standard/dilated window at (row, col) for kernel `kernelAt(m, n, c)` over `channels`. */
function forwardWindow(input: FeatureMaps, s: ConvSettings, g: ConvGeometry, row: number, col: number, channel: number,
  channels: number[], kernelAt: (m: number, n: number, c: number) => number, bias: number): WindowExplanation {
  const k = s.kernelSize;
  const [h, w] = input.shape;
  const terms: WindowTerm[] = [];
  for (const c of channels) {
    for (let m = 0; m < k; m++) {
      for (let n = 0; n < k; n++) {
        const r = row * s.stride - g.rows.padBefore + s.dilation * m;
        const q = col * s.stride - g.cols.padBefore + s.dilation * n;
        const padding = r < 0 || q < 0 || r >= h || q >= w;
        const x = padding ? 0 : at(input, r, q, c);
        const wv = kernelAt(m, n, c);
        terms.push({ row: r, col: q, channel: c, m, n, x, w: wv, product: x * wv, padding });
      }
    }
  }
  const sumC = channels.length > 1 ? 'Σ_c ' : '';
  const chan = channels.length > 1 ? ', c' : '';
  const y = s.kind === 'depthwise-separable' ? 'Z' : 'Y';
  return {
    row, col, channel, terms, bias, value: sum(terms) + bias,
    formula: `${y}[i, j] = ${sumC}Σₘ Σₙ W[m, n${chan}]·X[${indexText('i', s, 'm')}, ${indexText('j', s, 'n')}${chan}] + b`,
    filled: `${y}[${row}, ${col}] = ${sumC}Σₘ Σₙ W[m, n${chan}]·X[${indexText(row, s, 'm')}, ${indexText(col, s, 'n')}${chan}] + b`,
  };
}

function kernelOf(weights: ConvWeights): { kernel: WeightTensor; bias: WeightTensor | null } {
  if (!('kernel' in weights)) throw new UserError('invalid-request', 'this kind needs one kernel');
  return weights;
}

/**
 * Standard or dilated: Y[i, j, f] = Σ_c Σₘ Σₙ W[m, n, c, f]·X[i·S + D·m, j·S + D·n, c] + b[f], X being the
 * zero-padded input (the terms give unpadded coordinates, outside the input for padding zeros).
 */
export function explainForward(input: FeatureMaps, s: ConvSettings, weights: ConvWeights, row: number, col: number, filter: number): WindowExplanation {
  const g = convGeometry(s, input.shape);
  checkPosition(g, row, col, filter, s.filters);
  const { kernel, bias } = kernelOf(weights);
  const [, , c] = input.shape;
  const k = s.kernelSize;
  const f = s.filters;
  const channels = Array.from({ length: c }, (_, i) => i);
  return forwardWindow(input, s, g, row, col, filter, channels, (m, n, ch) => kernel.data[((m * k + n) * c + ch) * f + filter]!, biasAt(bias, filter));
}

/** Depthwise separable: per channel a K×K window, then a 1×1 across the channels at the same pixel. */
export function explainSeparable(input: FeatureMaps, s: ConvSettings, weights: ConvWeights, row: number, col: number, filter: number): SeparableExplanation {
  const g = convGeometry(s, input.shape);
  checkPosition(g, row, col, filter, s.filters);
  if (!('depthwise' in weights)) throw new UserError('invalid-request', 'a depthwise separable convolution needs depthwise and pointwise weights');
  const [, , c] = input.shape;
  const k = s.kernelSize;
  const mult = s.depthMultiplier;
  const cm = c * mult;
  const depthwise = Array.from({ length: cm }, (_, ch) => {
    const source = Math.floor(ch / mult);
    const q = ch % mult;
    return forwardWindow(input, s, g, row, col, ch, [source], (m, n) => weights.depthwise.data[((m * k + n) * c + source) * mult + q]!,
      biasAt(weights.depthwiseBias, ch));
  });
  const terms = depthwise.map((d, ch) => {
    const w = weights.pointwise.data[ch * s.filters + filter]!;
    return { channel: ch, x: d.value, w, product: d.value * w };
  });
  const bias = biasAt(weights.bias, filter);
  const value = sum(terms) + bias;
  return {
    row, col, channel: filter, depthwise, value,
    pointwise: {
      terms, bias, value,
      formula: 'Y[i, j, f] = Σ_c P[c, f]·Z[i, j, c] + b[f]',
      filled: `Y[${row}, ${col}, ${filter}] = Σ_c P[c, ${filter}]·Z[${row}, ${col}, c] + b[${filter}]`,
    },
  };
}

/** Where the zero-inserted, padded grid of a transposed convolution starts and how big it is (one axis). */
function upsampledAxis(axis: ConvGeometry['rows']): { before: number; size: number } {
  const span = axis.effectiveKernel;
  const before = span - 1 - axis.padBefore;
  return { before, size: axis.output + span - 1 };
}

/**
 * Transposed: each input pixel X[a, b] scatters X[a, b]·W[m, n] to Y[a·S − P + D·m, b·S − P + D·n]. Gathered
 * at one output: every (a, m) with a·S − P + D·m = i (and the same for columns). Each term also says where
 * its pixel sits in the zero-inserted grid, on which the output is a plain stride-1 window with the kernel
 * turned 180°, its top-left corner at (i, j).
 */
export function explainTransposed(input: FeatureMaps, s: ConvSettings, weights: ConvWeights, row: number, col: number, filter: number): WindowExplanation {
  const g = convGeometry(s, input.shape);
  checkPosition(g, row, col, filter, s.filters);
  const { kernel, bias } = kernelOf(weights);
  const [h, w, c] = input.shape;
  const k = s.kernelSize;
  const f = s.filters;
  const upR = upsampledAxis(g.rows);
  const upC = upsampledAxis(g.cols);
  // The input pixels (a, m) of one axis that reach output index i.
  const sources = (i: number, pad: number, size: number): { a: number; m: number }[] => {
    const found: { a: number; m: number }[] = [];
    for (let m = 0; m < k; m++) {
      const t = i + pad - s.dilation * m;
      if (t >= 0 && t % s.stride === 0 && t / s.stride < size) found.push({ a: t / s.stride, m });
    }
    return found;
  };
  const terms: WindowTerm[] = [];
  for (const { a, m } of sources(row, g.rows.padBefore, h)) {
    for (const { a: b, m: n } of sources(col, g.cols.padBefore, w)) {
      for (let ch = 0; ch < c; ch++) {
        const x = at(input, a, b, ch);
        const wv = kernel.data[((m * k + n) * f + filter) * c + ch]!;
        terms.push({ row: a, col: b, channel: ch, m, n, x, w: wv, product: x * wv, padding: false, upRow: upR.before + a * s.stride, upCol: upC.before + b * s.stride });
      }
    }
  }
  const b = biasAt(bias, filter);
  const p = (axis: ConvGeometry['rows']) => axis.padBefore;
  const dm = s.dilation === 1 ? 'm' : `${s.dilation}·m`;
  const dn = s.dilation === 1 ? 'n' : `${s.dilation}·n`;
  return {
    row, col, channel: filter, terms, bias: b, value: sum(terms) + b,
    formula: 'Y[i, j] = Σ over a·S − P + D·m = i, b·S − P + D·n = j of W[m, n]·X[a, b] + bias',
    filled: `Y[${row}, ${col}] = Σ over a·${s.stride} − ${p(g.rows)} + ${dm} = ${row}, b·${s.stride} − ${p(g.cols)} + ${dn} = ${col} of W[m, n]·X[a, b] + bias`,
  };
}

/** One product an input pixel scatters into the output of a transposed convolution. */
export interface ScatterTerm {
  /** Output cell (outside the output when padding crops it). */
  row: number;
  col: number;
  filter: number;
  m: number;
  n: number;
  w: number;
  product: number;
  cropped: boolean;
}

/** Transposed: the weighted copy of the kernel that input pixel (a, b, channel) adds into the output. */
export function transposedScatter(input: FeatureMaps, s: ConvSettings, weights: ConvWeights, a: number, b: number, channel: number): ScatterTerm[] {
  const g = convGeometry(s, input.shape);
  const [h, w, c] = input.shape;
  if (!(a >= 0 && a < h && b >= 0 && b < w && channel >= 0 && channel < c)) {
    throw new UserError('invalid-request', `input pixel (${a}, ${b}, ${channel}) is outside the ${h}×${w}×${c} input`);
  }
  const { kernel } = kernelOf(weights);
  const k = s.kernelSize;
  const f = s.filters;
  const x = at(input, a, b, channel);
  const terms: ScatterTerm[] = [];
  for (let filter = 0; filter < f; filter++) {
    for (let m = 0; m < k; m++) {
      for (let n = 0; n < k; n++) {
        const row = a * s.stride - g.rows.padBefore + s.dilation * m;
        const col = b * s.stride - g.cols.padBefore + s.dilation * n;
        const wv = kernel.data[((m * k + n) * f + filter) * c + channel]!;
        terms.push({ row, col, filter, m, n, w: wv, product: x * wv, cropped: row < 0 || col < 0 || row >= g.rows.output || col >= g.cols.output });
      }
    }
  }
  return terms;
}

/** What a cell of the zero-inserted grid holds. */
export const UPSAMPLED_INSERTED = -1;
export const UPSAMPLED_BORDER = -2;

export interface UpsampledGrid extends FeatureMaps {
  /** Per cell (rows × cols): the input pixel's index a·W + b, UPSAMPLED_INSERTED or UPSAMPLED_BORDER. */
  source: Int32Array;
  /** Where input pixel (0, 0) sits. */
  origin: [number, number];
}

/**
 * The transposed convolution's input as a stride-1 convolution sees it: S − 1 zeros inserted between
 * pixels, and D·(K−1) − P zeros around (more at the end for output padding). A K×K window of the kernel
 * turned 180° sliding over it at stride 1 gives the output.
 */
export function upsampledGrid(input: FeatureMaps, s: ConvSettings): UpsampledGrid {
  if (s.kind !== 'transposed') throw new UserError('invalid-request', 'only a transposed convolution upsamples its input');
  const g = convGeometry(s, input.shape);
  const [h, w, c] = input.shape;
  const r = upsampledAxis(g.rows);
  const q = upsampledAxis(g.cols);
  const data = new Float32Array(r.size * q.size * c);
  const source = new Int32Array(r.size * q.size).fill(UPSAMPLED_BORDER);
  const lastRow = r.before + (h - 1) * s.stride;
  const lastCol = q.before + (w - 1) * s.stride;
  for (let u = r.before; u <= lastRow; u++) {
    for (let v = q.before; v <= lastCol; v++) {
      const onPixel = (u - r.before) % s.stride === 0 && (v - q.before) % s.stride === 0;
      const index = onPixel ? ((u - r.before) / s.stride) * w + (v - q.before) / s.stride : UPSAMPLED_INSERTED;
      source[u * q.size + v] = index;
      if (onPixel) for (let ch = 0; ch < c; ch++) data[(u * q.size + v) * c + ch] = input.data[index * c + ch]!;
    }
  }
  return { shape: [r.size, q.size, c], data, source, origin: [r.before, q.before] };
}

/** The window explanation for any kind (depthwise separable gives its two stages). */
export function explainWindow(input: FeatureMaps, s: ConvSettings, weights: ConvWeights, row: number, col: number, filter: number): WindowExplanation | SeparableExplanation {
  switch (s.kind) {
    case 'standard':
    case 'dilated':
      return explainForward(input, s, weights, row, col, filter);
    case 'transposed':
      return explainTransposed(input, s, weights, row, col, filter);
    case 'depthwise-separable':
      return explainSeparable(input, s, weights, row, col, filter);
  }
}
