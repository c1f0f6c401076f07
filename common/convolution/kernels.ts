// Kernel presets for the convolution lab, and whole weight sets (in TF.js layouts) built from them.
import { UserError } from '../errors.js';
import { seededRandom } from '../random.js';
import { weightShapes, type ConvSettings } from './geometry.js';

export const KERNEL_PRESETS = ['edge', 'blur', 'box-blur', 'sharpen', 'identity', 'random', 'learned-c1'] as const;
export type KernelPreset = (typeof KERNEL_PRESETS)[number];

/** A K×K kernel, row-major. */
export type Kernel2D = Float32Array;

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** A convolution's weights, in TF.js layouts (see weightShapes). */
export type ConvWeights =
  | { kernel: WeightTensor; bias: WeightTensor | null }
  | { depthwise: WeightTensor; pointwise: WeightTensor; depthwiseBias: WeightTensor | null; bias: WeightTensor | null };

/** C1 of a trained model: kernel [5, 5, 1, 6] and bias [6], as the model stores them. */
export interface LearnedC1 {
  kernel: WeightTensor;
  bias?: WeightTensor;
}

/** Row k of Pascal's triangle: the binomial smoothing weights of length k + 1. */
function binomial(k: number): number[] {
  let row = [1];
  for (let i = 0; i < k; i++) row = [...row, 0].map((v, j) => v + (row[j - 1] ?? 0));
  return row;
}

const outer = (col: readonly number[], row: readonly number[]): Kernel2D => {
  const out = new Float32Array(col.length * row.length);
  col.forEach((a, i) => row.forEach((b, j) => (out[i * row.length + j] = a * b)));
  return out;
};

/** The centre cell for 'same' padding (tfjs puts the odd extra zero after, so the centre rounds down). */
export const kernelCentre = (k: number): number => Math.floor((k - 1) / 2);

/**
 * Sobel's derivative along x (columns) for any K ≥ 2: binomial smoothing down the column times the
 * binomial-smoothed difference [−1, 0, 1] along the row. K = 3 is the classic [[−1,0,1],[−2,0,2],[−1,0,1]];
 * it is positive where the image gets brighter to the right.
 */
export function sobelX(k: number): Kernel2D {
  if (k < 2) throw new UserError('invalid-request', 'an edge kernel needs a kernel size of at least 2');
  const smooth = binomial(k - 1);
  const diff = [...binomial(k - 2), 0].map((v, j) => (binomial(k - 2)[j - 1] ?? 0) - v);
  return outer(smooth, diff);
}

/** Sobel's derivative along y (rows): the transpose of sobelX, positive where it gets brighter downwards. */
export function sobelY(k: number): Kernel2D {
  const x = sobelX(k);
  const out = new Float32Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] = x[j * k + i]!;
  return out;
}

/** Gaussian blur: binomial weights (the discrete Gaussian), summing to 1. */
export function gaussianBlur(k: number): Kernel2D {
  const b = binomial(k - 1);
  const total = b.reduce((a, v) => a + v, 0);
  return outer(b.map((v) => v / total), b.map((v) => v / total));
}

export const boxBlur = (k: number): Kernel2D => new Float32Array(k * k).fill(1 / (k * k));

export function identityKernel(k: number): Kernel2D {
  const out = new Float32Array(k * k);
  out[kernelCentre(k) * k + kernelCentre(k)] = 1;
  return out;
}

/** Sharpen: the classic [[0,−1,0],[−1,5,−1],[0,−1,0]] for K = 3; else 2·identity − Gaussian blur (unsharp mask). Sums to 1. */
export function sharpen(k: number): Kernel2D {
  if (k === 3) return Float32Array.from([0, -1, 0, -1, 5, -1, 0, -1, 0]);
  const blur = gaussianBlur(k);
  return identityKernel(k).map((v, i) => 2 * v - blur[i]!);
}

/** Uniform numbers in [−1, 1), rounded to two decimals so the dot-product panel reads easily. */
export function randomValues(count: number, random: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: count }, () => Math.round((random() * 2 - 1) * scale * 100) / 100);
}

/** The six 5×5 kernels of a C1 [5, 5, 1, 6] tensor, each row-major. */
export function learnedC1Kernels(c1: LearnedC1): Kernel2D[] {
  const [kh, kw, cin, maps] = c1.kernel.shape;
  if (kh !== 5 || kw !== 5 || cin !== 1 || maps === undefined || maps < 1 || c1.kernel.data.length !== 25 * maps) {
    throw new UserError('invalid-request', `learned C1 kernels must have shape [5, 5, 1, N], got [${c1.kernel.shape.join(', ')}]`);
  }
  return Array.from({ length: maps }, (_, f) => Float32Array.from({ length: 25 }, (_, i) => c1.kernel.data[i * maps + f]!));
}

export interface PresetOptions {
  /** Seed of the random preset (and of the 1×1 pointwise weights of depthwise separable). */
  seed: number;
  /** The open model's C1 weights, for the 'learned-c1' preset. */
  learnedC1?: LearnedC1;
}

/**
 * Kernel number `index` of a preset: edge cycles Sobel x, Sobel y, −x, −y; learned C1 cycles the model's
 * kernels; random draws from `random`; the rest repeat.
 */
function presetKernel(preset: KernelPreset, k: number, index: number, random: () => number, learned: Kernel2D[] | null): Kernel2D {
  switch (preset) {
    case 'edge': {
      const base = index % 2 === 0 ? sobelX(k) : sobelY(k);
      return index % 4 < 2 ? base : base.map((v) => -v);
    }
    case 'blur': return gaussianBlur(k);
    case 'box-blur': return boxBlur(k);
    case 'sharpen': return sharpen(k);
    case 'identity': return identityKernel(k);
    case 'random': return randomValues(k * k, random);
    case 'learned-c1': return learned![index % learned!.length]!;
  }
}

/** One K×K kernel of a preset, for the kernel editor: number `index` of the set (edge: x, y, −x, −y; learned: C1's). */
export function kernelPreset(preset: KernelPreset, k: number, options: PresetOptions & { index?: number }): Kernel2D {
  const learned = preset === 'learned-c1' ? learnedKernelsFor(k, options) : null;
  return presetKernel(preset, k, options.index ?? 0, seededRandom(options.seed), learned);
}

function learnedKernelsFor(k: number, options: PresetOptions): Kernel2D[] {
  if (!options.learnedC1) throw new UserError('invalid-request', 'the learned C1 kernels need a model');
  if (k !== 5) throw new UserError('invalid-request', `the learned C1 kernels are 5×5; set the kernel size to 5 (it is ${k})`);
  return learnedC1Kernels(options.learnedC1);
}

/**
 * A whole weight set for `settings` on an input of `inChannels` channels. A preset fills each filter
 * (standard, dilated, transposed: divided by C, so a preset on C equal maps gives the 1-channel result)
 * or each depthwise channel; the 1×1 pointwise weights are random from the seed. Biases are zero,
 * except random for 'random' and the model's own for 'learned-c1'.
 */
export function presetWeights(settings: ConvSettings, inChannels: number, preset: KernelPreset, options: PresetOptions): ConvWeights {
  const k = settings.kernelSize;
  const random = seededRandom(options.seed);
  const learned = preset === 'learned-c1' ? learnedKernelsFor(k, options) : null;
  const shapes = weightShapes(settings, inChannels);
  const f = settings.filters;
  const biasValue = (index: number): number => {
    if (preset === 'random') return Math.round((random() - 0.5) * 100) / 100;
    if (preset === 'learned-c1' && options.learnedC1?.bias) return options.learnedC1.bias.data[index % options.learnedC1.bias.data.length]!;
    return 0;
  };
  const tensor = (shape: number[], fill: (data: Float32Array) => void): WeightTensor => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(data);
    return { shape, data };
  };
  if ('depthwise' in shapes) {
    const cm = shapes.depthwise[2] * shapes.depthwise[3];
    const depthwise = tensor(shapes.depthwise, (data) => {
      for (let ch = 0; ch < cm; ch++) {
        const kernel = presetKernel(preset, k, ch, random, learned);
        for (let cell = 0; cell < k * k; cell++) data[cell * cm + ch] = kernel[cell]!;
      }
    });
    const depthwiseBias = shapes.depthwiseBias ? tensor(shapes.depthwiseBias, (d) => d.forEach((_, i) => (d[i] = biasValue(i)))) : null;
    const pointwise = tensor(shapes.pointwise, (data) => data.set(randomValues(data.length, random)));
    const bias = shapes.bias ? tensor(shapes.bias, (d) => d.forEach((_, i) => (d[i] = biasValue(i)))) : null;
    return { depthwise, pointwise, depthwiseBias, bias };
  }
  const transposed = settings.kind === 'transposed';
  const kernel = tensor(shapes.kernel, (data) => {
    for (let filter = 0; filter < f; filter++) {
      for (let c = 0; c < inChannels; c++) {
        // Random kernels differ per channel; the others are one picture spread over the channels.
        const k2d = presetKernel(preset, k, filter, random, learned);
        const scale = preset === 'random' ? 1 : 1 / inChannels;
        for (let cell = 0; cell < k * k; cell++) {
          const at = transposed ? (cell * f + filter) * inChannels + c : (cell * inChannels + c) * f + filter;
          data[at] = k2d[cell]! * scale;
        }
      }
    }
  });
  const bias = shapes.bias ? tensor(shapes.bias, (d) => d.forEach((_, i) => (d[i] = biasValue(i)))) : null;
  return { kernel, bias };
}
