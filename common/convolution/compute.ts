// The four kinds of convolution, computed by tfjs operations on the active backend (never a loop here).
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import { convGeometry, type ConvGeometry, type ConvSettings } from './geometry.js';
import type { ConvWeights, WeightTensor } from './kernels.js';

/** H×W×C maps, row-major HWC (NHWC without the batch). */
export interface FeatureMaps {
  shape: [number, number, number];
  data: Float32Array;
}

export interface ConvResult {
  output: FeatureMaps;
  /** Depthwise separable: the per-channel stage's maps (bias added), before the 1×1 across channels. */
  depthwiseOutput?: FeatureMaps;
  geometry: ConvGeometry;
}

type Pads4 = [[number, number], [number, number], [number, number], [number, number]];

const explicitPads = (g: ConvGeometry): Pads4 => [[0, 0], [g.rows.padBefore, g.rows.padAfter], [g.cols.padBefore, g.cols.padAfter], [0, 0]];

function checkShape(name: string, t: WeightTensor | null, expected: readonly number[] | null): void {
  const same = (t === null && expected === null) || (t !== null && expected !== null && t.shape.length === expected.length &&
    t.shape.every((d, i) => d === expected[i]) && t.data.length === expected.reduce((a, b) => a * b, 1));
  if (!same) {
    const show = (s: readonly number[] | null | undefined) => (s ? `[${s.join(', ')}]` : 'none');
    throw new UserError('invalid-request', `${name} must have shape ${show(expected)}, got ${show(t?.shape)}`);
  }
}

/**
 * conv2d or depthwiseConv2d with explicit zero padding, any stride and dilation. tfjs refuses a stride
 * and a dilation both above 1, so then it convolves at stride 1 and keeps every S-th row and column
 * (tf.stridedSlice): the same windows, X[i·S + D·m].
 */
function forward(x: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry, s: ConvSettings, depthwise: boolean): tf.Tensor4D {
  const op = (stride: number): tf.Tensor4D => depthwise
    ? tf.depthwiseConv2d(x, filter, stride, explicitPads(g), 'NHWC', s.dilation)
    : tf.conv2d(x, filter, stride, explicitPads(g), 'NHWC', s.dilation);
  if (s.stride === 1 || s.dilation === 1) return op(s.stride);
  const dense = op(1);
  const [oh, ow] = g.outputShape;
  return tf.stridedSlice(dense, [0, 0, 0, 0], [1, (oh - 1) * s.stride + 1, (ow - 1) * s.stride + 1, dense.shape[3]], [1, s.stride, s.stride, 1]) as tf.Tensor4D;
}

/** A kernel [K, K, …] with D−1 zero rows and columns between its taps, by tfjs ops: [D·(K−1)+1, D·(K−1)+1, …]. */
export function dilateKernel(kernel: tf.Tensor4D, d: number): tf.Tensor4D {
  if (d === 1) return kernel;
  const spread = (t: tf.Tensor4D, axis: 0 | 1): tf.Tensor4D => {
    const k = t.shape[axis];
    const withGaps = tf.concat([tf.expandDims(t, axis + 1), tf.zeros([...t.shape.slice(0, axis + 1), d - 1, ...t.shape.slice(axis + 1)])], axis + 1);
    const flat = tf.reshape(withGaps, [...t.shape.slice(0, axis), k * d, ...t.shape.slice(axis + 1)]);
    const size = t.shape.map((v, i) => (i === axis ? d * (k - 1) + 1 : v));
    return tf.slice(flat, [0, 0, 0, 0], size) as tf.Tensor4D;
  };
  return spread(spread(kernel, 0), 1);
}

const toMaps = (t: tf.Tensor4D): FeatureMaps => ({ shape: [t.shape[1], t.shape[2], t.shape[3]], data: t.dataSync() as Float32Array });

/**
 * Runs one convolution of `settings` on `input` with `weights` (shapes as weightShapes gives), on the
 * active tfjs backend. Throws a one-line UserError for settings or shapes that do not fit.
 */
export function convolve(input: FeatureMaps, settings: ConvSettings, weights: ConvWeights): ConvResult {
  const g = convGeometry(settings, input.shape);
  const [h, w, c] = input.shape;
  if (input.data.length !== h * w * c) throw new UserError('invalid-request', `input data holds ${input.data.length} values, [${h}, ${w}, ${c}] needs ${h * w * c}`);
  const k = settings.kernelSize;
  const f = settings.filters;
  const bias4 = (b: WeightTensor | null, x: tf.Tensor4D): tf.Tensor4D => (b ? tf.add(x, tf.tensor1d(b.data)) : x);

  if (settings.kind === 'depthwise-separable') {
    if (!('depthwise' in weights)) throw new UserError('invalid-request', 'a depthwise separable convolution needs depthwise and pointwise weights');
    const m = settings.depthMultiplier;
    checkShape('depthwise', weights.depthwise, [k, k, c, m]);
    checkShape('pointwise', weights.pointwise, [1, 1, c * m, f]);
    checkShape('depthwise bias', weights.depthwiseBias, settings.depthwiseBias ? [c * m] : null);
    checkShape('bias', weights.bias, settings.useBias ? [f] : null);
    const [stage1, stage2] = tf.tidy(() => {
      const x = tf.tensor4d(input.data, [1, h, w, c]);
      const dw = bias4(weights.depthwiseBias, forward(x, tf.tensor4d(weights.depthwise.data, [k, k, c, m]), g, settings, true));
      // The 1×1 pointwise convolution mixes the channels at each pixel.
      const pw = bias4(weights.bias, tf.conv2d(dw, tf.tensor4d(weights.pointwise.data, [1, 1, c * m, f]), 1, 'valid'));
      return [dw, pw];
    });
    try {
      return { output: toMaps(stage2), depthwiseOutput: toMaps(stage1), geometry: g };
    } finally {
      tf.dispose([stage1, stage2]);
    }
  }

  if (!('kernel' in weights)) throw new UserError('invalid-request', `a ${settings.kind} convolution needs one kernel`);
  const transposed = settings.kind === 'transposed';
  checkShape('kernel', weights.kernel, transposed ? [k, k, f, c] : [k, k, c, f]);
  checkShape('bias', weights.bias, settings.useBias ? [f] : null);
  const out = tf.tidy(() => {
    const x = tf.tensor4d(input.data, [1, h, w, c]);
    if (!transposed) return bias4(weights.bias, forward(x, tf.tensor4d(weights.kernel.data, [k, k, c, f]), g, settings, false));
    // conv2dTranspose has no dilation: the kernel is dilated with zeros first. Its padding is the
    // rows cropped from the full scatter; the output shape carries the output padding.
    const kernel = dilateKernel(tf.tensor4d(weights.kernel.data, [k, k, f, c]), settings.dilation);
    const y = tf.conv2dTranspose(x, kernel, [1, g.rows.output, g.cols.output, f], settings.stride, explicitPads(g), 'floor');
    return bias4(weights.bias, y);
  });
  try {
    return { output: toMaps(out), geometry: g };
  } finally {
    out.dispose();
  }
}
