// Faster training kernels for tfjs's plain-JavaScript 'cpu' backend, the ladder's
// last rung. Its own Conv2DBackpropFilter walks the filter in the outer loops and
// the batch in the inner ones through TensorBuffer.get, which made it 98% of a
// LeNet step; these walk each output position once and add into contiguous rows.
// Every kernel is checked against the cpu backend's originals in tests/unit/kernels.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
// Registers the cpu backend and its kernels, which ours replace.
import '@tensorflow/tfjs-backend-cpu';
import {
  avgPoolGrad, convFilterGradDirect, convForwardDirect, convInputGradDirect, geometryOf, maxPoolGrad,
} from './conv-loops.js';

const BACKEND = 'cpu';
const OURS = Symbol.for('lenet-lab.kernel');
type Shape4 = [number, number, number, number];
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

function backendOf(args: { backend: unknown }): MathBackendCPU {
  return args.backend as MathBackendCPU;
}

function attr<T>(attrs: NamedAttrMap | undefined, name: string): T {
  return (attrs as Record<string, unknown> | undefined)?.[name] as T;
}

/** The values as float32 (the cpu backend may hold int32 for integer tensors). */
function values(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId)?.values;
  if (v instanceof Float32Array) return v;
  return Float32Array.from(v as ArrayLike<number>);
}

function output(backend: MathBackendCPU, shape: number[], data: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', data);
}

let originals: Record<string, KernelFunc> = {};

const conv2DBackpropFilter: KernelFunc = (args) => {
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW') return originals['Conv2DBackpropFilter']!(args);
  const backend = backendOf(args);
  const x = args.inputs['x'] as TensorInfo;
  const dy = args.inputs['dy'] as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4, attr<Shape4>(attrs, 'filterShape'), attr<number | [number, number]>(attrs, 'strides'),
    1, attr<'same'>(attrs, 'pad'), attr<Rounding>(attrs, 'dimRoundingMode'), false, 'channelsLast');
  const dW = new Float32Array(info.filterShape.reduce((a, b) => a * b, 1));
  convFilterGradDirect(values(backend, x), values(backend, dy), geometryOf(info), dW);
  return output(backend, [...info.filterShape], dW);
};

const conv2DBackpropInput: KernelFunc = (args) => {
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW') return originals['Conv2DBackpropInput']!(args);
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const info = backend_util.computeConv2DInfo(
    attr<Shape4>(attrs, 'inputShape'), filter.shape as Shape4, attr<number | [number, number]>(attrs, 'strides'),
    1, attr<'same'>(attrs, 'pad'), attr<Rounding>(attrs, 'dimRoundingMode'), false, 'channelsLast');
  const dx = new Float32Array(info.inShape.reduce((a, b) => a * b, 1));
  convInputGradDirect(values(backend, dy), values(backend, filter), geometryOf(info), dx);
  return output(backend, [...info.inShape], dx);
};

const conv2D: KernelFunc = (args) => {
  const { attrs } = args;
  const x = args.inputs['x'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') {
    return originals['Conv2D']!(args);
  }
  const backend = backendOf(args);
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4, filter.shape as Shape4, attr<number | [number, number]>(attrs, 'strides'),
    attr<number | [number, number]>(attrs, 'dilations') ?? 1, attr<'same'>(attrs, 'pad'),
    attr<Rounding>(attrs, 'dimRoundingMode'), false, 'channelsLast');
  const out = new Float32Array(info.outShape.reduce((a, b) => a * b, 1));
  convForwardDirect(values(backend, x), values(backend, filter), geometryOf(info), out);
  return output(backend, [...info.outShape], out);
};

const maxPoolGradKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const x = args.inputs['input'] as TensorInfo;
  const { attrs } = args;
  const info = backend_util.computePool2DInfo(
    x.shape as Shape4, attr<number | [number, number]>(attrs, 'filterSize'),
    attr<number | [number, number]>(attrs, 'strides'), 1, attr<'same'>(attrs, 'pad'),
    attr<Rounding>(attrs, 'dimRoundingMode'));
  const dx = new Float32Array(x.shape.reduce((a, b) => a * b, 1));
  maxPoolGrad(values(backend, x), values(backend, dy), geometryOf(info), dx);
  return output(backend, [...x.shape], dx);
};

const avgPoolGradKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const x = args.inputs['input'] as TensorInfo;
  const { attrs } = args;
  const info = backend_util.computePool2DInfo(
    x.shape as Shape4, attr<number | [number, number]>(attrs, 'filterSize'),
    attr<number | [number, number]>(attrs, 'strides'), 1, attr<'same'>(attrs, 'pad'));
  const dx = new Float32Array(x.shape.reduce((a, b) => a * b, 1));
  avgPoolGrad(values(backend, dy), geometryOf(info), dx);
  return output(backend, [...x.shape], dx);
};

/** Is `shape` a vector along the last axis of `full` (like a bias: [C] or [1,…,1,C])? */
function isLastAxisVector(shape: number[], full: number[]): boolean {
  if (shape.length === 0 || shape.length > full.length) return false;
  const c = shape[shape.length - 1]!;
  return c === full[full.length - 1] && shape.slice(0, -1).every((d) => d === 1) && c > 0;
}

/** x[…, C] + b[C] in one pass (the cpu backend's broadcasting add computes indices per element). */
const addKernel: KernelFunc = (args) => {
  const a = args.inputs['a'] as TensorInfo;
  const b = args.inputs['b'] as TensorInfo;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return originals['Add']!(args);
  let full: TensorInfo, bias: TensorInfo;
  if (a.shape.length >= b.shape.length && isLastAxisVector(b.shape, a.shape)) { full = a; bias = b; }
  else if (b.shape.length > a.shape.length && isLastAxisVector(a.shape, b.shape)) { full = b; bias = a; }
  else return originals['Add']!(args);
  const backend = backendOf(args);
  const xs = values(backend, full), bs = values(backend, bias);
  const c = bs.length;
  const out = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i += c) {
    for (let j = 0; j < c; j++) out[i + j] = xs[i + j]! + bs[j]!;
  }
  return output(backend, [...full.shape], out);
};

/** Sum over every axis but the last (a bias gradient), accumulated in doubles like the cpu backend's. */
const sumKernel: KernelFunc = (args) => {
  const x = args.inputs['x'] as TensorInfo;
  const rank = x.shape.length;
  const axis = attr<number | number[] | undefined>(args.attrs, 'axis');
  const keepDims = attr<boolean | undefined>(args.attrs, 'keepDims') ?? false;
  if (x.dtype !== 'float32' || rank < 2 || keepDims || axis === undefined) return originals['Sum']!(args);
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  if (axes.length !== rank - 1 || !axes.every((a, i) => a === i)) return originals['Sum']!(args);
  const backend = backendOf(args);
  const xs = values(backend, x);
  const c = x.shape[rank - 1]!;
  const sums = new Float64Array(c);
  for (let i = 0; i < xs.length; i += c) {
    for (let j = 0; j < c; j++) sums[j] = sums[j]! + xs[i + j]!;
  }
  return output(backend, [c], Float32Array.from(sums));
};

const KERNELS: Record<string, KernelFunc> = {
  Conv2D: conv2D,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  MaxPoolGrad: maxPoolGradKernel,
  AvgPoolGrad: avgPoolGradKernel,
  Add: addKernel,
  Sum: sumKernel,
};

/** Names of the kernels this module replaces on 'cpu'. */
export const CPU_TRAINING_KERNELS = Object.keys(KERNELS);

/** The cpu backend's own kernel, whichever is registered now (for tests comparing against it). */
export function cpuOriginalKernel(kernelName: string): KernelFunc | undefined {
  const config = tf.getKernel(kernelName, BACKEND) as KernelConfig | undefined;
  if (!config) return undefined;
  if ((config.kernelFunc as unknown as Record<symbol, unknown>)[OURS] === true) return originals[kernelName];
  return config.kernelFunc;
}

let registered = false;
let originalConfigs: KernelConfig[] = [];

/** Replaces the cpu backend's slow training kernels with ours. Idempotent. */
export function registerCpuTrainingKernels(): void {
  if (registered) return;
  const found: Record<string, KernelFunc> = {};
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    const existing = tf.getKernel(kernelName, BACKEND) as KernelConfig | undefined;
    if (!existing) throw new Error(`tfjs-backend-cpu has no ${kernelName} kernel to replace`);
    if ((existing.kernelFunc as unknown as Record<symbol, unknown>)[OURS] === true) continue;
    found[kernelName] = existing.kernelFunc;
    originalConfigs.push(existing);
    tf.unregisterKernel(kernelName, BACKEND);
    (kernelFunc as unknown as Record<symbol, unknown>)[OURS] = true;
    const config: KernelConfig = { kernelName, backendName: BACKEND, kernelFunc };
    if (existing.setupFunc) config.setupFunc = existing.setupFunc;
    if (existing.disposeFunc) config.disposeFunc = existing.disposeFunc;
    tf.registerKernel(config);
  }
  originals = found;
  registered = true;
}

/** Puts the cpu backend's own kernels back (tests compare against them). */
export function unregisterCpuTrainingKernels(): void {
  if (!registered) return;
  for (const config of originalConfigs) {
    tf.unregisterKernel(config.kernelName, BACKEND);
    tf.registerKernel(config);
  }
  originalConfigs = [];
  registered = false;
}
