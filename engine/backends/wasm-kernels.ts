// Training kernels for tfjs's wasm backend.
//
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, runs Conv2DBackpropInput as
// naive C++ loops, pools gradients slowly, and sends every transposed matMul (which
// is what a dense layer's backward pass asks for) down a scalar path. The kernels
// here reshape each of those into what is fast in that backend — one XNNPACK matrix
// product (the wasm BatchMatMul with no transposes and batch 1) or convolution — and do
// the reshuffling around it directly on the wasm heap: with the small SIMD loops of
// wasm-simd.ts where the module can be built, else with the JavaScript loops of
// conv-loops.ts over views of the heap. Convolutions with stride 1 and no padding (LeNet's C1 and
// C3: forward, filter gradient and input gradient) run on wasm-simd.ts's own convolution loops
// instead, which beat XNNPACK at these sizes; other shapes keep the routes above.
//
// Every kernel is checked against the cpu backend in tests/unit/kernels.test.ts.
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
// Registers the wasm backend and its own kernels, which ours wrap.
import '@tensorflow/tfjs-backend-wasm';
import {
  attr, avgPoolGrad, col2imAdd, col2imTransposedSingleChannel, convInfoOf, geometryOf, im2colTransposed, maxPoolGrad,
  permute4, poolGradGeometry, transpose2d, windowCoversInput,
} from './conv-loops.js';
import type { ConvGeometry } from './conv-loops.js';
import {
  TANH_SERIES_LIMIT, convFilterGradFits, convForwardFits, convInputGradFits, createConvFilterGrad, createConvForward, createConvInputGrad,
  createGemm, createSimdLoops, gemmFits, inputGradRowFloats, transposeFilterForInputGrad, useRelaxedSimd,
  type ConvFilterGradLoop, type ConvForwardLoop, type ConvInputGradLoop, type ConvShape, type GemmShape, type GradActivation, type SimdLoops,
} from './wasm-simd.js';
import { KernelSet } from './kernel-set.js';

/** The wasm backend's own kernel, which ours build on or hand back to. */
const own = (kernelName: string): KernelFunc => WASM_KERNELS.original(kernelName);

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

/**
 * A tensor over part of another's heap bytes (floats from `floatOffset`), for handing one chunk
 * of a batch to a backend kernel without a copy. Drop it with dropView, never release().
 */
function viewOf(backend: BackendWasm, t: TensorInfo, floatOffset: number, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32', address(backend, t) + 4 * floatOffset);
}

function dropView(backend: BackendWasm, view: TensorInfo): void {
  const data = backend.dataIdMap.get(view.dataId);
  if (!data) return;
  (backend.wasm as unknown as { tfjs: { disposeData(id: number): void } }).tfjs.disposeData(data.id);
  backend.dataIdMap.delete(view.dataId);
}

// ---- shuffles on the heap: SIMD loops when available, else JavaScript ---------------

let simdEnabled = true;
/** Tests turn the SIMD loops off to check the JavaScript ones on the same kernels. */
export function setWasmSimdLoopsEnabled(enabled: boolean): void {
  simdEnabled = enabled;
}

type WasmModuleMemory = { asm?: { memory?: unknown }; wasmMemory?: unknown };

/** The backend's heap: exported by the single-threaded module, created by the glue (and shared) for the threaded one. */
function memoryOf(module: WasmModuleMemory): WebAssembly.Memory | null {
  const memory = module.asm?.memory ?? module.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

const simdByModule = new WeakMap<object, SimdLoops | null>();

/** The SIMD loops bound to this backend's memory (built once per wasm module), or null. */
function simdFor(backend: BackendWasm): SimdLoops | null {
  if (!simdEnabled) return null;
  const module = backend.wasm as unknown as WasmModuleMemory;
  let loops = simdByModule.get(module);
  if (loops === undefined) {
    const memory = memoryOf(module);
    loops = memory ? createSimdLoops(memory) : null;
    simdByModule.set(module, loops);
  }
  return loops;
}

/**
 * A loop assembled once per wasm module and key, or null (cached too) where `create` declines the shape or the
 * module has no memory to bind; past `limit` keys per module, null without caching.
 */
function perModule<T>(cache: WeakMap<object, Map<string, T | null>>, backend: BackendWasm, key: string,
  create: (memory: WebAssembly.Memory) => T | null, limit = Infinity): T | null {
  const module = backend.wasm as unknown as WasmModuleMemory;
  let byKey = cache.get(module);
  if (!byKey) cache.set(module, (byKey = new Map()));
  let loop = byKey.get(key);
  if (loop === undefined) {
    if (byKey.size >= limit) return null;
    const memory = memoryOf(module);
    loop = memory ? create(memory) : null;
    byKey.set(key, loop);
  }
  return loop;
}

/** The geometry's shape where it is a stride-1 convolution without padding or dilation (what our convolution loops take), else null. */
function unpaddedUnitStride(g: ConvGeometry): ConvShape | null {
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1 ||
    g.padTop !== 0 || g.padLeft !== 0 || g.outHeight !== g.inHeight - g.filterHeight + 1 || g.outWidth !== g.inWidth - g.filterWidth + 1) return null;
  return { inHeight: g.inHeight, inWidth: g.inWidth, inChannels: g.inChannels, filterHeight: g.filterHeight, filterWidth: g.filterWidth, outChannels: g.outChannels };
}

const convKey = (s: ConvShape, fused: boolean): string =>
  `${s.inHeight}x${s.inWidth}x${s.inChannels}:${s.filterHeight}x${s.filterWidth}:${s.outChannels}:${fused}`;

/**
 * One of our convolution loops for this geometry (assembled once per shape and wasm module), or null where the
 * geometry is not a stride-1 convolution without padding or dilation, or the loop declines its shape.
 */
function convLoopFor<T>(cache: WeakMap<object, Map<string, T | null>>, backend: BackendWasm, g: ConvGeometry,
  fits: (s: ConvShape) => boolean, create: (memory: WebAssembly.Memory, s: ConvShape, fused: boolean) => T | null): { loop: T; shape: ConvShape } | null {
  if (!convLoopsEnabled || !simdFor(backend)) return null;
  const shape = unpaddedUnitStride(g);
  if (!shape || !fits(shape)) return null;
  const fused = useRelaxedSimd();
  const loop = perModule(cache, backend, convKey(shape, fused), (memory) => create(memory, shape, fused));
  return loop ? { loop, shape } : null;
}

let convLoopsEnabled = true;
/** Tests and `bench/conv-loops.mjs` turn our convolution loops off to run XNNPACK's routes on the same shapes. */
export function setConvLoopsEnabled(enabled: boolean): void {
  convLoopsEnabled = enabled;
}

const forwardByModule = new WeakMap<object, Map<string, ConvForwardLoop | null>>();
const filterGradByModule = new WeakMap<object, Map<string, ConvFilterGradLoop | null>>();
const inputGradByModule = new WeakMap<object, Map<string, ConvInputGradLoop | null>>();

type GemmLoop = (a: number, b: number, c: number, bias: number) => void;
const gemmByModule = new WeakMap<object, Map<string, GemmLoop | null>>();
/** Shapes of products assembled per wasm module, at most (a run uses a handful; past this, XNNPACK). */
const GEMM_SHAPES = 64;

/** Our product for this shape (assembled once per shape and wasm module), or null where XNNPACK takes it. */
function gemmFor(backend: BackendWasm, shape: GemmShape): GemmLoop | null {
  if (!simdFor(backend) || !gemmFits(shape)) return null;
  const fused = useRelaxedSimd();
  const key = `${shape.m}:${shape.k}:${shape.n}:${shape.aRow}:${shape.aCol}:${shape.bias}:${shape.relu}:${fused}`;
  return perModule(gemmByModule, backend, key, (memory) => createGemm(memory, shape, fused), GEMM_SHAPES);
}

/**
 * out[M,N] = a · b[K,N] + bias through our product where it takes the shape, else null. a is a[M,K], or
 * a[K,M] read transposed.
 */
function ownMatMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo, m: number, k: number, n: number,
  options: { transposeA?: boolean; bias?: TensorInfo; relu?: boolean } = {}): TensorInfo | null {
  if (!gemmRouteEnabled) return null;
  const transposeA = options.transposeA ?? false;
  const loop = gemmFor(backend, {
    m, k, n, aRow: transposeA ? 4 : 4 * k, aCol: transposeA ? 4 * m : 4, bias: options.bias !== undefined, relu: options.relu ?? false,
  });
  if (!loop) return null;
  const out = allocate(backend, [m, n]);
  loop(address(backend, a), address(backend, b), address(backend, out), options.bias ? address(backend, options.bias) : 0);
  return out;
}

let gemmRouteEnabled = true;
/** Tests turn our product off to compare it with XNNPACK's on the same kernels. */
export function setOwnMatMulEnabled(enabled: boolean): void {
  gemmRouteEnabled = enabled;
}

/** Byte offset of a tensor's data in the wasm heap. */
function address(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

/** True when every filter tap of every output lands inside the input (no padding, no clipping). */
function tapsInside(g: ConvGeometry): boolean {
  return g.padTop === 0 && g.padLeft === 0 &&
    (g.outHeight - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight < g.inHeight &&
    (g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth < g.inWidth;
}

/** Floats of im2col/col2im scratch per chunk of images (256 KB: stays in cache between the product and the scatter). */
const CHUNK_FLOATS = 65536;

/** dst[cols, rows] = src[rows, cols]ᵀ. */
function transposeOnHeap(backend: BackendWasm, src: TensorInfo, rows: number, cols: number, dst: TensorInfo): void {
  const simd = simdFor(backend);
  // Innermost along the destination's rows, so the tight one-float loop writes contiguously.
  if (simd) simd.strided('copy', address(backend, dst), address(backend, src), [1, cols, rows], [0, rows, 1], [0, 1, cols], 1);
  else transpose2d(heap(backend, src), rows, cols, heap(backend, dst));
}

/** dst = src transposed by perm (rank 4), as at most three loops around contiguous runs. */
function permuteOnHeap(backend: BackendWasm, src: TensorInfo, shape: Shape4, perm: Shape4, dst: TensorInfo): void {
  const simd = simdFor(backend);
  if (simd) {
    const srcStride = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
    // Destination axes outermost first, each with its extent and source stride; merge neighbours
    // that are also neighbours in the source.
    const axes: { n: number; s: number }[] = [];
    for (const p of perm) {
      const n = shape[p]!, stride = srcStride[p]!;
      const last = axes[axes.length - 1];
      if (last && last.s === stride * n) { last.n *= n; last.s = stride; } else axes.push({ n, s: stride });
    }
    const run = axes[axes.length - 1]!.s === 1 ? axes.pop()!.n : 1;
    if (axes.length <= 3) {
      while (axes.length < 3) axes.unshift({ n: 1, s: 0 });
      const n = axes.map((a) => a.n) as [number, number, number];
      const dstStride: [number, number, number] = [n[1] * n[2] * run, n[2] * run, run];
      simd.strided('copy', address(backend, dst), address(backend, src), n, dstStride,
        axes.map((a) => a.s) as [number, number, number], run);
      return;
    }
  }
  permute4(heap(backend, src), shape, perm, heap(backend, dst));
}

/** dx (zeroed here) += each row of dcols[P, K] on its input patch. */
function col2imOnHeap(backend: BackendWasm, dcols: TensorInfo, g: ConvGeometry, dx: TensorInfo): void {
  const simd = simdFor(backend);
  if (!simd || !tapsInside(g)) {
    col2imAdd(heap(backend, dcols), g, heap(backend, dx));
    return;
  }
  heap(backend, dx).fill(0);
  const { batch: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const FW = g.filterWidth;
  const K = g.filterHeight * FW * C;
  const n: [number, number, number] = [B, OH, OW];
  const dstStride: [number, number, number] = [H * W * C, g.strideHeight * W * C, g.strideWidth * C];
  const srcStride: [number, number, number] = [OH * OW * K, OW * K, K];
  // With unit column dilation, one filter row covers FW consecutive pixels: one run of FW·C
  // floats; runs shorter than two vectors go faster tap by tap (C1: single floats).
  const wholeRows = g.dilationWidth === 1 && FW * C >= 8;
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < (wholeRows ? 1 : FW); fw++) {
      const dstAt = address(backend, dx) + 4 * ((fh * g.dilationHeight * W + fw * g.dilationWidth) * C);
      const srcAt = address(backend, dcols) + 4 * ((fh * FW + fw) * C);
      simd.strided('add', dstAt, srcAt, n, dstStride, srcStride, wholeRows ? FW * C : C);
    }
  }
}

/** dx (zeroed here) += rows of dcolsT[K, P] for one input channel and unit strides. */
function col2imTransposedOnHeap(backend: BackendWasm, dcolsT: TensorInfo, g: ConvGeometry, dx: TensorInfo): void {
  const simd = simdFor(backend);
  if (!simd || !tapsInside(g)) {
    col2imTransposedSingleChannel(heap(backend, dcolsT), g, heap(backend, dx));
    return;
  }
  heap(backend, dx).fill(0);
  const { batch: B, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  const P = B * OH * OW;
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      const dstAt = address(backend, dx) + 4 * (fh * g.dilationHeight * W + fw * g.dilationWidth);
      const srcAt = address(backend, dcolsT) + 4 * (fh * g.filterWidth + fw) * P;
      simd.strided('add', dstAt, srcAt, [B, OH, 1], [H * W, W, 0], [OH * OW, OW, 0], OW);
    }
  }
}

/** colsT[K, P] = the input seen through each filter tap (see im2colTransposed). */
function im2colTransposedOnHeap(backend: BackendWasm, x: TensorInfo, g: ConvGeometry, colsT: TensorInfo): void {
  const simd = simdFor(backend);
  if (!simd || !tapsInside(g)) {
    im2colTransposed(heap(backend, x), g, heap(backend, colsT));
    return;
  }
  const { batch: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const P = B * OH * OW;
  const unitRuns = C === 1 && g.strideWidth === 1;
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      for (let c = 0; c < C; c++) {
        const dstAt = address(backend, colsT) + 4 * ((fh * g.filterWidth + fw) * C + c) * P;
        const srcAt = address(backend, x) + 4 * ((fh * g.dilationHeight * W + fw * g.dilationWidth) * C + c);
        if (unitRuns) simd.strided('copy', dstAt, srcAt, [B, OH, 1], [OH * OW, OW, 0], [H * W, g.strideHeight * W, 0], OW);
        else simd.strided('copy', dstAt, srcAt, [B, OH, OW], [OH * OW, OW, 1], [H * W * C, g.strideHeight * W * C, g.strideWidth * C], 1);
      }
    }
  }
}

// The wasm backend's own kernels we build on, captured before we replace any of them.

/**
 * out[M,N] = a[M,K] · b[K,N] through XNNPACK's fully-connected operator (b is packed
 * as its weights). The result is a new heap tensor owned by the caller.
 */
function matMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo, m: number, k: number, n: number): TensorInfo {
  const ours = ownMatMul(backend, a, b, m, k, n);
  if (ours) return ours;
  return own('BatchMatMul')({
    inputs: { a: asShape(a, [1, m, k]), b: asShape(b, [1, k, n]) },
    attrs: { transposeA: false, transposeB: false },
    backend,
  }) as TensorInfo;
}

function backendOf(args: { backend: unknown }): BackendWasm {
  return args.backend as BackendWasm;
}

// ---- Conv2DBackpropFilter ----------------------------------------------------------

/** NCHW input converted to an NHWC heap tensor (the caller releases it). */
function toChannelsLast(backend: BackendWasm, t: TensorInfo): TensorInfo {
  const [n, c, h, w] = t.shape as Shape4;
  const out = allocate(backend, [n, h, w, c]);
  permuteOnHeap(backend, t, [n, c, h, w], [0, 2, 3, 1], out);
  return out;
}


/**
 * dW through one XNNPACK convolution, for stride 1: with the batch as channels, the
 * input [CI, H, W, B] convolved with dy as a filter [OH, OW, B, CO] gives [CI, FH, FW, CO].
 * XNNPACK gathers the patches itself, so only x and dy are reordered here.
 * Returns null when the geometry needs negative padding (then im2col does it).
 */
function filterGradByConvolution(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: ConvGeometry,
  filterShape: Shape4): TensorInfo | null {
  const { batch: B, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const FH = g.filterHeight, FW = g.filterWidth;
  const padBottom = FH + OH - 1 - H - g.padTop;
  const padRight = FW + OW - 1 - W - g.padLeft;
  if (padBottom < 0 || padRight < 0) return null;
  const xT = allocate(backend, [CI, H, W, B]);
  const dyT = allocate(backend, [OH, OW, B, CO]);
  permuteOnHeap(backend, x, [B, H, W, CI], [3, 1, 2, 0], xT);
  permuteOnHeap(backend, dy, [B, OH, OW, CO], [1, 2, 0, 3], dyT);
  const pad: backend_util.ExplicitPadding = [[0, 0], [g.padTop, padBottom], [g.padLeft, padRight], [0, 0]];
  const byChannel = own('Conv2D')({
    inputs: { x: xT, filter: dyT },
    attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] },
    backend,
  }) as TensorInfo;
  release(backend, xT);
  release(backend, dyT);
  if (CI === 1) {
    byChannel.shape = [...filterShape];
    return byChannel;
  }
  const dW = allocate(backend, [...filterShape]);
  permuteOnHeap(backend, byChannel, [CI, FH, FW, CO], [1, 2, 0, 3], dW);
  release(backend, byChannel);
  return dW;
}

/** dW through im2col: colsT[K, P] · dy[P, CO] as one XNNPACK product. Any stride and padding. */
function filterGradByIm2col(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: ConvGeometry,
  filterShape: Shape4): TensorInfo {
  const P = g.batch * g.outHeight * g.outWidth;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const colsT = allocate(backend, [K, P]);
  if (windowCoversInput(g)) transposeOnHeap(backend, x, P, K, colsT);
  else im2colTransposedOnHeap(backend, x, g, colsT);
  const dW = matMul(backend, colsT, dy, K, P, g.outChannels);
  release(backend, colsT);
  dW.shape = [...filterShape];
  return dW;
}

/** Which route dW takes; 'auto' picks the faster one for the shape ('loops': LeNet Lab's own SIMD loops only). Exposed for tests. */
export type FilterGradRoute = 'auto' | 'loops' | 'im2col' | 'convolution';
let filterGradRoute: FilterGradRoute = 'auto';
export function setFilterGradRoute(route: FilterGradRoute): void {
  filterGradRoute = route;
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
  const info = convInfoOf(x.shape as Shape4, attr<Shape4>(attrs, 'filterShape'), attrs);
  const g = geometryOf(info);
  const filterShape = info.filterShape;
  let dW: TensorInfo | null = null;
  const ownLoops = filterGradRoute === 'auto' || filterGradRoute === 'loops';
  const loop = ownLoops ? convLoopFor(filterGradByModule, backend, g, convFilterGradFits, createConvFilterGrad)?.loop : undefined;
  if (loop) {
    dW = allocate(backend, [...filterShape]);
    loop(address(backend, x), address(backend, dy), address(backend, dW), g.batch);
  }
  const unitStride = g.strideHeight === 1 && g.strideWidth === 1;
  // Where our loop does not take the shape: XNNPACK's own patch gathering wins with several input channels
  // (C3: ≈ 20% inside a training step, where im2col's columns fall out of cache). With one channel the SIMD
  // im2col is ≈ 2× faster; without SIMD the JavaScript im2col is slow.
  const useConvolution = filterGradRoute === 'convolution' ||
    (filterGradRoute === 'auto' && !windowCoversInput(g) && (g.inChannels > 1 || !(simdFor(backend) && tapsInside(g))));
  if (dW === null && unitStride && useConvolution) dW = filterGradByConvolution(backend, x, dy, g, filterShape);
  if (dW === null) dW = filterGradByIm2col(backend, x, dy, g, filterShape);
  for (const t of temporaries) release(backend, t);
  return dW;
};

// ---- Conv2D -------------------------------------------------------------------------

/**
 * y = conv(x, filter) (+ bias, then ReLU) on our forward loop where it takes the geometry (stride 1, no padding
 * or dilation: C1, C3); null where it does not (XNNPACK then).
 */
function convForward(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo,
  bias: TensorInfo | undefined, relu: boolean): TensorInfo | null {
  const g = geometryOf(info);
  const loop = convLoopFor(forwardByModule, backend, g, convForwardFits, createConvForward)?.loop;
  if (!loop) return null;
  const y = allocate(backend, [...info.outShape]);
  loop(address(backend, x), address(backend, filter), address(backend, y), g.batch, bias ? address(backend, bias) : 0, relu);
  return y;
}

/** Stride-1 unpadded convolutions on our loop (C3 at batch 32: 0.30 ms against XNNPACK's 0.49–0.62); the rest on XNNPACK. */
const conv2D: KernelFunc = (args) => {
  const x = args.inputs['x'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW' || x.shape.length !== 4 || x.dtype !== 'float32') return own('Conv2D')(args);
  const info = convInfoOf(x.shape as Shape4, filter.shape as Shape4, attrs, attr<number | [number, number]>(attrs, 'dilations') ?? 1);
  return convForward(backendOf(args), x, filter, info, undefined, false) ?? own('Conv2D')(args);
};

/**
 * FusedConv2D on our loops where they take the shape (C1 and C3 with their bias and activation: the direct
 * step's and the drawing pad's), the bias and ReLU added as they store; a sigmoid follows as the backend's own
 * kernel. Anything else goes to the backend's own kernel (XNNPACK).
 */
const fusedConv2D: KernelFunc = (args) => {
  const backend = backendOf(args);
  const x = args.inputs['x'] as TensorInfo, filter = args.inputs['filter'] as TensorInfo;
  const bias = args.inputs['bias'] as TensorInfo | undefined;
  const { attrs } = args;
  const activation = attr<string>(attrs, 'activation') ?? 'linear';
  const C = (filter.shape as Shape4)[3];
  if (attr<string>(attrs, 'dataFormat') === 'NCHW' || x.shape.length !== 4 || x.dtype !== 'float32' ||
    args.inputs['preluActivationWeights'] || !['linear', 'relu', 'sigmoid'].includes(activation) ||
    (bias && (bias.dtype !== 'float32' || bias.shape.reduce((a, b) => a * b, 1) !== C))) return own('FusedConv2D')(args);
  const info = convInfoOf(x.shape as Shape4, filter.shape as Shape4, attrs, attr<number | [number, number]>(attrs, 'dilations') ?? 1);
  const y = convForward(backend, x, filter, info, bias, activation === 'relu');
  if (!y) return own('FusedConv2D')(args);
  if (activation !== 'sigmoid') return y;
  const out = own('Sigmoid')({ inputs: { x: y }, attrs: {}, backend }) as TensorInfo;
  release(backend, y);
  return out;
};

// ---- Conv2DBackpropInput -----------------------------------------------------------



const conv2DBackpropInput: KernelFunc = (args) => {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const filter = args.inputs['filter'] as TensorInfo;
  const { attrs } = args;
  if (attr<string>(attrs, 'dataFormat') === 'NCHW') return own('Conv2DBackpropInput')(args);
  const info = convInfoOf(attr<Shape4>(attrs, 'inputShape'), filter.shape as Shape4, attrs);
  const g = geometryOf(info);
  const P = g.batch * g.outHeight * g.outWidth;
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const CO = g.outChannels;
  if (!simdFor(backend) && g.inChannels === 1 && g.strideHeight === 1 && g.strideWidth === 1 && !windowCoversInput(g)) {
    // One input channel (C1) in JavaScript: dcolsT[K, P] = filter[K, CO] · dyᵀ[CO, P], whose rows
    // land on long runs of dx, instead of K-wide rows that would scatter in runs of filterWidth.
    // (The SIMD loops scatter single floats fast enough that the plain product below wins.)
    const dyT = allocate(backend, [CO, P]);
    transposeOnHeap(backend, dy, P, CO, dyT);
    const dcolsT = matMul(backend, filter, dyT, K, CO, P);
    release(backend, dyT);
    const dx = allocate(backend, [...info.inShape]);
    col2imTransposedOnHeap(backend, dcolsT, g, dx);
    release(backend, dcolsT);
    return dx;
  }
  const ours = windowCoversInput(g) ? null : convLoopFor(inputGradByModule, backend, g, convInputGradFits, createConvInputGrad);
  if (ours) {
    // Stride 1 without padding: our loop adds each output pixel's window rows straight into dx.
    const wt = allocate(backend, [g.filterHeight * CO * inputGradRowFloats(ours.shape)]);
    const dx = allocate(backend, [...info.inShape]);
    transposeFilterForInputGrad(heap(backend, filter), ours.shape, heap(backend, wt));
    heap(backend, dx).fill(0);
    ours.loop(address(backend, dy), address(backend, wt), address(backend, dx), g.batch);
    release(backend, wt);
    return dx;
  }
  // dcols[P, K] = dy[P, CO] · filterᵀ[CO, K], then each row goes back to its input patch.
  const filterT = allocate(backend, [CO, K]);
  transposeOnHeap(backend, filter, K, CO, filterT);
  if (windowCoversInput(g)) {
    const dcols = matMul(backend, dy, filterT, P, CO, K);
    release(backend, filterT);
    dcols.shape = [...info.inShape];
    return dcols;
  }
  // A few images at a time, so that each chunk's dcols stays in cache between the product and col2im.
  const dx = allocate(backend, [...info.inShape]);
  const perImage = g.outHeight * g.outWidth;
  const imageFloats = g.inHeight * g.inWidth * g.inChannels;
  const chunk = Math.max(1, Math.floor(CHUNK_FLOATS / (perImage * K)));
  for (let b0 = 0; b0 < g.batch; b0 += chunk) {
    const nb = Math.min(chunk, g.batch - b0);
    const dyChunk = viewOf(backend, dy, b0 * perImage * CO, [nb * perImage, CO]);
    const dxChunk = viewOf(backend, dx, b0 * imageFloats, [nb, g.inHeight, g.inWidth, g.inChannels]);
    const dcols = matMul(backend, dyChunk, filterT, nb * perImage, CO, K);
    col2imOnHeap(backend, dcols, { ...g, batch: nb }, dxChunk);
    release(backend, dcols);
    dropView(backend, dyChunk);
    dropView(backend, dxChunk);
  }
  release(backend, filterT);
  return dx;
};

// ---- Tanh --------------------------------------------------------------------------


/**
 * tanh(x) = 2σ(2x) − 1 on XNNPACK's vectorised sigmoid: the backend's own Tanh is scalar
 * libm, ten times slower, and LeNet-5's scaled tanh runs it on every map. Below
 * TANH_SERIES_LIMIT the odd Taylor series is used instead, which keeps relative precision.
 */
const tanhKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const x = args.inputs['x'] as TensorInfo;
  if (x.dtype !== 'float32') return own('Tanh')(args);
  const n = x.shape.reduce((a, b) => a * b, 1);
  const doubled = allocate(backend, [...x.shape]);
  const simd = simdFor(backend);
  if (simd) simd.strided('scale', address(backend, doubled), address(backend, x), [1, 1, 1], [0, 0, 0], [0, 0, 0], n, 2);
  else {
    const xs = heap(backend, x), ds = heap(backend, doubled);
    for (let i = 0; i < n; i++) ds[i] = 2 * xs[i]!;
  }
  const out = own('Sigmoid')({ inputs: { x: doubled }, attrs: {}, backend }) as TensorInfo;
  release(backend, doubled);
  if (simd) {
    simd.tanhFinish(address(backend, x), address(backend, out), n);
    return out;
  }
  const xs = heap(backend, x), os = heap(backend, out);
  for (let i = 0; i < n; i++) {
    const v = xs[i]!;
    if (Math.abs(v) < TANH_SERIES_LIMIT) {
      const v2 = v * v;
      os[i] = v * (1 + v2 * (-1 / 3 + v2 * (2 / 15 + v2 * (-17 / 315))));
    } else {
      os[i] = 2 * os[i]! - 1;
    }
  }
  return out;
};

// ---- pooling gradients -------------------------------------------------------------

/** What both pooling gradients start from: their inputs, window geometry, a fresh dx and the SIMD loops. */
function poolGradParts(args: Parameters<KernelFunc>[0], kernelName: 'MaxPoolGrad' | 'AvgPoolGrad') {
  const backend = backendOf(args);
  const dy = args.inputs['dy'] as TensorInfo;
  const x = args.inputs['input'] as TensorInfo;
  const g = poolGradGeometry(kernelName, x.shape as Shape4, args.attrs);
  return { backend, dy, x, g, dx: allocate(backend, [...x.shape]), simd: simdFor(backend) };
}

const maxPoolGradKernel: KernelFunc = (args) => {
  const { backend, dy, x, g, dx, simd } = poolGradParts(args, 'MaxPoolGrad');
  if (simd && g.inChannels >= 4 && g.filterHeight === 2 && g.filterWidth === 2 && g.strideHeight === 2 && g.strideWidth === 2 &&
    tapsInside(g)) {
    heap(backend, dx).fill(0);
    simd.maxPoolGrad2x2(address(backend, x), address(backend, dy), address(backend, dx),
      g.batch, g.outHeight, g.outWidth, g.inChannels, g.inHeight, g.inWidth);
  } else {
    maxPoolGrad(heap(backend, x), heap(backend, dy), g, heap(backend, dx));
  }
  return dx;
};

const avgPoolGradKernel: KernelFunc = (args) => {
  const { backend, dy, g, dx, simd } = poolGradParts(args, 'AvgPoolGrad');
  if (simd && tapsInside(g)) {
    // Each filter tap adds dy / (filterHeight·filterWidth) onto its strided view of dx.
    heap(backend, dx).fill(0);
    const { batch: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
    const scale = 1 / (g.filterHeight * g.filterWidth);
    for (let fh = 0; fh < g.filterHeight; fh++) {
      for (let fw = 0; fw < g.filterWidth; fw++) {
        simd.strided('addScaled', address(backend, dx) + 4 * (fh * W + fw) * C, address(backend, dy), [B, OH, OW],
          [H * W * C, g.strideHeight * W * C, g.strideWidth * C], [OH * OW * C, OW * C, C], C, scale);
      }
    }
  } else {
    avgPoolGrad(heap(backend, dy), g, heap(backend, dx));
  }
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
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || batchA !== 1 || batchB !== 1 || rankA < 2 || rankB < 2) {
    return own('BatchMatMul')(args);
  }
  const m = transposeA ? a.shape[rankA - 1]! : a.shape[rankA - 2]!;
  const k = transposeA ? a.shape[rankA - 2]! : a.shape[rankA - 1]!;
  const kB = transposeB ? b.shape[rankB - 1]! : b.shape[rankB - 2]!;
  const n = transposeB ? b.shape[rankB - 2]! : b.shape[rankB - 1]!;
  if (k !== kB || m === 0 || n === 0 || k === 0) return own('BatchMatMul')(args);
  const outerDims = rankA >= rankB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  // Our product reads a transposed a in place; a transposed b is copied into plain layout first.
  let plainB = b;
  if (transposeB) {
    plainB = allocate(backend, [k, n]);
    transposeOnHeap(backend, b, n, k, plainB);
  }
  const ours = ownMatMul(backend, a, plainB, m, k, n, { transposeA });
  if (ours || (!transposeA && !transposeB)) {
    const out = ours ?? matMul(backend, a, plainB, m, k, n);
    if (transposeB) release(backend, plainB);
    out.shape = [...outerDims, m, n];
    return out;
  }
  let plainA = a;
  if (transposeA) {
    plainA = allocate(backend, [m, k]);
    transposeOnHeap(backend, a, k, m, plainA);
  }
  const out = matMul(backend, plainA, plainB, m, k, n);
  if (transposeA) release(backend, plainA);
  if (transposeB) release(backend, plainB);
  out.shape = [...outerDims, m, n];
  return out;
};

/**
 * The dense layers' fused product (x·W + bias, then a linear or ReLU activation) through our product
 * where it takes the shape; anything else (transposes, batches, other activations) goes to XNNPACK.
 */
const fusedMatMul: KernelFunc = (args) => {
  const backend = backendOf(args);
  const a = args.inputs['a'] as TensorInfo, b = args.inputs['b'] as TensorInfo;
  const bias = args.inputs['bias'] as TensorInfo | undefined;
  const activation = attr<string>(args.attrs, 'activation') ?? 'linear';
  const rankA = a.shape.length, rankB = b.shape.length;
  const m = a.shape[rankA - 2]!, k = a.shape[rankA - 1]!, n = b.shape[rankB - 1]!;
  const plain = !attr<boolean>(args.attrs, 'transposeA') && !attr<boolean>(args.attrs, 'transposeB') && !args.inputs['preluActivationWeights'] &&
    a.dtype === 'float32' && b.dtype === 'float32' && rankA >= 2 && rankB >= 2 && b.shape[rankB - 2] === k &&
    a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1) &&
    (activation === 'linear' || activation === 'relu') && (!bias || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === n));
  const ours = plain ? ownMatMul(backend, a, b, m, k, n, { ...(bias ? { bias } : {}), relu: activation === 'relu' }) : null;
  if (!ours) return own('_FusedMatMul')(args);
  ours.shape = [...(rankA >= rankB ? a.shape : b.shape).slice(0, -2), m, n];
  return ours;
};

// ---- bias add, bias gradient, identity ---------------------------------------------


/**
 * A float32 tensor holding `vector` repeated until its length is a multiple of 4 and at
 * least 16 floats, so that rows of the matching width can be added or summed as whole
 * SIMD runs. Returns the tensor and its length; the caller releases it.
 */
function tiled(backend: BackendWasm, vector: Float32Array): { t: TensorInfo; length: number } {
  const c = vector.length;
  let length = c;
  while (length % 4 !== 0 || length < 16) length += c;
  const t = allocate(backend, [length]);
  const view = heap(backend, t);
  for (let i = 0; i < length; i += c) view.set(vector, i);
  return { t, length };
}

/** Is `shape` a vector along the last axis of `full` (like a bias: [C] or [1,…,1,C])? */
function isLastAxisVector(shape: number[], full: number[]): boolean {
  if (shape.length === 0 || shape.length > full.length) return false;
  const c = shape[shape.length - 1]!;
  return c === full[full.length - 1] && shape.slice(0, -1).every((d) => d === 1) && c > 0;
}

/** A binary kernel's two float32 inputs with the SIMD loops, or null (then the backend's own kernel runs). */
function simdBinary(args: Parameters<KernelFunc>[0]): { backend: BackendWasm; a: TensorInfo; b: TensorInfo; simd: SimdLoops } | null {
  const backend = backendOf(args);
  const a = args.inputs['a'] as TensorInfo;
  const b = args.inputs['b'] as TensorInfo;
  const simd = simdFor(backend);
  return simd && a.dtype === 'float32' && b.dtype === 'float32' ? { backend, a, b, simd } : null;
}

/**
 * x[…, C] (op) v[C] for Add (a bias) and Multiply (per-channel coefficients): the backend's
 * broadcasting loop is ~20× slower than copying x and applying v tiled to a SIMD-friendly width.
 * Returns null for anything else (then the backend's own kernel runs).
 */
function channelVectorOp(args: Parameters<KernelFunc>[0], op: 'add' | 'mul'): TensorInfo | null {
  const inputs = simdBinary(args);
  if (!inputs) return null;
  const { backend, a, b, simd } = inputs;
  let full: TensorInfo, vector: TensorInfo;
  if (a.shape.length >= b.shape.length && isLastAxisVector(b.shape, a.shape)) { full = a; vector = b; }
  else if (b.shape.length > a.shape.length && isLastAxisVector(a.shape, b.shape)) { full = b; vector = a; }
  else return null;
  const total = full.shape.reduce((x, y) => x * y, 1);
  const c = full.shape[full.shape.length - 1]!;
  if (total < 64 || c > 4096) return null;
  const out = allocate(backend, [...full.shape]);
  const { t: pattern, length } = tiled(backend, heap(backend, vector).slice(0, c));
  simd.strided('copy', address(backend, out), address(backend, full), [1, 1, 1], [0, 0, 0], [0, 0, 0], total);
  const whole = Math.floor(total / length);
  simd.strided(op, address(backend, out), address(backend, pattern), [1, 1, whole], [0, 0, length], [0, 0, 0], length);
  const rest = total - whole * length; // a multiple of c
  if (rest > 0) simd.strided(op, address(backend, out) + 4 * whole * length, address(backend, pattern), [1, 1, 1], [0, 0, 0], [0, 0, 0], rest);
  release(backend, pattern);
  return out;
}

const addKernel: KernelFunc = (args) => channelVectorOp(args, 'add') ?? own('Add')(args);


/**
 * A tensor times a scalar (LeNet-5's scaled tanh and its gradient, the RBF temperature) as one SIMD
 * pass, or times a per-channel vector (its trainable subsampling) as channelVectorOp; the backend's own
 * kernel walks its general broadcasting loop for both. Anything else goes there.
 */
const multiplyKernel: KernelFunc = (args) => {
  const inputs = simdBinary(args);
  if (!inputs) return own('Multiply')(args);
  const { backend, a, b, simd } = inputs;
  const count = (t: TensorInfo): number => t.shape.reduce((x, y) => x * y, 1);
  // The scalar may have any rank up to the tensor's (its ones broadcast away); a higher rank changes the output shape.
  const [full, scalar] = count(b) === 1 && b.shape.length <= a.shape.length ? [a, b]
    : count(a) === 1 && a.shape.length <= b.shape.length ? [b, a] : [null, null];
  if (!full || !scalar) return channelVectorOp(args, 'mul') ?? own('Multiply')(args);
  const total = count(full);
  const out = allocate(backend, [...full.shape]);
  simd.strided('scale', address(backend, out), address(backend, full), [1, 1, 1], [0, 0, 0], [0, 0, 0], total, heap(backend, scalar)[0]!);
  return out;
};

/**
 * Sum over every axis but the last (a bias gradient: [B,H,W,C] → [C]): rows are added
 * into a SIMD-wide accumulator, then folded to C values. Other reductions go to the
 * backend's own Sum, which transposes first.
 */
const sumKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const x = args.inputs['x'] as TensorInfo;
  const simd = simdFor(backend);
  const rank = x.shape.length;
  const axis = attr<number | number[] | undefined>(args.attrs, 'axis');
  const keepDims = attr<boolean | undefined>(args.attrs, 'keepDims') ?? false;
  if (!simd || x.dtype !== 'float32' || rank < 2 || keepDims || axis === undefined) return own('Sum')(args);
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  const leading = axes.length === rank - 1 && axes.every((a, i) => a === i);
  const c = x.shape[rank - 1]!;
  const total = x.shape.reduce((p, q) => p * q, 1);
  if (!leading || c === 0 || c > 4096 || total < 64) return own('Sum')(args);
  const { t: acc, length } = tiled(backend, new Float32Array(c));
  const whole = Math.floor(total / length);
  simd.strided('add', address(backend, acc), address(backend, x), [1, 1, whole], [0, 0, 0], [0, 0, length], length);
  const rest = total - whole * length;
  if (rest > 0) simd.strided('add', address(backend, acc), address(backend, x) + 4 * whole * length, [1, 1, 1], [0, 0, 0], [0, 0, 0], rest);
  const out = allocate(backend, [c]);
  const sums = heap(backend, acc), outView = heap(backend, out);
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let i = j; i < length; i += c) s += sums[i]!;
    outView[j] = s;
  }
  release(backend, acc);
  return out;
};

/** Identity shares the data (as the cpu backend's does) instead of copying it. */
const identityKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const x = args.inputs['x'] as TensorInfo;
  if (x.dtype === 'string') return own('Identity')(args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/** A cast to the dtype a tensor already has shares its data (every ReLU gradient casts its float mask to float). */
const castKernel: KernelFunc = (args) => {
  const x = args.inputs['x'] as TensorInfo;
  return attr<string>(args.attrs, 'dtype') === x.dtype ? identityKernel(args) : own('Cast')(args);
};

// ---- activation gradients (the direct step's) ------------------------------------------

/**
 * Not a tfjs kernel: the gradient through an activation from its output y, dx = f'(·) ⊙ dy, for the direct
 * training step (engine/training/direct-step.ts), which without it runs the same arithmetic as a JavaScript
 * loop. Inputs y and dy (same size), attr activation 'relu' | 'sigmoid'; the output has dy's shape.
 */
export const ACTIVATION_GRAD_KERNEL = 'LeNetLabActivationGrad';

const activationGradKernel: KernelFunc = (args) => {
  const backend = backendOf(args);
  const y = args.inputs['y'] as TensorInfo, dy = args.inputs['dy'] as TensorInfo;
  const activation = attr<GradActivation>(args.attrs, 'activation');
  if (activation !== 'relu' && activation !== 'sigmoid') throw new Error(`${ACTIVATION_GRAD_KERNEL}: no activation '${String(activation)}'`);
  const n = dy.shape.reduce((a, b) => a * b, 1);
  if (y.shape.reduce((a, b) => a * b, 1) !== n) throw new Error(`${ACTIVATION_GRAD_KERNEL}: y and dy differ in size`);
  const out = allocate(backend, [...dy.shape]);
  const simd = simdFor(backend);
  if (simd) {
    simd.activationGrad(activation, address(backend, y), address(backend, dy), address(backend, out), n);
    return out;
  }
  const ys = heap(backend, y), ds = heap(backend, dy), os = heap(backend, out);
  if (activation === 'relu') for (let i = 0; i < n; i++) os[i] = ys[i]! > 0 ? ds[i]! : 0;
  else for (let i = 0; i < n; i++) os[i] = Math.fround(ds[i]! * ys[i]!) * Math.fround(1 - ys[i]!);
  return out;
};

// ---- registration ------------------------------------------------------------------

const WASM_KERNELS = new KernelSet('wasm', {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  MaxPoolGrad: maxPoolGradKernel,
  AvgPoolGrad: avgPoolGradKernel,
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Tanh: tanhKernel,
  Add: addKernel,
  Sum: sumKernel,
  Identity: identityKernel,
  Cast: castKernel,
  Multiply: multiplyKernel,
  [ACTIVATION_GRAD_KERNEL]: activationGradKernel,
});

/**
 * Registers the training kernels for the 'wasm' backend. Idempotent. Call it before or
 * after `tf.setBackend('wasm')`; the kernels only run once the wasm module is loaded.
 */
export const registerWasmTrainingKernels = (): void => WASM_KERNELS.register();

/** Names of the kernels this module provides for 'wasm' (for reports and tests). */
export const WASM_TRAINING_KERNELS = WASM_KERNELS.names;
