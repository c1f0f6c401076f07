// The convolution lab's arithmetic: the four kinds, their settings and limits, output sizes with the
// formula filled in, and parameter / multiply-add counts. Pure and isomorphic (no tensors here).
import { UserError } from '../errors.js';

export const CONV_KINDS = ['standard', 'depthwise-separable', 'transposed', 'dilated'] as const;
export type ConvKind = (typeof CONV_KINDS)[number];

/** 'valid' (no padding), 'same' (output ⌈H/S⌉, or H·S for transposed) or P zeros on every side. */
export type Padding = 'valid' | 'same' | number;

export interface ConvSettings {
  kind: ConvKind;
  /** K: the kernel is K×K. */
  kernelSize: number;
  /** S. */
  stride: number;
  padding: Padding;
  /** D: the kernel's taps are D pixels apart (1 = contiguous). */
  dilation: number;
  /** Output channels F (for depthwise separable: of the 1×1 pointwise stage). */
  filters: number;
  /** Depthwise separable only: depthwise outputs per input channel (M). */
  depthMultiplier: number;
  /** Transposed only: extra rows and columns at the bottom and right, less than the stride. */
  outputPadding: number;
  /** One bias per output channel (the pointwise stage's for depthwise separable). */
  useBias: boolean;
  /** Depthwise separable only: a bias per depthwise output too (Keras leaves it out). */
  depthwiseBias: boolean;
}

/** Inclusive limits of every setting: large enough for any lesson, small enough to draw. */
export const CONV_LIMITS = {
  kernelSize: { min: 1, max: 15 },
  stride: { min: 1, max: 8 },
  dilation: { min: 1, max: 8 },
  filters: { min: 1, max: 64 },
  padding: { min: 0, max: 16 },
  depthMultiplier: { min: 1, max: 8 },
  inputSide: { min: 1, max: 256 },
  inputChannels: { min: 1, max: 64 },
} as const;

export const isConvKind = (value: string): value is ConvKind => (CONV_KINDS as readonly string[]).includes(value);

/**
 * The defaults, from LeNet-5: 5×5 kernels; C1's 6 filters on the digit for the single-input kinds,
 * C3's 16 for depthwise separable (on the six S2 maps); stride 2 for transposed (it upsamples),
 * dilation 2 for dilated.
 */
export function defaultConvSettings(kind: ConvKind): ConvSettings {
  return {
    kind, kernelSize: 5, stride: kind === 'transposed' ? 2 : 1, padding: 'valid', dilation: kind === 'dilated' ? 2 : 1,
    filters: kind === 'depthwise-separable' ? 16 : 6, depthMultiplier: 1, outputPadding: 0, useBias: true, depthwiseBias: false,
  };
}

/** One axis (rows or columns) of a convolution. */
export interface AxisGeometry {
  input: number;
  output: number;
  /** Zeros before and after the input: tfjs's own split for 'same' (the extra one after). */
  padBefore: number;
  padAfter: number;
  /** D·(K−1) + 1: the span of the dilated kernel. */
  effectiveKernel: number;
  /** The formula with letters, e.g. "⌊(H + 2P − D·(K−1) − 1) / S⌋ + 1". */
  formula: string;
  /** The same formula with the numbers, e.g. "⌊(28 + 2·0 − 2·(5−1) − 1) / 1⌋ + 1 = 20". */
  filled: string;
}

export interface ConvGeometry {
  rows: AxisGeometry;
  cols: AxisGeometry;
  inChannels: number;
  /** Channels of the output: F. */
  outChannels: number;
  /** [H', W', F]. */
  outputShape: [number, number, number];
}

const invalid = (message: string): UserError => new UserError('invalid-request', message);

function checkWhole(name: string, value: number, limits: { min: number; max: number }): void {
  if (!Number.isSafeInteger(value) || value < limits.min || value > limits.max) {
    throw invalid(`${name} must be a whole number from ${limits.min} to ${limits.max}, got ${value}`);
  }
}

/** Throws a one-line UserError for any setting out of its limits (before any input is known). */
export function checkSettings(s: ConvSettings): void {
  if (!isConvKind(s.kind)) throw invalid(`unknown kind "${String(s.kind)}": use ${CONV_KINDS.join(', ')}`);
  checkWhole('kernel size', s.kernelSize, CONV_LIMITS.kernelSize);
  checkWhole('stride', s.stride, CONV_LIMITS.stride);
  checkWhole('dilation', s.dilation, CONV_LIMITS.dilation);
  checkWhole('filters', s.filters, CONV_LIMITS.filters);
  checkWhole('depth multiplier', s.depthMultiplier, CONV_LIMITS.depthMultiplier);
  if (s.padding !== 'valid' && s.padding !== 'same') checkWhole('padding', s.padding, CONV_LIMITS.padding);
  if (s.kind === 'standard' && s.dilation !== 1) throw invalid(`a standard convolution has dilation 1 (got ${s.dilation}): use the dilated kind`);
  if (s.kind !== 'depthwise-separable' && s.depthMultiplier !== 1) throw invalid('only a depthwise separable convolution has a depth multiplier');
  if (s.outputPadding !== 0) {
    if (s.kind !== 'transposed') throw invalid('only a transposed convolution has output padding');
    if (s.padding === 'same') throw invalid("output padding goes with 'valid' or numeric padding, not 'same' (which fixes the output at H·S)");
    if (!Number.isSafeInteger(s.outputPadding) || s.outputPadding < 0 || s.outputPadding >= s.stride) {
      throw invalid(`output padding must be a whole number from 0 to stride − 1 = ${s.stride - 1}, got ${s.outputPadding}`);
    }
  }
}

const padOf = (padding: Padding): number => (padding === 'valid' ? 0 : padding === 'same' ? NaN : padding);

/** One axis of a forward (standard, dilated, depthwise) convolution; throws if the kernel does not fit. */
function forwardAxis(name: string, h: number, s: ConvSettings): AxisGeometry {
  const { kernelSize: k, stride: st, dilation: d } = s;
  const span = d * (k - 1) + 1;
  if (s.padding === 'same') {
    const output = Math.ceil(h / st);
    const total = Math.max(0, (output - 1) * st + span - h);
    const padBefore = Math.floor(total / 2);
    return {
      input: h, output, padBefore, padAfter: total - padBefore, effectiveKernel: span,
      formula: `⌈${name} / S⌉`, filled: `⌈${h} / ${st}⌉ = ${output}`,
    };
  }
  const p = padOf(s.padding);
  if (span > h + 2 * p) {
    const kernel = d === 1 ? `the ${k}×${k} kernel` : `the ${k}×${k} kernel dilated by ${d} spans ${span} pixels (D·(K−1)+1) and`;
    throw invalid(`${kernel} is larger than the padded input: ${name} + 2P = ${h} + 2·${p} = ${h + 2 * p}`);
  }
  const output = Math.floor((h + 2 * p - d * (k - 1) - 1) / st) + 1;
  return {
    input: h, output, padBefore: p, padAfter: p, effectiveKernel: span,
    formula: `⌊(${name} + 2P − D·(K−1) − 1) / S⌋ + 1`,
    filled: `⌊(${h} + 2·${p} − ${d}·(${k}−1) − 1) / ${st}⌋ + 1 = ${output}`,
  };
}

/**
 * One axis of a transposed convolution. padBefore/padAfter are the rows cropped from the full scatter
 * ("padding" of the convolution it transposes); output padding adds rows at the end.
 */
function transposedAxis(name: string, h: number, s: ConvSettings): AxisGeometry {
  const { kernelSize: k, stride: st, dilation: d } = s;
  const span = d * (k - 1) + 1;
  if (s.padding === 'same') {
    const total = Math.max(0, span - st);
    const padBefore = Math.floor(total / 2);
    const output = h * st;
    return { input: h, output, padBefore, padAfter: total - padBefore, effectiveKernel: span, formula: `${name}·S`, filled: `${h}·${st} = ${output}` };
  }
  const p = padOf(s.padding);
  const op = s.outputPadding;
  const output = (h - 1) * st - 2 * p + d * (k - 1) + 1 + op;
  const filled = `(${h} − 1)·${st} − 2·${p} + ${d}·(${k} − 1) + 1 + ${op}`;
  if (output < 1) throw invalid(`padding ${p} leaves no output: (${name} − 1)·S − 2P + D·(K−1) + 1 + output padding = ${filled} = ${output}`);
  if (p > span - 1) throw invalid(`padding ${p} is more than the kernel's span − 1 = ${span - 1}: it would crop rows no kernel copy reaches`);
  return {
    input: h, output, padBefore: p, padAfter: p, effectiveKernel: span,
    formula: `(${name} − 1)·S − 2P + D·(K − 1) + 1 + output padding`, filled: `${filled} = ${output}`,
  };
}

/** The output size of a convolution on an H×W×C input, or a one-line UserError. */
export function convGeometry(s: ConvSettings, inputShape: readonly [number, number, number]): ConvGeometry {
  checkSettings(s);
  const [h, w, c] = inputShape;
  checkWhole('input height', h, CONV_LIMITS.inputSide);
  checkWhole('input width', w, CONV_LIMITS.inputSide);
  checkWhole('input channels', c, CONV_LIMITS.inputChannels);
  if (s.kind === 'depthwise-separable' && c < 2) {
    throw invalid('a depthwise separable convolution needs an input of at least 2 channels, so the per-channel and 1×1 stages differ');
  }
  const axis = s.kind === 'transposed' ? transposedAxis : forwardAxis;
  const rows = axis('H', h, s);
  const cols = axis('W', w, s);
  return { rows, cols, inChannels: c, outChannels: s.filters, outputShape: [rows.output, cols.output, s.filters] };
}

/** Shapes of the weights in TF.js layouts. */
export type WeightShapes =
  | { kernel: [number, number, number, number]; bias: [number] | null }
  | { depthwise: [number, number, number, number]; pointwise: [number, number, number, number]; depthwiseBias: [number] | null; bias: [number] | null };

/** conv2d [K, K, C, F]; conv2dTranspose [K, K, F, C]; depthwise [K, K, C, M] + pointwise [1, 1, C·M, F]. */
export function weightShapes(s: ConvSettings, inChannels: number): WeightShapes {
  const k = s.kernelSize;
  const bias: [number] | null = s.useBias ? [s.filters] : null;
  if (s.kind === 'depthwise-separable') {
    const m = s.depthMultiplier;
    return {
      depthwise: [k, k, inChannels, m], pointwise: [1, 1, inChannels * m, s.filters],
      depthwiseBias: s.depthwiseBias ? [inChannels * m] : null, bias,
    };
  }
  return { kernel: s.kind === 'transposed' ? [k, k, s.filters, inChannels] : [k, k, inChannels, s.filters], bias };
}

export interface ConvCounts {
  kind: ConvKind;
  /** Kernel weights (both stages for depthwise separable). */
  weights: number;
  biases: number;
  /** weights + biases. */
  params: number;
  /** Multiply-adds for one input (bias additions not counted). */
  macs: number;
  /** e.g. "K·K·C·F + F = 5·5·1·6 + 6 = 156". */
  paramsFormula: string;
  macsFormula: string;
  outputShape: [number, number, number];
}

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * Parameters and multiply-adds. A transposed convolution counts every product it scatters,
 * H·W·K·K·C·F (including those cropped by padding); the forward kinds count H'·W' windows,
 * products with padding zeros included, as hardware computes them.
 */
export function convCounts(s: ConvSettings, inputShape: readonly [number, number, number]): ConvCounts {
  const g = convGeometry(s, inputShape);
  const [h, w, c] = inputShape;
  const [oh, ow, f] = g.outputShape;
  const k = s.kernelSize;
  const base = { kind: s.kind, outputShape: g.outputShape };
  if (s.kind === 'depthwise-separable') {
    const m = s.depthMultiplier;
    const cm = c * m;
    const weights = k * k * cm + cm * f;
    const biases = (s.depthwiseBias ? cm : 0) + (s.useBias ? f : 0);
    const macs = oh * ow * k * k * cm + oh * ow * cm * f;
    const mLetter = m === 1 ? '' : '·M';
    const mNum = m === 1 ? '' : `·${m}`;
    const biasLetters = `${s.depthwiseBias ? ` + C${mLetter}` : ''}${s.useBias ? ' + F' : ''}`;
    const biasNums = `${s.depthwiseBias ? ` + ${c}${mNum}` : ''}${s.useBias ? ` + ${f}` : ''}`;
    return {
      ...base, weights, biases, params: weights + biases, macs,
      paramsFormula: `K·K·C${mLetter} + C${mLetter}·F${biasLetters} = ${k}·${k}·${c}${mNum} + ${c}${mNum}·${f}${biasNums} = ${n(weights + biases)}`,
      macsFormula: `H'·W'·K·K·C${mLetter} + H'·W'·C${mLetter}·F = ${oh}·${ow}·${k}·${k}·${c}${mNum} + ${oh}·${ow}·${c}${mNum}·${f} = ${n(macs)}`,
    };
  }
  const weights = k * k * c * f;
  const biases = s.useBias ? f : 0;
  const macs = s.kind === 'transposed' ? h * w * k * k * c * f : oh * ow * k * k * c * f;
  return {
    ...base, weights, biases, params: weights + biases, macs,
    paramsFormula: `K·K·C·F${s.useBias ? ' + F' : ''} = ${k}·${k}·${c}·${f}${s.useBias ? ` + ${f}` : ''} = ${n(weights + biases)}`,
    macsFormula: s.kind === 'transposed'
      ? `H·W·K·K·C·F = ${h}·${w}·${k}·${k}·${c}·${f} = ${n(macs)}`
      : `H'·W'·K·K·C·F = ${oh}·${ow}·${k}·${k}·${c}·${f} = ${n(macs)}`,
  };
}

export type KindComparison = { kind: ConvKind; settings: ConvSettings } & ({ counts: ConvCounts } | { error: string });

/**
 * The current settings applied to each of the four kinds, side by side. Each kind keeps what makes it
 * itself: standard has dilation 1; dilated at least 2; only depthwise separable has a multiplier
 * and only transposed output padding.
 */
export function compareKinds(s: ConvSettings, inputShape: readonly [number, number, number]): KindComparison[] {
  return CONV_KINDS.map((kind) => {
    const settings: ConvSettings = {
      ...s, kind,
      dilation: kind === 'standard' ? 1 : kind === 'dilated' ? Math.max(2, s.dilation) : s.dilation,
      depthMultiplier: kind === 'depthwise-separable' ? s.depthMultiplier : 1,
      depthwiseBias: kind === 'depthwise-separable' && s.depthwiseBias,
      outputPadding: kind === 'transposed' ? s.outputPadding : 0,
    };
    try {
      return { kind, settings, counts: convCounts(settings, inputShape) };
    } catch (e) {
      if (e instanceof UserError) return { kind, settings, error: e.message };
      throw e;
    }
  });
}

/** Links in LeNet-5's C3 connection table (LeCun et al. 1998, Table I): 60 of the 6·16 = 96. */
export const LENET5_C3_LINKS = 60;

export interface LayerAlternative {
  name: string;
  params: number;
  macs: number;
  paramsFormula: string;
  macsFormula: string;
}

/**
 * LeNet-5's C3 (14×14×6 → 10×10×16, 5×5) three ways: the paper's sparse table (1,516 parameters),
 * fully connected channels (a standard convolution) and depthwise separable.
 */
export function lenetC3Alternatives(): LayerAlternative[] {
  const input = [14, 14, 6] as const;
  const standard = convCounts({ ...defaultConvSettings('standard'), filters: 16 }, input);
  const separable = convCounts(defaultConvSettings('depthwise-separable'), input);
  const paperParams = LENET5_C3_LINKS * 25 + 16;
  const paperMacs = 10 * 10 * 25 * LENET5_C3_LINKS;
  return [
    {
      name: 'LeNet-5 C3 (connection table, 60 of 96 channel pairs)', params: paperParams, macs: paperMacs,
      paramsFormula: `60·5·5 + 16 = ${n(paperParams)}`, macsFormula: `10·10·5·5·60 = ${n(paperMacs)}`,
    },
    { name: 'standard, every channel pair', params: standard.params, macs: standard.macs, paramsFormula: standard.paramsFormula, macsFormula: standard.macsFormula },
    { name: 'depthwise separable', params: separable.params, macs: separable.macs, paramsFormula: separable.paramsFormula, macsFormula: separable.macsFormula },
  ];
}

export interface ParameterSharing {
  convolution: number;
  fullyConnected: number;
  /** fullyConnected / convolution. */
  ratio: number;
  convolutionFormula: string;
  fullyConnectedFormula: string;
}

/**
 * Parameter sharing: LeNet-5's C1 (32×32 input, 6 maps of 28×28, 5×5) as a convolution, against the
 * same input-to-output mapping as a fully connected layer (a weight for every input-output pair).
 */
export function parameterSharing(inputSide = 32, kernelSize = 5, maps = 6): ParameterSharing {
  const out = inputSide - kernelSize + 1;
  const convolution = kernelSize * kernelSize * maps + maps;
  const outputs = out * out * maps;
  const fullyConnected = inputSide * inputSide * outputs + outputs;
  return {
    convolution, fullyConnected, ratio: fullyConnected / convolution,
    convolutionFormula: `${kernelSize}·${kernelSize}·1·${maps} + ${maps} = ${n(convolution)}`,
    fullyConnectedFormula: `${inputSide}·${inputSide}·${maps}·${out}·${out} + ${maps}·${out}·${out} = ${n(fullyConnected)}`,
  };
}
