// Training kernels for tfjs's wasm backend.
//
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, runs Conv2DBackpropInput as
// naive C++ loops, pools gradients slowly, and sends every transposed matMul (which
// is what a dense layer's backward pass asks for) down a scalar path. The kernels
// here reshape each of those into what is fast in that backend — one XNNPACK matrix
// product (the wasm BatchMatMul with no transposes and batch 1) — and do the
// reshuffling around it in plain loops over views of the wasm heap.
//
// Every kernel is checked against the cpu backend in tests/unit/kernels.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
// Registers the wasm backend and its own kernels, which ours wrap.
import '@tensorflow/tfjs-backend-wasm';
import {
  avgPoolGrad, col2imAdd, geometryOf, im2colTransposed, maxPoolGrad, nchwToNhwc, transpose2d,
  windowCoversInput,
} from './conv-loops.js';

const BACKEND = 'wasm';
/** Marks our kernel functions so registering twice (even from two module copies) is a no-op. */
const OURS = Symbol.for('lenet-lab.kernel');

type Shape4 = [number, number, number, number];

// ---- the wasm heap ---------------------------------------------------------------

/** A float32 tensor on the wasm heap that only this kernel knows about (the engine never sees it). */
function allocate(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/**
 * A view of a tensor's bytes in the wasm heap. Take it after the last allocation or
 * wasm call: either may grow the heap, which detaches older views.
 */
function heap(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

function release(backend: BackendWasm, t: TensorInfo): void {
  backend.disposeData(t.dataId);
}

/** The same bytes under another shape, for passing to a kernel (no copy, no new id). */
function asShape(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

// The wasm backend's own kernels we build on, captured before we replace any of them.
let wasmBatchMatMul: KernelFunc;

/**
 * out[M,N] = a[M,K] · b[K,N] through XNNPACK's fully-connected operator (b is packed
 * as its weights). The result is a new heap tensor owned by the caller.
 */
function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo, m: number, k: number, n: number): TensorInfo {
  return wasmBatchMatMul({
    inputs: { a: asShape(a, [1, m, k]), b: asShape(b, [1, k, n]) },
    attrs: { transposeA: false, transposeB: false },
    backend,
  }) as TensorInfo;
}

function backendOf(args: { backend: unknown }): BackendWasm {
  return args.backend as BackendWasm;
}

function attr<T>(attrs: NamedAttrMap | undefined, name: string): T {
  return (attrs as Record<string, unknown> | undefined)?.[name] as T;
}

// ---- Conv2DBackpropFilter ----------------------------------------------------------

/** NCHW input converted to an NHWC heap tensor (the caller releases it). */
function toChannelsLast(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const [n, c, h, w] = t.shape as Shape4;
  const out = allocate(backend, [n, h, w, c]);
  nchwToNhwc(heap(backend, t), n, c, h, w, heap(backend, out));
  return out;
}

const conv2DBackpropFilter: KernelFunc = (args) => {
  const backend = backendOf(args);
  let x = args.inputs['x'] as TensorInfo;
  let dy = args.inputs['dy'] as TensorInfo;
  const { attrs } = args;
  const channelsFirst = attr<string>(attrs, 'dataFormat') === 'NCHW';
  const temporaries: TensorInfo[] = [];
  if (channelsFirst) {
    x = toChannelsLast(backend, x);
    dy = toChannelsLast(backend, dy);
    temporaries.push(x, dy);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4, attr<Shape4>(attrs, 'filterShape'), attr<number | [number, number]>(attrs, 'strides'),
    1, attr<backend_util.PadInfo['type'] | number>(attrs, 'pad') as 'same',
    attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'), false, 'channelsLast');
  const g = geometryOf(info);
  const P = g.batch * g.outHeight * g.outWidth;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  // colsT[K, P]: the input seen through the filter, one row per filter tap.
  const colsT = allocate(backend, [K, P]);
  if (windowCoversInput(g)) transpose2d(heap(backend, x), P, K, heap(backend, colsT));
  else im2colTransposed(heap(backend, x), g, heap(backend, colsT));
  // dW[K, CO] = colsT[K, P] · dy[P, CO]
  const dW = matMul(backend, colsT, dy, K, P, g.outChannels);
  release(backend, colsT);
  for (const t of temporaries) release(backend, t);
  dW.shape = [...info.filterShape];
  return dW;
};

// ---- Conv2DBackpropInput -----------------------------------------------------------

let wasmConv2DBackpropInput: KernelFunc;

const conv2DBackpropInput: KernelFunc = (args) => {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW') return wasmConv2DBackpropInput(args);
  const info = backend_util.computeConv2DInfo(
    attr<Shape4>(attrs, 'inputShape'), filter.shape as Shape4, attr<number | [number, number]>(attrs, 'strides'),
    1, attr<'same'>(attrs, 'pad'), attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'),
    false, 'channelsLast');
  const g = geometryOf(info);
  const P = g.batch * g.outHeight * g.outWidth;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const CO = g.outChannels;
  // dcols[P, K] = dy[P, CO] · filterᵀ[CO, K], then each row goes back to its input patch.
  const filterT = allocate(backend, [CO, K]);
  transpose2d(heap(backend, filter), K, CO, heap(backend, filterT));
  const dcols = matMul(backend, dy, filterT, P, CO, K);
  release(backend, filterT);
  if (windowCoversInput(g)) {
    dcols.shape = [...info.inShape];
    return dcols;
  }
  const dx = allocate(backend, [...info.inShape]);
  col2imAdd(heap(backend, dcols), g, heap(backend, dx));
  release(backend, dcols);
  return dx;
};

// ---- pooling gradients -------------------------------------------------------------

const maxPoolGradKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const x = args.inputs['input'] as TensorInfo;
  const { attrs } = args;
  const info = backend_util.computePool2DInfo(
    x.shape as Shape4, attr<number | [number, number]>(attrs, 'filterSize'),
    attr<number | [number, number]>(attrs, 'strides'), 1, attr<'same'>(attrs, 'pad'),
    attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'));
  const dx = allocate(backend, [...x.shape]);
  maxPoolGrad(heap(backend, x), heap(backend, dy), geometryOf(info), heap(backend, dx));
  return dx;
};

const avgPoolGradKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const x = args.inputs['input'] as TensorInfo;
  const { attrs } = args;
  const info = backend_util.computePool2DInfo(
    x.shape as Shape4, attr<number | [number, number]>(attrs, 'filterSize'),
    attr<number | [number, number]>(attrs, 'strides'), 1, attr<'same'>(attrs, 'pad'));
  const dx = allocate(backend, [...x.shape]);
  avgPoolGrad(heap(backend, dy), geometryOf(info), heap(backend, dx));
  return dx;
};

// ---- BatchMatMul -------------------------------------------------------------------

/**
 * Transposed or not, a single (batch-1) product goes to XNNPACK: a transposed operand is
 * copied into plain layout first, which costs O(size) against the product's O(M·K·N).
 */
const batchMatMul: KernelFunc = (args) => {
  const backend = backendOf(args);
  const a = args.inputs['a'] as TensorInfo;
  const b = args.inputs['b'] as TensorInfo;
  const transposeA = attr<boolean>(args.attrs, 'transposeA') ?? false;
  const transposeB = attr<boolean>(args.attrs, 'transposeB') ?? false;
  const rankA = a.shape.length, rankB = b.shape.length;
  const batchA = a.shape.slice(0, -2).reduce((s, d) => s * d, 1);
  const batchB = b.shape.slice(0, -2).reduce((s, d) => s * d, 1);
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || batchA !== 1 || batchB !== 1 || rankA < 2 || rankB < 2 ||
    (!transposeA && !transposeB)) {
    return wasmBatchMatMul(args);
  }
  const m = transposeA ? a.shape[rankA - 1]! : a.shape[rankA - 2]!;
  const k = transposeA ? a.shape[rankA - 2]! : a.shape[rankA - 1]!;
  const kB = transposeB ? b.shape[rankB - 1]! : b.shape[rankB - 2]!;
  const n = transposeB ? b.shape[rankB - 2]! : b.shape[rankB - 1]!;
  if (k !== kB || m === 0 || n === 0 || k === 0) return wasmBatchMatMul(args);
  let plainA = a, plainB = b;
  if (transposeA) {
    plainA = allocate(backend, [m, k]);
    transpose2d(heap(backend, a), k, m, heap(backend, plainA));
  }
  if (transposeB) {
    plainB = allocate(backend, [k, n]);
    transpose2d(heap(backend, b), n, k, heap(backend, plainB));
  }
  const out = matMul(backend, plainA, plainB, m, k, n);
  if (transposeA) release(backend, plainA);
  if (transposeB) release(backend, plainB);
  const outerDims = rankA >= rankB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  out.shape = [...outerDims, m, n];
  return out;
};

// ---- registration ------------------------------------------------------------------

function isOurs(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, unknown>)[OURS] === true;
}

function mark(f: KernelFunc): KernelFunc {
  (f as unknown as Record<symbol, unknown>)[OURS] = true;
  return f;
}

/** Put our kernel in place of the backend's (keeping its setup so the original stays callable). */
function replace(kernelName: string, kernelFunc: KernelFunc): void {
  const existing = tf.getKernel(kernelName, BACKEND) as KernelConfig | undefined;
  if (isOurs(existing)) return;
  if (existing) tf.unregisterKernel(kernelName, BACKEND);
  const config: KernelConfig = { kernelName, backendName: BACKEND, kernelFunc: mark(kernelFunc) };
  if (existing?.setupFunc) config.setupFunc = existing.setupFunc;
  if (existing?.disposeFunc) config.disposeFunc = existing.disposeFunc;
  tf.registerKernel(config);
}

function original(kernelName: string): KernelFunc {
  const config = tf.getKernel(kernelName, BACKEND) as KernelConfig | undefined;
  if (!config) throw new Error(`tfjs-backend-wasm has no ${kernelName} kernel to build on`);
  if (isOurs(config)) throw new Error(`internal: ${kernelName} captured after replacement`);
  return config.kernelFunc;
}

let registered = false;

/**
 * Registers the training kernels for the 'wasm' backend. Idempotent. Call it before or
 * after `tf.setBackend('wasm')`; the kernels only run once the wasm module is loaded.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const matMulConfig = tf.getKernel('BatchMatMul', BACKEND) as KernelConfig | undefined;
  if (isOurs(matMulConfig)) { registered = true; return; } // another copy of this module did it
  wasmBatchMatMul = original('BatchMatMul');
  wasmConv2DBackpropInput = original('Conv2DBackpropInput');
  replace('Conv2DBackpropFilter', conv2DBackpropFilter);
  replace('Conv2DBackpropInput', conv2DBackpropInput);
  replace('MaxPoolGrad', maxPoolGradKernel);
  replace('AvgPoolGrad', avgPoolGradKernel);
  replace('BatchMatMul', batchMatMul);
  registered = true;
}

/** Names of the kernels this module provides for 'wasm' (for reports and tests). */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'AvgPoolGrad', 'BatchMatMul',
] as const;
