// A training step written directly against the backend's kernels: the forward and backward pass of
// each layer by hand, without tfjs-layers, the engine's tensor bookkeeping or the autograd tape.
//
// The tape step (computeGradients in step.ts) spends ≈ 1.6 ms a step around ≈ 120 kernel calls that do
// not shrink with the batch: layer calls, tensor tracking, tidy scopes, recording the tape and running
// the generic gradient functions (which add their own reshapes, casts and broadcasts). With two engines,
// each half of a batch pays it again, which is what kept them from scaling. Here each layer of the model
// maps to a small op with a forward and a backward; the convolutions, pooling and matrix products are
// the same registered kernels the tape step calls (LeNet Lab's wasm kernels or the cpu ones), the bias
// and activation ride on the fused convolution and matrix product where the backend has them, and the
// elementwise gradients and the small RBF heads are plain loops over the kernels' own buffers.
//
// The ops are keyed on the layer classes of the model (common/network/): a model made of other layers, or
// with a frozen one, gets no direct step (DirectStep.forModel returns null) and trains on the tape. Checked
// against the tape step's gradients and against whole runs in tests/unit/direct-step.test.ts, and beyond the
// shipped variants (other layer settings, no fused kernels, each refusal alone) in direct-step-layers.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { RBF_TEMPERATURE, type VariantSpec } from '../../common/network/variants.js';
import { SCALED_TANH_A, SCALED_TANH_S } from '../../common/network/layers.js';

// ---- the backend, seen from the step -------------------------------------------------

/** What the step needs of a backend: its kernels, buffers it can write into, and freeing. */
export class KernelAccess {
  private readonly kernels = new Map<string, KernelFunc>();

  private constructor(readonly backendName: 'wasm' | 'cpu', private readonly backend: tf.KernelBackend) {}

  /** The active backend, if the step can run on it (wasm and cpu: their buffers are plain Float32Arrays). */
  static current(): KernelAccess | null {
    const name = tf.getBackend();
    if (name !== 'wasm' && name !== 'cpu') return null;
    return new KernelAccess(name, tf.backend());
  }

  run(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    let kernel = this.kernels.get(name);
    if (!kernel) {
      const config = tf.getKernel(name, this.backendName);
      if (!config) throw new Error(`the ${this.backendName} backend has no ${name} kernel`);
      kernel = config.kernelFunc;
      this.kernels.set(name, kernel);
    }
    const out = kernel({ inputs, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`${name} returned several outputs`);
    return out;
  }

  has(name: string): boolean {
    return this.kernels.has(name) || tf.getKernel(name, this.backendName) !== undefined;
  }

  /** A new float32 tensor holding a copy of `data`. */
  upload(data: Float32Array, shape: number[]): TensorInfo {
    // The cpu backend keeps the array it is given; the wasm backend copies it onto its heap.
    const values = this.backendName === 'cpu' ? data.slice() : data;
    const dataId = this.backend.write(values, shape, 'float32');
    return { dataId, shape, dtype: 'float32' };
  }

  /** A new zero-filled float32 tensor. */
  zeros(shape: number[]): TensorInfo {
    const size = shape.reduce((a, b) => a * b, 1);
    const dataId = this.backend.write(this.backendName === 'cpu' ? new Float32Array(size) : null as unknown as Float32Array, shape, 'float32');
    const t: TensorInfo = { dataId, shape, dtype: 'float32' };
    if (this.backendName === 'wasm') this.view(t).fill(0);
    return t;
  }

  /**
   * The tensor's own buffer (no copy). On wasm, take it after the last allocation or kernel call:
   * either may grow the heap, which detaches older views.
   */
  view(t: TensorInfo): Float32Array {
    if (this.backendName === 'wasm') {
      return (this.backend as unknown as { typedArrayFromHeap(t: TensorInfo): Float32Array }).typedArrayFromHeap(t);
    }
    const values = (this.backend as unknown as { data: { get(id: object): { values?: unknown } | undefined } }).data.get(t.dataId)?.values;
    if (!(values instanceof Float32Array)) throw new Error('direct step: a tensor without float32 values');
    return values;
  }

  free(t: TensorInfo): void {
    this.backend.disposeData(t.dataId);
  }

  /**
   * Writes `values` into the tensor's own buffer. On wasm, XNNPACK keeps a packed copy of a filter (and
   * bias) per buffer id, made when a convolution first used it, and frees it when that id is disposed: so
   * the buffer's id is retired (which frees those copies, as disposing the tensor would) and the same
   * memory registered under a new one. Cheaper than `assign`, which allocates a tensor per variable.
   */
  overwrite(t: TensorInfo, values: Float32Array): void {
    this.view(t).set(values);
    if (this.backendName !== 'wasm') return;
    const wasm = this.backend as unknown as {
      dataIdNextNumber: number;
      dataIdMap: { get(id: object): { id: number; memoryOffset: number } | undefined };
      wasm: { tfjs: { disposeData(id: number): void; registerTensor(id: number, size: number, offset: number): void } };
    };
    const data = wasm.dataIdMap.get(t.dataId);
    if (!data) throw new Error('direct step: overwriting a tensor the backend does not hold');
    wasm.wasm.tfjs.disposeData(data.id);
    data.id = wasm.dataIdNextNumber++;
    wasm.wasm.tfjs.registerTensor(data.id, values.length, data.memoryOffset);
  }

  /** How many tensors share this data (1: only its owner). */
  refCount(dataId: object): number {
    return this.backend.refCount(dataId);
  }

  /** Buffers the backend holds (a step must leave this unchanged). */
  dataIds(): number {
    return this.backend.numDataIds();
  }
}

/** A variable's current value as a kernel input (assign() replaces its data, so read it at each use). */
function valueOf(variable: tf.Variable): TensorInfo {
  return { dataId: variable.dataId, shape: variable.shape, dtype: 'float32' };
}

const reshaped = (t: TensorInfo, shape: number[]): TensorInfo => ({ dataId: t.dataId, shape, dtype: t.dtype });
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Everything a step allocates, freed together at its end. */
class Scope {
  private readonly owned: TensorInfo[] = [];
  constructor(readonly k: KernelAccess) {}

  keep<T extends TensorInfo>(t: T): T {
    this.owned.push(t);
    return t;
  }

  run(name: string, inputs: Record<string, TensorInfo>, attrs?: NamedAttrMap): TensorInfo {
    return this.keep(this.k.run(name, inputs, attrs));
  }

  upload(data: Float32Array, shape: number[]): TensorInfo {
    return this.keep(this.k.upload(data, shape));
  }

  zeros(shape: number[]): TensorInfo {
    return this.keep(this.k.zeros(shape));
  }

  end(): void {
    for (const t of this.owned) this.k.free(t);
    this.owned.length = 0;
  }
}

// ---- activations -----------------------------------------------------------------------

type Activation = 'linear' | 'relu' | 'sigmoid';

/** dz = f′(·) ⊙ dy in place, from the activation's output y (the cpu backend's path; wasm runs LeNetLabActivationGrad). */
export function activationGradInPlace(activation: Activation, y: Float32Array, dy: Float32Array): void {
  const n = dy.length;
  if (activation === 'relu') {
    for (let i = 0; i < n; i++) if (!(y[i]! > 0)) dy[i] = 0;
  } else if (activation === 'sigmoid') {
    for (let i = 0; i < n; i++) {
      const v = y[i]!;
      dy[i] = dy[i]! * v * (1 - v);
    }
  }
}

const ACTIVATION_KERNELS: Record<Exclude<Activation, 'linear'>, string> = { relu: 'Relu', sigmoid: 'Sigmoid' };

/** LeNet Lab's wasm kernel for the same arithmetic in SIMD (ACTIVATION_GRAD_KERNEL of wasm-kernels.ts; not imported: that module loads the wasm backend). */
const ACTIVATION_GRAD_KERNEL = 'LeNetLabActivationGrad';

/** The gradient through the activation whose output is `y`: a new tensor where the backend has the kernel, else dy changed in place. */
function activationGrad(s: Scope, activation: Activation, y: TensorInfo, dy: TensorInfo): TensorInfo {
  if (activation === 'linear') return dy;
  if (s.k.has(ACTIVATION_GRAD_KERNEL)) return s.run(ACTIVATION_GRAD_KERNEL, { y, dy }, { activation });
  activationGradInPlace(activation, s.k.view(y), s.k.view(dy));
  return dy;
}

// ---- the ops -----------------------------------------------------------------------------

/** Where one trainable variable's gradient goes in the flat gradient array. */
interface Parameter { variable: tf.Variable; offset: number }

interface Op {
  /** Runs the layer on `x` (allocating in `s`), keeping what its backward needs. */
  forward(s: Scope, x: TensorInfo): TensorInfo;
  /** The gradient of the input (null when `needInput` is false), adding parameter gradients into `grads`. */
  backward(s: Scope, dy: TensorInfo, needInput: boolean, grads: Float32Array): TensorInfo | null;
}

/** Writes a gradient tensor's values at `p.offset` of `grads`. */
function store(s: Scope, p: Parameter, grad: TensorInfo, grads: Float32Array): void {
  grads.set(s.k.view(grad), p.offset);
}

interface ConvConfig { strides: [number, number]; padding: 'valid' | 'same'; activation: Activation }

/** A 2-D NHWC convolution with bias and activation; `mask` (C3 of lenet5) zeroes removed links of the kernel and its gradient. */
class ConvOp implements Op {
  private x!: TensorInfo;
  private y!: TensorInfo;
  private filter!: TensorInfo;

  constructor(private readonly kernel: Parameter, private readonly bias: Parameter | null, private readonly config: ConvConfig,
    private readonly mask: Float32Array | null, private readonly fused: boolean, private readonly matMul: boolean) {}

  private attrs(): NamedAttrMap {
    return { strides: this.config.strides, pad: this.config.padding, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined as unknown as string };
  }

  /**
   * Whether this convolution's window covers its whole input (C5 on 5×5 maps): then it is a matrix
   * product of the flattened images [n, h·w·c] with the filter [h·w·c, maps] (both layouts flatten alike).
   */
  private asProduct(x: TensorInfo): boolean {
    const [kh, kw] = this.kernel.variable.shape as [number, number, number, number];
    return this.matMul && !this.mask && this.config.padding === 'valid' && x.shape[1] === kh && x.shape[2] === kw;
  }

  forward(s: Scope, x: TensorInfo): TensorInfo {
    this.x = x;
    if (this.asProduct(x)) return this.forwardAsProduct(s, x);
    let filter = valueOf(this.kernel.variable);
    if (this.mask) {
      const masked = s.upload(s.k.view(filter), [...filter.shape]);
      const w = s.k.view(masked), mask = this.mask;
      for (let i = 0; i < w.length; i++) w[i] = w[i]! * mask[i]!;
      filter = masked;
    }
    this.filter = filter;
    const activation = this.config.activation;
    // With one input channel (C1), wasm's FusedConv2D is LeNet Lab's own loop, the bias and ReLU added as it stores.
    if (this.fused) {
      const inputs: Record<string, TensorInfo> = { x, filter };
      if (this.bias) inputs['bias'] = valueOf(this.bias.variable);
      this.y = s.run('FusedConv2D', inputs, { ...this.attrs(), activation });
      return this.y;
    }
    let y = s.run('Conv2D', { x, filter }, this.attrs());
    if (this.bias) y = s.run('Add', { a: y, b: valueOf(this.bias.variable) });
    if (activation !== 'linear') y = s.run(ACTIVATION_KERNELS[activation], { x: y });
    this.y = y;
    return y;
  }

  private forwardAsProduct(s: Scope, x: TensorInfo): TensorInfo {
    const [kh, kw, ci, co] = this.kernel.variable.shape as [number, number, number, number];
    const n = x.shape[0]!, k = kh * kw * ci;
    this.filter = valueOf(this.kernel.variable);
    const activation = this.config.activation;
    // Our wasm product fuses a bias and ReLU; a sigmoid follows as its own kernel.
    const inputs: Record<string, TensorInfo> = { a: reshaped(x, [1, n, k]), b: reshaped(this.filter, [1, k, co]) };
    if (this.bias) inputs['bias'] = valueOf(this.bias.variable);
    let y = s.run('_FusedMatMul', inputs, { transposeA: false, transposeB: false, activation: activation === 'sigmoid' ? 'linear' : activation });
    if (activation === 'sigmoid') y = s.run('Sigmoid', { x: y });
    this.y = reshaped(y, [n, 1, 1, co]);
    return this.y;
  }

  backward(s: Scope, dy: TensorInfo, needInput: boolean, grads: Float32Array): TensorInfo | null {
    dy = activationGrad(s, this.config.activation, this.y, dy);
    if (this.asProduct(this.x)) return this.backwardAsProduct(s, dy, needInput, grads);
    if (this.bias) store(s, this.bias, s.run('Sum', { x: dy }, { axis: [0, 1, 2], keepDims: false }), grads);
    const filterShape = [...this.filter.shape];
    const dW = s.run('Conv2DBackpropFilter', { x: this.x, dy }, { ...this.attrs(), filterShape });
    const dWView = s.k.view(dW);
    if (this.mask) for (let i = 0; i < dWView.length; i++) dWView[i] = dWView[i]! * this.mask[i]!;
    store(s, this.kernel, dW, grads);
    if (!needInput) return null;
    return s.run('Conv2DBackpropInput', { dy, filter: this.filter }, { ...this.attrs(), inputShape: [...this.x.shape] });
  }

  private backwardAsProduct(s: Scope, dy: TensorInfo, needInput: boolean, grads: Float32Array): TensorInfo | null {
    const [kh, kw, ci, co] = this.kernel.variable.shape as [number, number, number, number];
    const n = this.x.shape[0]!, k = kh * kw * ci;
    const dz = reshaped(dy, [1, n, co]);
    if (this.bias) store(s, this.bias, s.run('Sum', { x: reshaped(dy, [n, co]) }, { axis: [0], keepDims: false }), grads);
    store(s, this.kernel, s.run('BatchMatMul', { a: reshaped(this.x, [1, n, k]), b: dz }, { transposeA: true, transposeB: false }), grads);
    if (!needInput) return null;
    const dx = s.run('BatchMatMul', { a: dz, b: reshaped(this.filter, [1, k, co]) }, { transposeA: false, transposeB: true });
    return reshaped(dx, [...this.x.shape]);
  }
}

/** A dense layer: y = f(x·W + b). */
class DenseOp implements Op {
  private x!: TensorInfo;
  private y!: TensorInfo;

  constructor(private readonly kernel: Parameter, private readonly bias: Parameter | null, private readonly activation: Activation,
    private readonly fused: boolean) {}

  forward(s: Scope, x: TensorInfo): TensorInfo {
    const [n, k] = x.shape as [number, number];
    const units = this.kernel.variable.shape[1]!;
    this.x = x;
    const a = reshaped(x, [1, n, k]), b = reshaped(valueOf(this.kernel.variable), [1, k, units]);
    let y: TensorInfo;
    if (this.fused) {
      const inputs: Record<string, TensorInfo> = { a, b };
      if (this.bias) inputs['bias'] = valueOf(this.bias.variable);
      y = reshaped(s.run('_FusedMatMul', inputs, { transposeA: false, transposeB: false, activation: this.activation }), [n, units]);
    } else {
      y = reshaped(s.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }), [n, units]);
      if (this.bias) y = s.run('Add', { a: y, b: valueOf(this.bias.variable) });
      if (this.activation !== 'linear') y = s.run(ACTIVATION_KERNELS[this.activation], { x: y });
    }
    this.y = y;
    return y;
  }

  backward(s: Scope, dy: TensorInfo, needInput: boolean, grads: Float32Array): TensorInfo | null {
    dy = activationGrad(s, this.activation, this.y, dy);
    const [n, k] = this.x.shape as [number, number];
    const units = dy.shape[1]!;
    if (this.bias) store(s, this.bias, s.run('Sum', { x: dy }, { axis: [0], keepDims: false }), grads);
    const dz = reshaped(dy, [1, n, units]);
    store(s, this.kernel, s.run('BatchMatMul', { a: reshaped(this.x, [1, n, k]), b: dz }, { transposeA: true, transposeB: false }), grads);
    if (!needInput) return null;
    const w = reshaped(valueOf(this.kernel.variable), [1, k, units]);
    return reshaped(s.run('BatchMatMul', { a: dz, b: w }, { transposeA: false, transposeB: true }), [n, k]);
  }
}

/** Max or average pooling, `size`×`size` windows with stride `stride`, valid padding. */
class PoolOp implements Op {
  private x!: TensorInfo;
  private y!: TensorInfo;

  constructor(private readonly kind: 'max' | 'avg', private readonly size: [number, number], private readonly stride: [number, number]) {}

  private attrs(): NamedAttrMap {
    return { filterSize: this.size, strides: this.stride, pad: 'valid', dimRoundingMode: undefined as unknown as string };
  }

  forward(s: Scope, x: TensorInfo): TensorInfo {
    this.x = x;
    this.y = s.run(this.kind === 'max' ? 'MaxPool' : 'AvgPool', { x }, this.attrs());
    return this.y;
  }

  backward(s: Scope, dy: TensorInfo, needInput: boolean): TensorInfo | null {
    if (!needInput) return null;
    return this.kind === 'max'
      ? s.run('MaxPoolGrad', { dy, input: this.x, output: this.y }, this.attrs())
      : s.run('AvgPoolGrad', { dy, input: this.x }, this.attrs());
  }
}

class FlattenOp implements Op {
  private shape!: number[];

  forward(_s: Scope, x: TensorInfo): TensorInfo {
    this.shape = [...x.shape];
    return reshaped(x, [x.shape[0]!, sizeOf(x.shape.slice(1))]);
  }

  backward(_s: Scope, dy: TensorInfo, needInput: boolean): TensorInfo | null {
    return needInput ? reshaped(dy, this.shape) : null;
  }
}

/** LeNet-5's squashing function f(a) = A·tanh(S·a); f'(a) = (S/A)(A² − f²). */
class ScaledTanhOp implements Op {
  private y!: TensorInfo;
  private scaleIn: TensorInfo | null = null;
  private scaleOut: TensorInfo | null = null;

  forward(s: Scope, x: TensorInfo): TensorInfo {
    this.scaleIn = s.upload(Float32Array.of(SCALED_TANH_S), []);
    this.scaleOut = s.upload(Float32Array.of(SCALED_TANH_A), []);
    const t = s.run('Tanh', { x: s.run('Multiply', { a: x, b: this.scaleIn }) });
    this.y = s.run('Multiply', { a: t, b: this.scaleOut });
    return this.y;
  }

  backward(s: Scope, dy: TensorInfo, needInput: boolean): TensorInfo | null {
    if (!needInput) return null;
    const y = s.k.view(this.y), d = s.k.view(dy);
    const a2 = SCALED_TANH_A * SCALED_TANH_A, k = SCALED_TANH_S / SCALED_TANH_A;
    for (let i = 0; i < d.length; i++) {
      const v = y[i]!;
      d[i] = d[i]! * k * (a2 - v * v);
    }
    return dy;
  }
}

/** LeNet-5's trainable subsampling: y = 4·avgPool₂ₓ₂(x)·coef[c] + bias[c]. */
class SubsamplingOp implements Op {
  private x!: TensorInfo;
  private pooled!: TensorInfo;

  constructor(private readonly coefficient: Parameter, private readonly bias: Parameter) {}

  private static readonly ATTRS: NamedAttrMap = { filterSize: [2, 2], strides: [2, 2], pad: 'valid', dimRoundingMode: undefined as unknown as string };

  forward(s: Scope, x: TensorInfo): TensorInfo {
    this.x = x;
    this.pooled = s.run('AvgPool', { x }, SubsamplingOp.ATTRS);
    const y = s.zeros([...this.pooled.shape]);
    const p = s.k.view(this.pooled), out = s.k.view(y);
    const coef = s.k.view(valueOf(this.coefficient.variable)), bias = s.k.view(valueOf(this.bias.variable));
    const c = coef.length;
    for (let i = 0; i < p.length; i++) {
      const m = i % c;
      out[i] = Math.fround(Math.fround(p[i]! * 4) * coef[m]!) + bias[m]!;
    }
    return y;
  }

  backward(s: Scope, dy: TensorInfo, needInput: boolean, grads: Float32Array): TensorInfo | null {
    const dp = s.zeros([...dy.shape]);
    const p = s.k.view(this.pooled), d = s.k.view(dy), dpv = s.k.view(dp);
    const coef = s.k.view(valueOf(this.coefficient.variable));
    const c = coef.length;
    const dCoef = new Float64Array(c), dBias = new Float64Array(c);
    for (let i = 0; i < d.length; i++) {
      const m = i % c, g = d[i]!;
      dCoef[m] = dCoef[m]! + g * 4 * p[i]!;
      dBias[m] = dBias[m]! + g;
      dpv[i] = g * 4 * coef[m]!;
    }
    for (let m = 0; m < c; m++) {
      grads[this.coefficient.offset + m] = dCoef[m]!;
      grads[this.bias.offset + m] = dBias[m]!;
    }
    if (!needInput) return null;
    return s.run('AvgPoolGrad', { dy: dp, input: this.x }, SubsamplingOp.ATTRS);
  }
}

/**
 * The RBF heads on the last layer's [n, m] input against `units` prototypes w [units, m]:
 * d_i = Σ_j (x_j − w_ij)², output d (lenet5's fixed bitmaps) or exp(−d / 2σ²) (the lesson's Gaussian
 * head, with trainable centres).
 */
class RbfOp implements Op {
  private x!: Float32Array;
  private out!: Float32Array;
  private n = 0;

  constructor(private readonly prototypes: tf.Variable, private readonly gaussian: { sigma: number; centres: Parameter } | null) {}

  forward(s: Scope, x: TensorInfo): TensorInfo {
    const [n, m] = x.shape as [number, number];
    const units = this.prototypes.shape[0]!;
    this.n = n;
    this.x = s.k.view(x).slice();
    const w = s.k.view(valueOf(this.prototypes));
    const out = new Float32Array(n * units);
    const factor = this.gaussian ? -1 / (2 * this.gaussian.sigma * this.gaussian.sigma) : 0;
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < units; i++) {
        let d = 0;
        for (let j = 0; j < m; j++) {
          const e = this.x[b * m + j]! - w[i * m + j]!;
          d += e * e;
        }
        out[b * units + i] = this.gaussian ? Math.exp(d * factor) : d;
      }
    }
    this.out = out;
    return s.upload(out, [n, units]);
  }

  backward(s: Scope, dy: TensorInfo, needInput: boolean, grads: Float32Array): TensorInfo | null {
    const n = this.n, units = this.prototypes.shape[0]!, m = this.prototypes.shape[1]!;
    const w = s.k.view(valueOf(this.prototypes)).slice();
    const d = s.k.view(dy);
    // g_i = ∂L/∂d_i.
    const g = new Float32Array(n * units);
    if (this.gaussian) {
      const factor = -1 / (2 * this.gaussian.sigma * this.gaussian.sigma);
      for (let i = 0; i < g.length; i++) g[i] = d[i]! * this.out[i]! * factor;
      const offset = this.gaussian.centres.offset;
      grads.fill(0, offset, offset + units * m);
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < units; i++) {
          const gi = 2 * g[b * units + i]!;
          for (let j = 0; j < m; j++) grads[offset + i * m + j] = grads[offset + i * m + j]! - gi * (this.x[b * m + j]! - w[i * m + j]!);
        }
      }
    } else {
      g.set(d);
    }
    if (!needInput) return null;
    const dx = new Float32Array(n * m);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < units; i++) {
        const gi = 2 * g[b * units + i]!;
        for (let j = 0; j < m; j++) dx[b * m + j] = dx[b * m + j]! + gi * (this.x[b * m + j]! - w[i * m + j]!);
      }
    }
    return s.upload(dx, [n, m]);
  }
}

// ---- the model, as ops ------------------------------------------------------------------

interface LayerReading {
  className: string;
  config: Record<string, unknown>;
  weights: Map<string, tf.Variable>;
}

function readLayer(layer: tfl.layers.Layer): LayerReading {
  const weights = new Map<string, tf.Variable>();
  for (const w of layer.weights) weights.set(w.name.split('/').pop()!.replace(/_\d+$/, ''), w.read() as tf.Variable);
  return { className: layer.getClassName(), config: layer.getConfig() as Record<string, unknown>, weights };
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);

/**
 * The op for one layer, or undefined when the step does not know the layer (then the model trains on the
 * tape). A new layer kind of common/network/ needs its case here and its gradient test.
 */
function opFor(layer: LayerReading, parameter: (v: tf.Variable) => Parameter, k: KernelAccess): Op | null | undefined {
  const { className, config, weights } = layer;
  const activation = (): Activation | undefined => {
    const a = config['activation'] ?? 'linear';
    return a === 'linear' || a === 'relu' || a === 'sigmoid' ? a : undefined;
  };
  const plainConv = (): boolean => config['dataFormat'] === 'channelsLast' && pair(config['dilationRate']).every((d) => d === 1)
    && (config['padding'] === 'valid' || config['padding'] === 'same');
  switch (className) {
    case 'InputLayer': return null;
    case 'Conv2D': {
      const act = activation();
      const kernel = weights.get('kernel');
      if (!act || !kernel || !plainConv()) return undefined;
      const bias = weights.get('bias');
      return new ConvOp(parameter(kernel), bias ? parameter(bias) : null,
        { strides: pair(config['strides']), padding: config['padding'] as 'valid' | 'same', activation: act }, null, k.has('FusedConv2D'),
        k.has('_FusedMatMul'));
    }
    case 'MaskedConv2D': {
      const kernel = weights.get('kernel'), bias = weights.get('bias');
      const connections = config['connections'] as number[][];
      if (!kernel || !bias) return undefined;
      const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
      const mask = new Float32Array(kh * kw * ci * co);
      for (let t = 0; t < kh * kw; t++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) mask[(t * ci + i) * co + o] = connections[i]![o]!;
      return new ConvOp(parameter(kernel), parameter(bias), { strides: [1, 1], padding: 'valid', activation: 'linear' }, mask, k.has('FusedConv2D'), false);
    }
    case 'Dense': {
      const act = activation();
      const kernel = weights.get('kernel');
      if (!act || !kernel) return undefined;
      const bias = weights.get('bias');
      return new DenseOp(parameter(kernel), bias ? parameter(bias) : null, act, k.has('_FusedMatMul'));
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      if (config['padding'] !== 'valid' || config['dataFormat'] !== 'channelsLast') return undefined;
      return new PoolOp(className === 'MaxPooling2D' ? 'max' : 'avg', pair(config['poolSize']), pair(config['strides'] ?? config['poolSize']));
    case 'Flatten': return new FlattenOp();
    case 'ScaledTanh': return new ScaledTanhOp();
    case 'TrainableSubsampling': {
      const coefficient = weights.get('coefficient'), bias = weights.get('bias');
      return coefficient && bias ? new SubsamplingOp(parameter(coefficient), parameter(bias)) : undefined;
    }
    case 'RbfOutput': {
      const prototypes = weights.get('prototypes');
      return prototypes ? new RbfOp(prototypes, null) : undefined;
    }
    case 'GaussianRbf': {
      const centres = weights.get('centres');
      return centres ? new RbfOp(centres, { sigma: Number(config['sigma']), centres: parameter(centres) }) : undefined;
    }
    default: return undefined;
  }
}

/** A weight the ops would train that the model does not (a frozen layer): such a model trains on the tape. */
class FrozenWeight extends Error {}

/** One batch's loss, class probabilities and flat gradient. */
export interface GradientResult { loss: number; probabilities: Float32Array }

export class DirectStep {
  private constructor(private readonly k: KernelAccess, private readonly ops: Op[], private readonly spec: Pick<VariantSpec, 'loss'>,
    private readonly inputShape: [number, number, number]) {}

  /**
   * The direct step for `model`, whose trainable variables are `variables` with flat offsets `offsets`, or
   * null when the backend or one of its layers is not one the step knows.
   */
  static forModel(model: tfl.LayersModel, spec: Pick<VariantSpec, 'loss'>, variables: tf.Variable[], offsets: number[]): DirectStep | null {
    const k = KernelAccess.current();
    if (!k || spec.loss === 'softmax-ce') return null;
    const offsetOf = new Map(variables.map((v, i) => [v, offsets[i]!]));
    const parameter = (v: tf.Variable): Parameter => {
      const offset = offsetOf.get(v);
      if (offset === undefined) throw new FrozenWeight();
      return { variable: v, offset };
    };
    const ops: Op[] = [];
    for (const layer of model.layers) {
      if (layer.inboundNodes.length !== 1 || layer.inboundNodes[0]!.inboundLayers.length > 1) return null;
      let op: Op | null | undefined;
      try {
        op = opFor(readLayer(layer), parameter, k);
      } catch (e) {
        if (e instanceof FrozenWeight) return null;
        throw e;
      }
      if (op === undefined) return null;
      if (op) ops.push(op);
    }
    const inputShape = model.inputs[0]!.shape.slice(1) as [number, number, number];
    return new DirectStep(k, ops, spec, inputShape);
  }

  /**
   * Forward and backward over `n` images `input` [n, h, w, c] with `labels`: the mean loss, the class
   * probabilities, and every variable's gradient written into `grads` at its offset.
   */
  compute(input: Float32Array, labels: Uint8Array, n: number, classes: number, grads: Float32Array): GradientResult {
    const s = new Scope(this.k);
    try {
      let x = s.upload(input.subarray(0, n * sizeOf(this.inputShape)), [n, ...this.inputShape]);
      for (const op of this.ops) x = op.forward(s, x);
      const { loss, probabilities, dOut } = softmaxCrossEntropy(this.spec.loss === 'rbf-map', s.k.view(x), labels, n, classes);
      let dy: TensorInfo | null = s.upload(dOut, [...x.shape]);
      for (let i = this.ops.length - 1; i >= 0 && dy; i--) dy = this.ops[i]!.backward(s, dy, i > 0, grads);
      return { loss, probabilities };
    } finally {
      s.end();
    }
  }
}

/**
 * Mean softmax cross-entropy of the outputs `out` [n, classes] (logits, or RBF distances read as logits
 * −d / RBF_TEMPERATURE), the probabilities, and ∂loss/∂out.
 */
export function softmaxCrossEntropy(rbf: boolean, out: Float32Array, labels: Uint8Array, n: number, classes: number):
  { loss: number; probabilities: Float32Array; dOut: Float32Array } {
  const probabilities = new Float32Array(n * classes);
  const dOut = new Float32Array(n * classes);
  const scale = rbf ? -1 / RBF_TEMPERATURE : 1;
  let loss = 0;
  for (let b = 0; b < n; b++) {
    const row = b * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, out[row + c]! * scale);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(out[row + c]! * scale - max);
    const logSum = Math.log(sum) + max;
    loss -= out[row + labels[b]!]! * scale - logSum;
    for (let c = 0; c < classes; c++) {
      const p = Math.exp(out[row + c]! * scale - logSum);
      probabilities[row + c] = p;
      dOut[row + c] = ((p - (c === labels[b] ? 1 : 0)) / n) * scale;
    }
  }
  return { loss: loss / n, probabilities, dOut };
}
