// The Convolutions view's logic, without a DOM: its controls checked into ConvSettings with messages a student
// can act on, the sliding window's stepping, and reading and editing one K×K kernel of a weight set.
// The numbers themselves come from common/convolution (tfjs operations).
import {
  CONV_LIMITS, UPSAMPLED_INSERTED, convGeometry, defaultConvSettings, type ConvGeometry, type ConvKind, type ConvSettings, type ConvWeights, type Padding, type UpsampledGrid,
} from '../../../common/convolution/index.js';
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';

export type Translate = (id: MessageKey, values?: MessageValues) => string;

export const CONV_FIELDS = ['kernelSize', 'stride', 'padding', 'dilation', 'filters'] as const;
export type ConvField = (typeof CONV_FIELDS)[number];
/** The controls as typed. */
export type ConvFields = Record<ConvField, string>;

const FIELD_NAME: Record<ConvField, MessageKey> = {
  kernelSize: 'conv.control.kernelSize',
  stride: 'conv.control.stride',
  padding: 'conv.control.padding',
  dilation: 'conv.control.dilation',
  filters: 'conv.control.filters',
};

export const KIND_NAME: Record<ConvKind, MessageKey> = {
  standard: 'conv.kind.standard', 'depthwise-separable': 'conv.kind.depthwiseSeparable', transposed: 'conv.kind.transposed', dilated: 'conv.kind.dilated',
};

export const fieldName = (field: ConvField, t: Translate): string => t(FIELD_NAME[field]);

/** The controls of a kind's defaults, as text. */
export function defaultFields(kind: ConvKind): ConvFields {
  const s = defaultConvSettings(kind);
  return { kernelSize: String(s.kernelSize), stride: String(s.stride), padding: String(s.padding), dilation: String(s.dilation), filters: String(s.filters) };
}

/** A standard convolution's taps are contiguous: its dilation is fixed at 1 (the dilated kind varies it). */
export const dilationFixed = (kind: ConvKind): boolean => kind === 'standard';

/** A whole number typed in a field ('' and anything else is NaN); a true minus sign counts. */
export function parseWhole(text: string): number {
  const trimmed = text.trim().replace('\u2212', '-');
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

/** A kernel cell as typed: decimals with a point or a comma, a true minus sign; null when not a finite number. */
export function parseCell(text: string): number | null {
  const trimmed = text.trim().replace('\u2212', '-').replace(',', '.');
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

export interface CheckedControls {
  /** The settings, or null while a field or the geometry is wrong. */
  settings: ConvSettings | null;
  geometry: ConvGeometry | null;
  /** One message per wrong field. */
  errors: Partial<Record<ConvField, string>>;
  /** Fields are fine but do not fit the input (e.g. the kernel is larger than the padded input). */
  problem: string | null;
}

/** Checks the controls against CONV_LIMITS and the input's shape; every message names the limit it broke. */
export function checkControls(kind: ConvKind, fields: ConvFields, inputShape: readonly [number, number, number], t: Translate): CheckedControls {
  const errors: Partial<Record<ConvField, string>> = {};
  const whole = (field: Exclude<ConvField, 'padding'>): number => {
    const limits = CONV_LIMITS[field];
    const value = parseWhole(fields[field]);
    if (!Number.isSafeInteger(value) || value < limits.min || value > limits.max) {
      errors[field] = t('conv.error.whole', { name: fieldName(field, t), min: limits.min, max: limits.max, value: fields[field].trim() });
    }
    return value;
  };
  const kernelSize = whole('kernelSize');
  const stride = whole('stride');
  const dilation = dilationFixed(kind) ? 1 : whole('dilation');
  const filters = whole('filters');
  const typed = fields.padding.trim().toLowerCase();
  let padding: Padding = 'valid';
  if (typed === 'valid' || typed === 'same') padding = typed;
  else {
    const value = parseWhole(typed);
    const { min, max } = CONV_LIMITS.padding;
    if (!Number.isSafeInteger(value) || value < min || value > max) errors.padding = t('conv.error.padding', { min, max, value: fields.padding.trim() });
    else padding = value;
  }
  if (Object.keys(errors).length > 0) return { settings: null, geometry: null, errors, problem: null };
  const settings: ConvSettings = { ...defaultConvSettings(kind), kernelSize, stride, dilation, filters, padding };
  const problem = geometryProblem(settings, inputShape, t);
  if (problem) return { settings: null, geometry: null, errors, problem };
  return { settings, geometry: convGeometry(settings, inputShape), errors, problem: null };
}

/** Why settings that are each within their limits do not fit this input, worded; null when they fit. */
export function geometryProblem(s: ConvSettings, inputShape: readonly [number, number, number], t: Translate): string | null {
  const [h, w] = inputShape;
  const side = Math.min(h, w);
  const span = s.dilation * (s.kernelSize - 1) + 1;
  const p = typeof s.padding === 'number' ? s.padding : 0;
  if (s.kind !== 'transposed' && s.padding !== 'same' && span > side + 2 * p) {
    return t('conv.error.kernelTooLarge', { k: s.kernelSize, d: s.dilation, span, side, p, padded: side + 2 * p });
  }
  if (s.kind === 'transposed' && typeof s.padding === 'number' && p > span - 1) {
    return t('conv.error.cropTooMuch', { p, span: span - 1 });
  }
  try {
    convGeometry(s, inputShape);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// ---------------------------------------------------------------- the sliding window

/**
 * The positions the window visits, in reading order: every output pixel for the forward kinds, every
 * input pixel for transposed (each scatters a weighted copy of the kernel).
 */
export function windowGrid(kind: ConvKind, g: ConvGeometry): { rows: number; cols: number } {
  return kind === 'transposed' ? { rows: g.rows.input, cols: g.cols.input } : { rows: g.rows.output, cols: g.cols.output };
}

export interface WindowPosition {
  row: number;
  col: number;
}

/** Position number `index` (reading order) of a rows×cols grid. */
export function positionAt(index: number, grid: { rows: number; cols: number }): WindowPosition {
  const count = grid.rows * grid.cols;
  const i = ((Math.trunc(index) % count) + count) % count;
  return { row: Math.floor(i / grid.cols), col: i % grid.cols };
}

/** The index `delta` steps on, wrapping around the grid in either direction. */
export function stepIndex(index: number, delta: number, grid: { rows: number; cols: number }): number {
  const count = grid.rows * grid.cols;
  if (count <= 0) return 0;
  return (((index + delta) % count) + count) % count;
}

/** The step a key asks for: arrows move a pixel or a row, Home and End jump to the ends; null for other keys. */
export function keyStep(key: string, index: number, grid: { rows: number; cols: number }): number | null {
  switch (key) {
    case 'ArrowRight': return stepIndex(index, 1, grid);
    case 'ArrowLeft': return stepIndex(index, -1, grid);
    case 'ArrowDown': return stepIndex(index, grid.cols, grid);
    case 'ArrowUp': return stepIndex(index, -grid.cols, grid);
    case 'Home': return 0;
    case 'End': return grid.rows * grid.cols - 1;
    default: return null;
  }
}

/** The cells of the input one forward window reads (padded coordinates shifted back to the input's). */
export function windowField(s: ConvSettings, g: ConvGeometry, pos: WindowPosition): { top: number; left: number; height: number; width: number } {
  const span = g.rows.effectiveKernel;
  return { top: pos.row * s.stride - g.rows.padBefore, left: pos.col * s.stride - g.cols.padBefore, height: span, width: g.cols.effectiveKernel };
}

/** Where the weighted copy scattered by input pixel `pos` lands in a transposed convolution's output (before cropping). */
export function scatterField(s: ConvSettings, g: ConvGeometry, pos: WindowPosition): { top: number; left: number; height: number; width: number } {
  return { top: pos.row * s.stride - g.rows.padBefore, left: pos.col * s.stride - g.cols.padBefore, height: g.rows.effectiveKernel, width: g.cols.effectiveKernel };
}

// ---------------------------------------------------------------- one K×K kernel of a weight set

/** Index of kernel cell (m, n) for output `filter` and input channel `channel`, in the weights' TF.js layout. */
function cellIndex(s: ConvSettings, inChannels: number, filter: number, channel: number, cell: number): number {
  switch (s.kind) {
    case 'depthwise-separable': return cell * inChannels * s.depthMultiplier + channel * s.depthMultiplier;
    case 'transposed': return (cell * s.filters + filter) * inChannels + channel;
    default: return (cell * inChannels + channel) * s.filters + filter;
  }
}

const kernelData = (w: ConvWeights): Float32Array => ('kernel' in w ? w.kernel.data : w.depthwise.data);

/**
 * One K×K kernel, row-major: of output `filter` on input `channel` (standard, dilated, transposed), or the
 * depthwise kernel of `channel` (depthwise separable; `filter` is ignored there).
 */
export function kernelOf(w: ConvWeights, s: ConvSettings, inChannels: number, filter: number, channel: number): Float32Array {
  const data = kernelData(w);
  const k = s.kernelSize;
  return Float32Array.from({ length: k * k }, (_, cell) => data[cellIndex(s, inChannels, filter, channel, cell)]!);
}

/** The weights with one kernel cell changed (a new object, so the view recomputes). */
export function withKernelCell(w: ConvWeights, s: ConvSettings, inChannels: number, filter: number, channel: number, cell: number, value: number): ConvWeights {
  const at = cellIndex(s, inChannels, filter, channel, cell);
  if ('kernel' in w) {
    const data = w.kernel.data.slice();
    data[at] = value;
    return { ...w, kernel: { shape: w.kernel.shape, data } };
  }
  const data = w.depthwise.data.slice();
  data[at] = value;
  return { ...w, depthwise: { shape: w.depthwise.shape, data } };
}

/** The 1×1 pointwise weights P[c, f] of output `filter`, one per depthwise channel. */
export function pointwiseOf(w: ConvWeights, s: ConvSettings, filter: number): Float32Array {
  if (!('pointwise' in w)) return new Float32Array();
  const cm = w.pointwise.shape[2] ?? 0;
  return Float32Array.from({ length: cm }, (_, c) => w.pointwise.data[c * s.filters + filter]!);
}

/** Channel `channel` of H×W×C maps, row-major. */
export function channelOf(data: ArrayLike<number>, shape: readonly number[], channel: number): Float32Array {
  const [h = 0, w = 0, c = 1] = shape;
  return Float32Array.from({ length: h * w }, (_, i) => data[i * c + channel]!);
}

/**
 * Channel 0 of a transposed convolution's zero-inserted grid, for drawing: the inserted zeros become NaN (drawn
 * grey), so they stand apart from the digit's own zeros; the border zeros stay 0.
 */
export function insertedZerosMarked(grid: UpsampledGrid): Float32Array {
  const [, , c] = grid.shape;
  return Float32Array.from(grid.source, (source, i) => (source === UPSAMPLED_INSERTED ? Number.NaN : grid.data[i * c]!));
}
