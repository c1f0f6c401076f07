// Tensor slicing, crisp canvas painting and the arithmetic behind hover read-outs.
// Layouts follow tfjs: activations are NHWC ([1, H, W, C], or [1, N] for dense layers),
// conv kernels are HWIO ([kH, kW, in, out]). Everything except paintSlice is pure.
import type { Rgb } from './colormap.js';
import { applyActivationSpec, SCALED_TANH_A, SCALED_TANH_S, type ActivationSpec } from '../../../common/network/specs.js';

export interface TensorLike {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/**
 * Rows, columns and channels of an activation shape: [1, H, W, C] (NHWC) and [H, W, C] are maps,
 * [1, N] and [N] are dense layers (1×1×N). predict() drops the batch, so C5 arrives as [1, 1, 120].
 */
export interface MapGeometry { rows: number; cols: number; channels: number }

export function mapGeometry(shape: readonly number[]): MapGeometry {
  if (shape.length === 4 && shape[0] === 1) return { rows: shape[1]!, cols: shape[2]!, channels: shape[3]! };
  if (shape.length === 3) return { rows: shape[0]!, cols: shape[1]!, channels: shape[2]! };
  if (shape.length === 2 && shape[0] === 1) return { rows: 1, cols: 1, channels: shape[1]! };
  if (shape.length === 1) return { rows: 1, cols: 1, channels: shape[0]! };
  throw new Error(`cannot read a feature-map geometry from shape [${shape.join(', ')}]`);
}

/** Flat index of (row, col, channel) in a batch-0 NHWC (or HWC) tensor. */
export function nhwcIndex(shape: readonly number[], row: number, col: number, channel: number): number {
  const { rows, cols, channels } = mapGeometry(shape);
  if (row < 0 || row >= rows || col < 0 || col >= cols || channel < 0 || channel >= channels) {
    throw new RangeError(`(${row}, ${col}, ${channel}) is outside a ${rows}×${cols}×${channels} map`);
  }
  return (row * cols + col) * channels + channel;
}

/** Flat index of (row, col, in, out) in an HWIO conv kernel. */
export function hwioIndex(shape: readonly number[], row: number, col: number, input: number, output: number): number {
  if (shape.length !== 4) throw new Error(`a conv kernel has 4 dimensions [kH, kW, in, out], got [${shape.join(', ')}]`);
  const [kh, kw, ins, outs] = shape as [number, number, number, number];
  if (row < 0 || row >= kh || col < 0 || col >= kw || input < 0 || input >= ins || output < 0 || output >= outs) {
    throw new RangeError(`(${row}, ${col}, ${input}, ${output}) is outside a ${kh}×${kw}×${ins}×${outs} kernel`);
  }
  return ((row * kw + col) * ins + input) * outs + output;
}

/** The kH×kW kernel that links input channel `input` to output channel `output`, row-major. */
export function kernelSlice(kernel: TensorLike, input: number, output: number): Float32Array {
  const [kh, kw] = kernel.shape as [number, number];
  const out = new Float32Array(kh * kw);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) out[r * kw + c] = kernel.data[hwioIndex(kernel.shape, r, c, input, output)]!;
  }
  return out;
}

/** One channel of a batch-0 NHWC activation as a rows×cols row-major array. */
export function channelSlice(activation: TensorLike, channel: number): Float32Array {
  const { rows, cols, channels } = mapGeometry(activation.shape);
  if (channel < 0 || channel >= channels) throw new RangeError(`channel ${channel} is outside 0..${channels - 1}`);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows * cols; i++) out[i] = activation.data[i * channels + channel]!;
  return out;
}

/** True when every value of a slice is exactly zero (a link the C3 table removes). */
export function isAllZero(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

// ---------------------------------------------------------------- painting

/**
 * Device-pixel edges of `cells` cells of `cellDevicePx` each. Edges are rounded so every
 * cell is a whole number of device pixels (no blurry seams at fractional DPR).
 */
export function cellEdges(cells: number, cellDevicePx: number): Int32Array {
  const edges = new Int32Array(cells + 1);
  for (let i = 0; i <= cells; i++) edges[i] = Math.round(i * cellDevicePx);
  return edges;
}

/**
 * Rasterise a rows×cols slice into RGBA pixels, each cell `cellDevicePx` device pixels wide.
 * Returns the buffer and its size; the caller wraps it in an ImageData.
 */
export function rasterize(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  cellDevicePx: number,
  colorOf: (value: number) => Rgb,
): { width: number; height: number; pixels: Uint8ClampedArray<ArrayBuffer> } {
  const xEdges = cellEdges(cols, cellDevicePx);
  const yEdges = cellEdges(rows, cellDevicePx);
  const width = xEdges[cols]!;
  const height = yEdges[rows]!;
  const pixels = new Uint8ClampedArray(width * height * 4);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const [red, green, blue] = colorOf(values[r * cols + c]!);
      for (let y = yEdges[r]!; y < yEdges[r + 1]!; y++) {
        let p = (y * width + xEdges[c]!) * 4;
        for (let x = xEdges[c]!; x < xEdges[c + 1]!; x++) {
          pixels[p] = red; pixels[p + 1] = green; pixels[p + 2] = blue; pixels[p + 3] = 255;
          p += 4;
        }
      }
    }
  }
  return { width, height, pixels };
}

export function devicePixelRatioNow(): number {
  return typeof window !== 'undefined' && window.devicePixelRatio > 0 ? window.devicePixelRatio : 1;
}

/**
 * Paint a rows×cols slice onto `canvas` at `zoom` CSS pixels per cell, sharp at any
 * devicePixelRatio: the backing store is sized in device pixels and painted cell by cell.
 */
export function paintSlice(
  canvas: HTMLCanvasElement,
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  zoom: number,
  colorOf: (value: number) => Rgb,
  dpr = devicePixelRatioNow(),
): void {
  const { width, height, pixels } = rasterize(values, rows, cols, zoom * dpr, colorOf);
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.style.width = `${cols * zoom}px`;
  canvas.style.height = `${rows * zoom}px`;
  canvas.style.imageRendering = 'pixelated';
  const ctx = canvas.getContext('2d');
  if (!ctx || width === 0 || height === 0) return;
  ctx.putImageData(new ImageData(pixels, width, height), 0, 0);
}

// ---------------------------------------------------------------- hit testing

export interface Cell { row: number; col: number }

/** The cell under CSS offset (x, y) of a map drawn at `zoom` CSS px per cell, or null outside. */
export function cellAt(x: number, y: number, rows: number, cols: number, zoom: number): Cell | null {
  if (!(zoom > 0)) return null;
  const col = Math.floor(x / zoom);
  const row = Math.floor(y / zoom);
  if (row < 0 || row >= rows || col < 0 || col >= cols) return null;
  return { row, col };
}

/** The index of the tile under offset `x` in a strip of tiles `tile` px wide with `gap` px between them. */
export function tileAt(x: number, tile: number, gap: number, count: number): number | null {
  const pitch = tile + gap;
  const index = Math.floor(x / pitch);
  if (index < 0 || index >= count || x - index * pitch >= tile) return null;
  return index;
}

// ---------------------------------------------------------------- receptive fields

/** An inclusive rectangle of input cells: rows top..top+height-1, cols left..left+width-1. */
export interface Field { top: number; left: number; height: number; width: number }

export interface Stage { kernel: number; stride: number; padding?: number }

/** The input window that output cell (row, col) of one conv/pool stage reads. */
export function receptiveField(row: number, col: number, stage: Stage): Field {
  const pad = stage.padding ?? 0;
  return { top: row * stage.stride - pad, left: col * stage.stride - pad, height: stage.kernel, width: stage.kernel };
}

/**
 * The window of the first stage's input that a cell of the last stage's output depends on.
 * Stages are listed input → output (e.g. [C1, S2, C3] maps a C3 cell to the 32×32 input).
 */
export function chainedField(row: number, col: number, stages: readonly Stage[]): Field {
  let top = row, bottom = row, left = col, right = col;
  for (let i = stages.length - 1; i >= 0; i--) {
    const { kernel, stride } = stages[i]!;
    const pad = stages[i]!.padding ?? 0;
    top = top * stride - pad;
    left = left * stride - pad;
    bottom = bottom * stride - pad + kernel - 1;
    right = right * stride - pad + kernel - 1;
  }
  return { top, left, height: bottom - top + 1, width: right - left + 1 };
}

/** Clip a field to a rows×cols map (padding may push it outside). */
export function clipField(field: Field, rows: number, cols: number): Field {
  const top = Math.max(0, field.top);
  const left = Math.max(0, field.left);
  const bottom = Math.min(rows - 1, field.top + field.height - 1);
  const right = Math.min(cols - 1, field.left + field.width - 1);
  return { top, left, height: Math.max(0, bottom - top + 1), width: Math.max(0, right - left + 1) };
}

// ---------------------------------------------------------------- the dot product behind one output

export interface DotTerm {
  input: number;
  /** kH×kW weights W[m, n] linking `input` to the output map. */
  weights: Float32Array;
  /** kH×kW input patch X[i+m, j+n] (zero where padding falls outside the map). */
  patch: Float32Array;
  /** Σ W·X for this input map. */
  sum: number;
}

export interface DotProduct {
  terms: DotTerm[];
  /** Σ over every term. */
  sum: number;
  bias: number;
  /** sum + bias: the pre-activation. */
  preActivation: number;
  field: Field;
  kernel: number;
}

/**
 * Y[i, j] of output map `output` of a conv layer: Σ_inputs Σ_m,n W[m, n]·X[i·s+m−p, j·s+n−p] + b.
 * `inputs` restricts the sum to connected input maps (others would contribute exactly zero
 * in the masked lenet5 C3 anyway); by default every input channel is used.
 */
export function convDotProduct(
  input: TensorLike,
  kernel: TensorLike,
  bias: ArrayLike<number> | null,
  output: number,
  row: number,
  col: number,
  options: { stride?: number; padding?: number; inputs?: readonly number[] } = {},
): DotProduct {
  const [kh, kw, ins] = kernel.shape as [number, number, number, number];
  const geometry = mapGeometry(input.shape);
  if (geometry.channels !== ins) {
    throw new Error(`the kernel expects ${ins} input maps but the input has ${geometry.channels}`);
  }
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  const field = receptiveField(row, col, { kernel: kh, stride, padding });
  const channels = options.inputs ?? Array.from({ length: ins }, (_, i) => i);
  const terms: DotTerm[] = [];
  let total = 0;
  for (const channel of channels) {
    const weights = kernelSlice(kernel, channel, output);
    const patch = new Float32Array(kh * kw);
    let sum = 0;
    for (let m = 0; m < kh; m++) {
      for (let n = 0; n < kw; n++) {
        const r = field.top + m;
        const c = field.left + n;
        const inside = r >= 0 && r < geometry.rows && c >= 0 && c < geometry.cols;
        const x = inside ? input.data[(r * geometry.cols + c) * geometry.channels + channel]! : 0;
        patch[m * kw + n] = x;
        sum += weights[m * kw + n]! * x;
      }
    }
    terms.push({ input: channel, weights, patch, sum });
    total += sum;
  }
  const b = bias ? bias[output]! : 0;
  return { terms, sum: total, bias: b, preActivation: total + b, field, kernel: kh };
}

// ---------------------------------------------------------------- activations

/**
 * An activation named as tfjs names it ('relu', 'sigmoid', 'linear', ...) or as a label words it
 * ('scaled tanh 1.7159·tanh(2a/3)', 'none (softmax in the loss)'), or null for a name it does not know.
 * The views use the layer specs' activation ids; this reads names that come from elsewhere.
 */
export function activationFromName(name: string | null | undefined): ActivationSpec | null {
  const key = (name ?? 'linear').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (key === '' || key === 'linear' || key === 'identity' || key.startsWith('none')) return { id: 'none' };
  if (key.startsWith('scaledtanh') || key.startsWith('lecuntanh') || key.startsWith('squash')) {
    return { id: 'scaled-tanh', amplitude: SCALED_TANH_A, slope: SCALED_TANH_S };
  }
  if (key === 'tanh' || key === 'relu' || key === 'sigmoid') return { id: key };
  return null;
}

/** Apply an activation by name (see activationFromName); null for a name it does not know, so the UI
 * can say it cannot check the value rather than show a wrong one. */
export function applyActivation(name: string | null | undefined, x: number): number | null {
  const activation = activationFromName(name);
  return activation ? applyActivationSpec(activation, x) : null;
}

/** A short formula for the activation, for labels: f(a) = … */
export function activationFormula(name: string | null | undefined): string {
  const activation = activationFromName(name);
  return activation ? activationFormulaOf(activation) : name ?? '';
}

/** f(a) = … for an activation spec. */
export function activationFormulaOf(activation: ActivationSpec): string {
  switch (activation.id) {
    case 'none': return 'f(a) = a';
    case 'scaled-tanh': return `f(a) = ${activation.amplitude}·tanh(${slopeText(activation.slope)})`;
    case 'tanh': return 'f(a) = tanh(a)';
    case 'relu': return 'f(a) = max(0, a)';
    case 'sigmoid': return 'f(a) = 1/(1 + e^−a)';
  }
}

/** The slope of a scaled tanh times a, worded as the paper does: 2/3 → "2a/3". */
export function slopeText(slope: number): string {
  for (const d of [2, 3, 4, 5, 6]) {
    const n = Math.round(slope * d);
    if (Math.abs(n / d - slope) < 1e-12 && n !== d) return n === 1 ? `a/${d}` : `${n}a/${d}`;
  }
  return slope === 1 ? 'a' : `${slope}a`;
}

