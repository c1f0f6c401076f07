// Faster training kernels for tfjs's plain-JavaScript 'cpu' backend, the ladder's
// last rung. Its own Conv2DBackpropFilter walks the filter in the outer loops and
// the batch in the inner ones through TensorBuffer.get, which made it 98% of a
// LeNet step; these walk each output position once and add into contiguous rows.
// Its broadcasting elementwise ops (bias adds, scalar multiplies, their gradients)
// compute indices per element; the common shapes get one plain loop here.
// Every kernel is checked against the cpu backend's originals in tests/unit/kernels.test.ts.
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
// Registers the cpu backend and its kernels, which ours replace.
import '@tensorflow/tfjs-backend-cpu';
import {
  attr, avgPoolGrad, convFilterGradDirect, convForwardDirect, convInfoOf, convInputGradDirect, geometryOf, maxPoolGrad,
  poolGradGeometry,
} from './conv-loops.js';
import { KernelSet } from './kernel-set.js';

type Shape4 = [number, number, number, number];

function backendOf(args: { backend: unknown }): MathBackendCPU {
  return args.backend as MathBackendCPU;
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

/** The cpu backend's own kernel (for the cases ours hand back). */
const own = (kernelName: string): KernelFunc => CPU_KERNELS.original(kernelName);

const conv2DBackpropFilter: KernelFunc = (args) => {
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW') return own('Conv2DBackpropFilter')(args);
  const backend = backendOf(args);
  const x = args.inputs['x'] as TensorInfo;
  const dy = args.inputs['dy'] as TensorInfo;
  const info = convInfoOf(x.shape as Shape4, attr<Shape4>(attrs, 'filterShape'), attrs);
  const dW = new Float32Array(info.filterShape.reduce((a, b) => a * b, 1));
  convFilterGradDirect(values(backend, x), values(backend, dy), geometryOf(info), dW);
  return output(backend, [...info.filterShape], dW);
};

const conv2DBackpropInput: KernelFunc = (args) => {
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW') return own('Conv2DBackpropInput')(args);
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const info = convInfoOf(attr<Shape4>(attrs, 'inputShape'), filter.shape as Shape4, attrs);
  const dx = new Float32Array(info.inShape.reduce((a, b) => a * b, 1));
  convInputGradDirect(values(backend, dy), values(backend, filter), geometryOf(info), dx);
  return output(backend, [...info.inShape], dx);
};

/** conv2d(x, filter) by the direct loops, for Conv2D and FusedConv2D: the values and their shape. */
function convolveDirect(backend: MathBackendCPU, x: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap | undefined):
  { out: Float32Array; outShape: number[] } {
  const info = convInfoOf(x.shape as Shape4, filter.shape as Shape4, attrs, attr<number | [number, number]>(attrs, 'dilations') ?? 1);
  const out = new Float32Array(info.outShape.reduce((a, b) => a * b, 1));
  convForwardDirect(values(backend, x), values(backend, filter), geometryOf(info), out);
  return { out, outShape: [...info.outShape] };
}

const conv2D: KernelFunc = (args) => {
  const { attrs } = args;
  const x = args.inputs['x'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') {
    return own('Conv2D')(args);
  }
  const backend = backendOf(args);
  const { out, outShape } = convolveDirect(backend, x, filter, attrs);
  return output(backend, outShape, out);
};

/** FusedConv2D (what tfjs-layers runs for convolutions) with no or a per-channel bias and a linear or ReLU activation. */
const fusedConv2D: KernelFunc = (args) => {
  const { attrs } = args;
  const x = args.inputs['x'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const bias = args.inputs['bias'] as TensorInfo | undefined;
  const activation = attr<string | undefined>(attrs, 'activation') ?? 'linear';
  const outChannels = filter.shape[3]!;
  const biasSize = bias ? bias.shape.reduce((a, b) => a * b, 1) : 0;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32' ||
    (activation !== 'linear' && activation !== 'relu') || args.inputs['preluActivationWeights'] ||
    (bias && (bias.dtype !== 'float32' || biasSize !== outChannels || bias.shape[bias.shape.length - 1] !== outChannels))) {
    return own('FusedConv2D')(args);
  }
  const backend = backendOf(args);
  const { out, outShape } = convolveDirect(backend, x, filter, attrs);
  if (bias) {
    const b = values(backend, bias);
    for (let i = 0; i < out.length; i += outChannels) for (let c = 0; c < outChannels; c++) out[i + c] = out[i + c]! + b[c]!;
  }
  if (activation === 'relu') for (let i = 0; i < out.length; i++) if (out[i]! < 0) out[i] = 0;
  return output(backend, outShape, out);
};

/** MaxPoolGrad and AvgPoolGrad: dx, shaped like the pool's input, from the loops of conv-loops.ts. */
function poolGradKernel(kernelName: 'MaxPoolGrad' | 'AvgPoolGrad'): KernelFunc {
  return (args) => {
    const backend = backendOf(args);
    const dy = args.inputs['dy'] as TensorInfo;
    const x = args.inputs['input'] as TensorInfo;
    const g = poolGradGeometry(kernelName, x.shape as Shape4, args.attrs);
    const dx = new Float32Array(x.shape.reduce((a, b) => a * b, 1));
    if (kernelName === 'MaxPoolGrad') maxPoolGrad(values(backend, x), values(backend, dy), g, dx);
    else avgPoolGrad(values(backend, dy), g, dx);
    return output(backend, [...x.shape], dx);
  };
}

type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** out[o + j] = a[ia + j·sa] ∘ b[ib + j·sb] for j < n; one loop per op so each stays monomorphic. */
function combineRun(op: BinaryOp, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number,
  out: Float32Array, o: number, n: number): void {
  switch (op) {
    case 'add': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[o + j] = a[ia]! + b[ib]!; break;
    case 'sub': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[o + j] = a[ia]! - b[ib]!; break;
    case 'mul': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[o + j] = a[ia]! * b[ib]!; break;
    case 'div': for (let j = 0; j < n; j++, ia += sa, ib += sb) out[o + j] = a[ia]! / b[ib]!; break;
  }
}

/** Row-major strides of `shape` aligned to the output's rank, 0 along broadcast axes. */
function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1, k = outShape.length - 1; i >= 0; i--, k--) {
    strides[k] = shape[i] === 1 && outShape[k] !== 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}

/**
 * Elementwise a ∘ b with broadcasting, as plain loops along the last axis (the cpu backend's
 * own code converts every output index to coordinates and back). float32 only.
 */
function binaryKernel(kernelName: string, op: BinaryOp): KernelFunc {
  return (args) => {
    const a = args.inputs['a'] as TensorInfo;
    const b = args.inputs['b'] as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return own(kernelName)(args);
    const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const backend = backendOf(args);
    const xa = values(backend, a), xb = values(backend, b);
    const n = outShape.reduce((p, q) => p * q, 1);
    const out = new Float32Array(n);
    const sizeA = xa.length, sizeB = xb.length;
    if (n === 0) return output(backend, outShape, out);
    if (sizeA === n && sizeB === n) combineRun(op, xa, 0, 1, xb, 0, 1, out, 0, n);
    else if (sizeB === 1 && sizeA === n) combineRun(op, xa, 0, 1, xb, 0, 0, out, 0, n);
    else if (sizeA === 1 && sizeB === n) combineRun(op, xa, 0, 0, xb, 0, 1, out, 0, n);
    else {
      const rank = outShape.length;
      const sa = broadcastStrides(a.shape, outShape), sb = broadcastStrides(b.shape, outShape);
      const last = outShape[rank - 1]!;
      const counter = new Array<number>(rank).fill(0);
      let ia = 0, ib = 0;
      for (let o = 0; o < n; o += last) {
        combineRun(op, xa, ia, sa[rank - 1]!, xb, ib, sb[rank - 1]!, out, o, last);
        // Advance the odometer over the outer axes.
        for (let k = rank - 2; k >= 0; k--) {
          counter[k]!++;
          ia += sa[k]!;
          ib += sb[k]!;
          if (counter[k]! < outShape[k]!) break;
          ia -= sa[k]! * outShape[k]!;
          ib -= sb[k]! * outShape[k]!;
          counter[k] = 0;
        }
      }
    }
    return output(backend, outShape, out);
  };
}

/** Sum over every axis but the last (a bias gradient), accumulated in doubles like the cpu backend's. */
const sumKernel: KernelFunc = (args) => {
  const x = args.inputs['x'] as TensorInfo;
  const rank = x.shape.length;
  const axis = attr<number | number[] | undefined>(args.attrs, 'axis');
  const keepDims = attr<boolean | undefined>(args.attrs, 'keepDims') ?? false;
  if (x.dtype !== 'float32' || rank < 2 || keepDims || axis === undefined) return own('Sum')(args);
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  if (axes.length !== rank - 1 || !axes.every((a, i) => a === i)) return own('Sum')(args);
  const backend = backendOf(args);
  const xs = values(backend, x);
  const c = x.shape[rank - 1]!;
  const sums = new Float64Array(c);
  for (let i = 0; i < xs.length; i += c) {
    for (let j = 0; j < c; j++) sums[j] = sums[j]! + xs[i + j]!;
  }
  return output(backend, [c], Float32Array.from(sums));
};

const CPU_KERNELS = new KernelSet('cpu', {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  MaxPoolGrad: poolGradKernel('MaxPoolGrad'),
  AvgPoolGrad: poolGradKernel('AvgPoolGrad'),
  Add: binaryKernel('Add', 'add'),
  Sub: binaryKernel('Sub', 'sub'),
  Multiply: binaryKernel('Multiply', 'mul'),
  RealDiv: binaryKernel('RealDiv', 'div'),
  Sum: sumKernel,
});

/** Names of the kernels this module replaces on 'cpu'. */
export const CPU_TRAINING_KERNELS = CPU_KERNELS.names;

/** The cpu backend's own kernel (for tests comparing against it). */
export const cpuOriginalKernel = (kernelName: string): KernelFunc => CPU_KERNELS.original(kernelName);

/** Replaces the cpu backend's slow training kernels with ours. Idempotent. */
export const registerCpuTrainingKernels = (): void => CPU_KERNELS.register();

/** Puts the cpu backend's own kernels back (tests compare against them). */
export const unregisterCpuTrainingKernels = (): void => CPU_KERNELS.unregister();
