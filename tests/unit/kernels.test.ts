// Every custom kernel (wasm and cpu) against the cpu backend's own kernels, on random
// inputs, for each shape/stride/padding LeNet uses and some odd ones.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
// Gradients are registered by tfjs-layers or this side-effect import; the tests need tf.grads.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import {
  ACTIVATION_GRAD_KERNEL, registerWasmTrainingKernels, setConvLoopsEnabled, setFilterGradRoute, setOwnMatMulEnabled, setWasmSimdLoopsEnabled,
} from '../../engine/backends/wasm-kernels.js';
import { cpuOriginalKernel, registerCpuTrainingKernels, unregisterCpuTrainingKernels } from '../../engine/backends/cpu-kernels.js';
import { WASM_DIR_ENV, activeBackend, initBackend, wasmBinaryDir } from '../../engine/backends/ladder.js';
import { isUserError } from '../../common/errors.js';
import {
  INPUT_GRAD_MAX_ROW_FLOATS, convFilterGradFits, convForwardFits, convInputGradFits, createConvFilterGrad, createConvForward, createConvInputGrad,
  forgetCompiledSimdModules, inputGradRowFloats, relaxedSimdSupported, setRelaxedSimdEnabled, transposeFilterForInputGrad, type ConvShape,
} from '../../engine/backends/wasm-simd.js';
import { VARIANTS, lossFor } from '../../common/network/variants.js';
import { VARIANT_NAMES } from '../../common/protocol.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

// ---- helpers -----------------------------------------------------------------------

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
function random(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Input { values: Float32Array; shape: number[] }

/**
 * The kernel set under test: 'wasm' (with the SIMD loops), 'wasm-js' (the same kernels with
 * their JavaScript loops) or 'cpu'.
 */
type Target = 'wasm' | 'wasm-js' | 'cpu';

/** Runs a kernel through the engine on the target's backend (whatever is registered there now). */
async function runRegistered(target: Target, kernel: string, inputs: Record<string, Input>, attrs: NamedAttrMap) {
  setWasmSimdLoopsEnabled(target !== 'wasm-js');
  try {
    return await runOn(target === 'cpu' ? 'cpu' : 'wasm', kernel, inputs, attrs);
  } finally {
    setWasmSimdLoopsEnabled(true);
  }
}

async function runOn(backend: string, kernel: string, inputs: Record<string, Input>, attrs: NamedAttrMap) {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.values, v.shape, 'float32');
  const out = tf.engine().runKernel(kernel, tensors, attrs) as tf.Tensor;
  const result = { values: (await out.data()) as Float32Array, shape: out.shape };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

/** Runs the cpu backend's original kernel function directly (ours may be registered over it). */
async function runCpuReference(kernel: string, inputs: Record<string, Input>, attrs: NamedAttrMap) {
  await tf.setBackend('cpu');
  const original = cpuOriginalKernel(kernel) as KernelFunc;
  const backend = tf.backend();
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.values, v.shape, 'float32');
  const out = original({ inputs: tensors, attrs, backend }) as TensorInfo;
  const result = { values: backend.readSync(out.dataId) as Float32Array, shape: out.shape };
  backend.disposeData(out.dataId);
  tf.dispose(Object.values(tensors));
  return result;
}

/** |actual − expected| ≤ 1e-4·(|expected| + max|expected|), element by element. */
function expectClose(actual: { values: Float32Array; shape: number[] }, expected: { values: Float32Array; shape: number[] }) {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.values.length).toBe(expected.values.length);
  let scale = 0;
  for (const v of expected.values) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let worst = 0, worstAt = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const e = expected.values[i]!, a = actual.values[i]!;
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const excess = Math.abs(a - e) - 1e-4 * (Math.abs(e) + scale);
    if (!(excess <= worst)) { worst = Number.isNaN(excess) ? Infinity : excess; worstAt = i; }
  }
  if (worstAt >= 0) {
    expect.fail(`element ${worstAt}: got ${actual.values[worstAt]}, expected ${expected.values[worstAt]} (scale ${scale})`);
  }
}

// ---- cases -------------------------------------------------------------------------

interface ConvCase { name: string; x: Shape4; filter: Shape4; strides: number | [number, number]; pad: Pad }

const B = 16;
const CONV_CASES: ConvCase[] = [
  { name: 'LeNet C1 [B,32,32,1]*[5,5,1,6] valid', x: [B, 32, 32, 1], filter: [5, 5, 1, 6], strides: 1, pad: 'valid' },
  { name: 'LeNet C3 [B,14,14,6]*[5,5,6,16] valid', x: [B, 14, 14, 6], filter: [5, 5, 6, 16], strides: 1, pad: 'valid' },
  { name: 'LeNet C5 [B,5,5,16]*[5,5,16,120] valid', x: [B, 5, 5, 16], filter: [5, 5, 16, 120], strides: 1, pad: 'valid' },
  { name: 'C1 with batch 1', x: [1, 32, 32, 1], filter: [5, 5, 1, 6], strides: 1, pad: 'valid' },
  { name: 'C5 with batch 1', x: [1, 5, 5, 16], filter: [5, 5, 16, 120], strides: 1, pad: 'valid' },
  { name: 'C3 with batch 1', x: [1, 14, 14, 6], filter: [5, 5, 6, 16], strides: 1, pad: 'valid' },
  { name: 'several channels, 4 maps, non-square filter', x: [2, 6, 7, 5], filter: [3, 2, 5, 4], strides: 1, pad: 'valid' },
  { name: 'several channels, 12 maps (three vectors)', x: [3, 12, 12, 4], filter: [5, 5, 4, 12], strides: 1, pad: 'valid' },
  { name: "several channels, 20 maps (past the filter-gradient loop's 16)", x: [2, 6, 6, 3], filter: [3, 3, 3, 20], strides: 1, pad: 'valid' },
  { name: 'several channels, 6 maps (not a multiple of 4)', x: [2, 6, 6, 3], filter: [3, 3, 3, 6], strides: 1, pad: 'valid' },
  { name: "28×28 input, 'same' padding (C1 on unpadded digits)", x: [3, 28, 28, 1], filter: [5, 5, 1, 6], strides: 1, pad: 'same' },
  { name: "stride 2, 'same', odd sizes", x: [3, 9, 11, 4], filter: [3, 3, 4, 5], strides: 2, pad: 'same' },
  { name: 'stride 2, valid, trailing rows unused', x: [2, 10, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: 'stride [2,1], non-square filter, batch 1', x: [1, 8, 13, 2], filter: [3, 5, 2, 3], strides: [2, 1], pad: 'valid' },
  { name: 'explicit asymmetric padding', x: [2, 7, 6, 3], filter: [4, 3, 3, 2], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { name: '1×1 filter', x: [2, 4, 5, 7], filter: [1, 1, 7, 3], strides: 1, pad: 'valid' },
  { name: "window covers the input with 'same' padding", x: [2, 5, 5, 3], filter: [5, 5, 3, 4], strides: 1, pad: 'same' },
];

function convOutShape(c: ConvCase): Shape4 {
  return tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad).outShape;
}

interface PoolCase { name: string; x: Shape4; filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same'; ties?: boolean }

const POOL_CASES: PoolCase[] = [
  { name: 'LeNet S2 [B,28,28,6] 2×2/2', x: [B, 28, 28, 6], filterSize: 2, strides: 2, pad: 'valid' },
  { name: 'LeNet S4 [B,10,10,16] 2×2/2', x: [B, 10, 10, 16], filterSize: 2, strides: 2, pad: 'valid' },
  { name: 'S2 with ties (ReLU-like zeros, repeated values)', x: [4, 28, 28, 6], filterSize: 2, strides: 2, pad: 'valid', ties: true },
  { name: 'batch 1', x: [1, 10, 10, 16], filterSize: 2, strides: 2, pad: 'valid' },
  { name: "2×2/2 'same' on odd sizes", x: [2, 5, 7, 3], filterSize: 2, strides: 2, pad: 'same' },
  { name: "overlapping 3×3/2 'same'", x: [2, 7, 9, 3], filterSize: 3, strides: 2, pad: 'same', ties: true },
  { name: 'overlapping 3×3/1 valid, non-square', x: [2, 6, 8, 2], filterSize: [3, 2], strides: 1, pad: 'valid' },
];

function poolInput(c: PoolCase, seed: number): Float32Array {
  const v = random(size(c.x), seed);
  // Quantised with many zeros: maxima tie often, so the tie rule is exercised.
  if (c.ties) for (let i = 0; i < v.length; i++) v[i] = Math.max(0, Math.round(v[i]! * 2) / 2);
  return v;
}

// ---- setup -------------------------------------------------------------------------

beforeAll(async () => {
  setWasmPaths(wasmBinaryDir() + path.sep);
  registerWasmTrainingKernels();
  registerCpuTrainingKernels();
  expect(await tf.setBackend('cpu')).toBe(true);
  expect(await tf.setBackend('wasm')).toBe(true);
});

// ---- kernel tests ------------------------------------------------------------------

for (const backend of ['wasm', 'wasm-js', 'cpu'] as const) {
  describe(`${backend}: Conv2DBackpropFilter matches the cpu reference`, () => {
    const routes = backend === 'wasm' ? (['auto', 'loops', 'im2col', 'convolution'] as const)
      : backend === 'wasm-js' ? (['auto', 'im2col', 'convolution'] as const) : (['auto'] as const);
    for (const c of CONV_CASES) {
      for (const route of routes) {
        it(`${c.name}${route === 'auto' ? '' : ` (${route} route)`}`, async () => {
          const inputs = { x: { values: random(size(c.x), 1), shape: c.x }, dy: { values: random(size(convOutShape(c)), 2), shape: convOutShape(c) } };
          const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.filter } as unknown as NamedAttrMap;
          if (backend !== 'cpu') setFilterGradRoute(route);
          try {
            expectClose(await runRegistered(backend, 'Conv2DBackpropFilter', inputs, attrs), await runCpuReference('Conv2DBackpropFilter', inputs, attrs));
          } finally {
            setFilterGradRoute('auto');
          }
        });
      }
    }
  });

  describe(`${backend}: Conv2DBackpropFilter with channels-first (NCHW) tensors`, () => {
    it('C3 shape, stride 1 valid, and stride 2 same', async () => {
      for (const [x, filter, strides, pad] of [
        [[3, 6, 14, 14], [5, 5, 6, 16], 1, 'valid'],
        [[2, 4, 9, 11], [3, 3, 4, 5], 2, 'same'],
      ] as [Shape4, Shape4, number, Pad][]) {
        const nhwc: Shape4 = [x[0], x[2], x[3], x[1]];
        const out = convOutShape({ name: '', x: nhwc, filter, strides, pad });
        const dyShape = [out[0], out[3], out[1], out[2]];
        const inputs = { x: { values: random(size(x), 16), shape: x }, dy: { values: random(size(dyShape), 17), shape: dyShape } };
        const attrs = { strides, pad, dataFormat: 'NCHW', dimRoundingMode: undefined, filterShape: filter } as unknown as NamedAttrMap;
        expectClose(await runRegistered(backend, 'Conv2DBackpropFilter', inputs, attrs), await runCpuReference('Conv2DBackpropFilter', inputs, attrs));
      }
    });
  });

  describe(`${backend}: Conv2DBackpropInput matches the cpu reference`, () => {
    for (const c of CONV_CASES) {
      it(c.name, async () => {
        const inputs = { dy: { values: random(size(convOutShape(c)), 3), shape: convOutShape(c) }, filter: { values: random(size(c.filter), 4), shape: c.filter } };
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x } as unknown as NamedAttrMap;
        expectClose(await runRegistered(backend, 'Conv2DBackpropInput', inputs, attrs), await runCpuReference('Conv2DBackpropInput', inputs, attrs));
      });
    }
  });

  describe(`${backend}: MaxPoolGrad matches the cpu reference`, () => {
    for (const c of POOL_CASES) {
      it(c.name, async () => {
        const x = poolInput(c, 5);
        // The forward output, from the cpu backend, is an input of the gradient kernel.
        await tf.setBackend('cpu');
        const y = tf.maxPool(tf.tensor(x, c.x) as tf.Tensor4D, c.filterSize, c.strides, c.pad);
        const inputs = { dy: { values: random(size(y.shape), 6), shape: y.shape }, input: { values: x, shape: c.x }, output: { values: y.dataSync() as Float32Array, shape: y.shape } };
        y.dispose();
        const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: undefined } as unknown as NamedAttrMap;
        expectClose(await runRegistered(backend, 'MaxPoolGrad', inputs, attrs), await runCpuReference('MaxPoolGrad', inputs, attrs));
      });
    }
  });

  describe(`${backend}: AvgPoolGrad matches the cpu reference`, () => {
    for (const c of POOL_CASES) {
      it(c.name, async () => {
        const outShape = tf.backend_util.computePool2DInfo(c.x, c.filterSize, c.strides, 1, c.pad).outShape;
        const inputs = { dy: { values: random(size(outShape), 7), shape: outShape }, input: { values: poolInput(c, 8), shape: c.x } };
        const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad } as unknown as NamedAttrMap;
        expectClose(await runRegistered(backend, 'AvgPoolGrad', inputs, attrs), await runCpuReference('AvgPoolGrad', inputs, attrs));
      });
    }
  });
}

/** Single-input-channel shapes: our convolution loops take every stride-1 one (any width, any number of maps); XNNPACK the rest. */
const SINGLE_CHANNEL_CASES: ConvCase[] = [
  { name: 'one channel, 3×3 filter, 8 maps, output width 8', x: [3, 10, 10, 1], filter: [3, 3, 1, 8], strides: 1, pad: 'valid' },
  { name: 'one channel, output width 32, 1 map', x: [2, 9, 36, 1], filter: [2, 5, 1, 1], strides: 1, pad: 'valid' },
  { name: 'one channel, output width 4, non-square 4×7 filter', x: [2, 6, 10, 1], filter: [4, 7, 1, 5], strides: 1, pad: 'valid' },
  { name: 'one channel, output width 26 (not a multiple of 4)', x: [2, 30, 30, 1], filter: [5, 5, 1, 6], strides: 1, pad: 'valid' },
  { name: 'one channel, 20 maps (the filter gradient past its 16: im2col)', x: [2, 12, 12, 1], filter: [5, 5, 1, 20], strides: 1, pad: 'valid' },
  { name: 'one channel, stride 2 (XNNPACK)', x: [2, 32, 32, 1], filter: [5, 5, 1, 6], strides: 2, pad: 'valid' },
];

for (const target of ['wasm', 'wasm-js', 'cpu'] as const) describe(`${target}: Conv2D matches the cpu reference`, () => {
  for (const c of [...CONV_CASES, ...SINGLE_CHANNEL_CASES]) {
    it(c.name, async () => {
      const inputs = { x: { values: random(size(c.x), 9), shape: c.x }, filter: { values: random(size(c.filter), 10), shape: c.filter } };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined } as unknown as NamedAttrMap;
      expectClose(await runRegistered(target, 'Conv2D', inputs, attrs), await runCpuReference('Conv2D', inputs, attrs));
    });
  }
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: Conv2DBackpropFilter with one input channel`, () => {
  for (const c of SINGLE_CHANNEL_CASES) {
    it(c.name, async () => {
      const inputs = { x: { values: random(size(c.x), 11), shape: c.x }, dy: { values: random(size(convOutShape(c)), 12), shape: convOutShape(c) } };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.filter } as unknown as NamedAttrMap;
      expectClose(await runRegistered(target, 'Conv2DBackpropFilter', inputs, attrs), await runCpuReference('Conv2DBackpropFilter', inputs, attrs));
    });
  }
});

describe('wasm without fused multiply-add: the plain SIMD loops behind the registered kernels', () => {
  // The other wasm tests run with relaxed SIMD where the runtime has it; browsers without it get these loops.
  for (const c of CONV_CASES.filter((k) => k.name.startsWith('LeNet C1') || k.name.startsWith('LeNet C3'))) {
    it(`${c.name}: Conv2D, Conv2DBackpropFilter and Conv2DBackpropInput`, async () => {
      setRelaxedSimdEnabled(false);
      try {
        const inputs = { x: { values: random(size(c.x), 41), shape: c.x }, filter: { values: random(size(c.filter), 42), shape: c.filter } };
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined } as unknown as NamedAttrMap;
        expectClose(await runRegistered('wasm', 'Conv2D', inputs, attrs), await runCpuReference('Conv2D', inputs, attrs));
        const gradInputs = { x: inputs.x, dy: { values: random(size(convOutShape(c)), 43), shape: convOutShape(c) } };
        const gradAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.filter } as unknown as NamedAttrMap;
        expectClose(await runRegistered('wasm', 'Conv2DBackpropFilter', gradInputs, gradAttrs), await runCpuReference('Conv2DBackpropFilter', gradInputs, gradAttrs));
        const inputGradInputs = { dy: gradInputs.dy, filter: inputs.filter };
        const inputGradAttrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x } as unknown as NamedAttrMap;
        expectClose(await runRegistered('wasm', 'Conv2DBackpropInput', inputGradInputs, inputGradAttrs), await runCpuReference('Conv2DBackpropInput', inputGradInputs, inputGradAttrs));
      } finally {
        setRelaxedSimdEnabled(true);
      }
    });
  }
});

describe("wasm with our convolution loops off: XNNPACK's routes on LeNet's shapes", () => {
  // Every stride-1 unpadded convolution runs on our loops; these are the routes any other shape takes.
  for (const c of CONV_CASES.filter((k) => /^(LeNet C1|LeNet C3|C3 with batch 1|several channels, 6 maps)/.test(k.name))) {
    it(`${c.name}: Conv2D, FusedConv2D, Conv2DBackpropFilter and Conv2DBackpropInput`, async () => {
      setConvLoopsEnabled(false);
      try {
        const x = { values: random(size(c.x), 51), shape: c.x }, filter = { values: random(size(c.filter), 52), shape: c.filter };
        const dy = { values: random(size(convOutShape(c)), 53), shape: convOutShape(c) };
        const bias = { values: random(c.filter[3], 54), shape: [c.filter[3]] };
        const conv = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined } as unknown as NamedAttrMap;
        const cases: [string, Record<string, Input>, NamedAttrMap][] = [
          ['Conv2D', { x, filter }, conv],
          ['FusedConv2D', { x, filter, bias }, { ...conv, activation: 'relu' }],
          ['Conv2DBackpropFilter', { x, dy }, { ...conv, filterShape: c.filter }],
          ['Conv2DBackpropInput', { dy, filter }, { ...conv, inputShape: c.x }],
        ];
        for (const [kernel, inputs, attrs] of cases) expectClose(await runRegistered('wasm', kernel, inputs, attrs), await runCpuReference(kernel, inputs, attrs));
      } finally {
        setConvLoopsEnabled(true);
      }
    });
  }
});

describe('the convolution SIMD loops on their own memory', () => {
  // Compiled modules are kept per process by what they hold: each test assembles its own, so a test checks the
  // assembler's code of this moment, not a module an earlier test compiled.
  beforeEach(() => { forgetCompiledSimdModules(); });

  // Plain loops over the same layouts: x [n, H, W, CI], w [FH, FW, CI, CO], y and dy [n, OH, OW, CO].
  function reference(x: Float32Array, w: Float32Array, dy: Float32Array, bias: Float32Array | null, relu: boolean, n: number, s: ConvShape) {
    const { inHeight: H, inWidth: W, inChannels: CI, filterHeight: FH, filterWidth: FW, outChannels: CO } = s;
    const OH = H - FH + 1, OW = W - FW + 1;
    const y = new Float32Array(n * OH * OW * CO), dW = new Float32Array(FH * FW * CI * CO), dx = new Float32Array(n * H * W * CI);
    for (let b = 0; b < n; b++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let o = 0; o < CO; o++) {
      const at = ((b * OH + oy) * OW + ox) * CO + o;
      let sum = bias ? bias[o]! : 0;
      for (let ky = 0; ky < FH; ky++) for (let kx = 0; kx < FW; kx++) for (let i = 0; i < CI; i++) {
        const xAt = ((b * H + oy + ky) * W + ox + kx) * CI + i, wAt = ((ky * FW + kx) * CI + i) * CO + o;
        sum += x[xAt]! * w[wAt]!;
        dW[wAt] += x[xAt]! * dy[at]!;
        dx[xAt] += w[wAt]! * dy[at]!;
      }
      y[at] = relu ? (sum < 0 ? 0 : sum) : sum;
    }
    return { y, dW, dx };
  }

  /** The loops run on one memory with a guard value (7) around each output, then checked against the reference. */
  function check(n: number, shape: ConvShape, fused: boolean, withBias: boolean, relu: boolean): void {
    const { inHeight: H, inWidth: W, inChannels: CI, filterHeight: FH, filterWidth: FW, outChannels: CO } = shape;
    const OH = H - FH + 1, OW = W - FW + 1;
    const memory = new WebAssembly.Memory({ initial: 16 });
    const forward = createConvForward(memory, shape, fused), inputGrad = createConvInputGrad(memory, shape, fused);
    // The filter gradient takes at most 16 maps; every loop must exist where its shape fits.
    const filterGrad = createConvFilterGrad(memory, shape, fused);
    if (!forward || !inputGrad) throw new Error('a loop is missing');
    expect(filterGrad === null).toBe(!convFilterGradFits(shape));
    const x = random(n * H * W * CI, 21), w = random(FH * FW * CI * CO, 22), dy = random(n * OH * OW * CO, 23);
    const bias = withBias ? random(CO, 24) : null;
    const wt = new Float32Array(FH * CO * inputGradRowFloats(shape));
    transposeFilterForInputGrad(w, shape, wt);
    // Byte offsets, 64 bytes (16 guard floats) apart; the outputs start 4 bytes past a vector boundary, as tensors may.
    let next = 64;
    const place = (floats: number): number => { const at = next; next += 4 * floats + 68; return at; };
    const xAt = place(x.length), wAt = place(w.length), dyAt = place(dy.length), biasAt = place(CO), wtAt = place(wt.length);
    const yAt = place(n * OH * OW * CO), dWAt = place(w.length), dxAt = place(x.length);
    const heap = new Float32Array(memory.buffer);
    heap.fill(7);
    heap.set(x, xAt / 4); heap.set(w, wAt / 4); heap.set(dy, dyAt / 4); heap.set(wt, wtAt / 4);
    if (bias) heap.set(bias, biasAt / 4);
    heap.fill(0, dxAt / 4, dxAt / 4 + x.length);
    forward(xAt, wAt, yAt, n, bias ? biasAt : 0, relu);
    filterGrad?.(xAt, dyAt, dWAt, n);
    inputGrad(dyAt, wtAt, dxAt, n);
    const expected = reference(x, w, dy, bias, relu, n, shape);
    const outputs: [string, number, Float32Array][] = [['y', yAt, expected.y], ['dx', dxAt, expected.dx]];
    if (filterGrad) outputs.push(['dW', dWAt, expected.dW]);
    for (const [name, at, want] of outputs) {
      const got = heap.slice(at / 4, at / 4 + want.length);
      want.forEach((v, i) => { if (!(Math.abs(got[i]! - v) < 1e-4 * (1 + Math.abs(v)))) expect.fail(`${name}[${i}] = ${got[i]}, expected ${v}`); });
      expect(heap[at / 4 - 1], `before ${name}`).toBe(7);
      expect(heap[at / 4 + want.length], `after ${name}`).toBe(7);
    }
  }

  // [batch, H, W, CI, FH, FW, CO]: LeNet's C1 (6 maps: a vector and a half) and C3; one channel with 1, 9 and
  // 3 maps; 12 maps (3 vectors); 20 maps (two passes in the forward, past the filter gradient's 16);
  // odd output widths (a last group of one pixel); a 1×1 filter; a window row of 3, 5 and 7 floats (input
  // gradient tails of 3, 1 and 3); batch 0.
  const SHAPES = [
    [3, 32, 32, 1, 5, 5, 6], [3, 14, 14, 6, 5, 5, 16], [1, 7, 11, 1, 3, 4, 1], [2, 5, 36, 1, 2, 5, 9], [2, 6, 6, 1, 3, 3, 3],
    [2, 9, 8, 4, 5, 5, 12], [2, 6, 6, 3, 3, 3, 20], [2, 6, 7, 5, 3, 2, 4], [1, 5, 9, 7, 2, 1, 8], [2, 4, 5, 7, 1, 1, 3],
    [1, 5, 5, 1, 2, 3, 5], [1, 4, 6, 5, 1, 1, 7], [0, 6, 6, 2, 3, 3, 4],
  ] as const;
  for (const [n, H, W, CI, FH, FW, CO] of SHAPES) for (const fused of [false, true]) {
    const shape: ConvShape = { inHeight: H, inWidth: W, inChannels: CI, filterHeight: FH, filterWidth: FW, outChannels: CO };
    it(`batch ${n}, ${H}×${W}×${CI} input, ${FH}×${FW} filter, ${CO} maps: forward (bias, ReLU), filter and input gradients (${fused ? 'fused multiply-add' : 'plain SIMD'})`, () => {
      check(n, shape, fused, true, true);
    });
  }

  it('the forward adds no bias where given none, and keeps negative sums without ReLU', () => {
    check(2, { inHeight: 8, inWidth: 9, inChannels: 3, filterHeight: 3, filterWidth: 3, outChannels: 6 }, true, false, false);
    check(2, { inHeight: 8, inWidth: 9, inChannels: 3, filterHeight: 3, filterWidth: 3, outChannels: 6 }, false, false, false);
  });

  it('reads no float past a row of channels that ends the memory (a partial last vector is read lane by lane)', () => {
    // 6 maps: each row of the filter, the bias and dy ends in half a vector. Placed last in the memory, a whole
    // vector read there would trap.
    const shape: ConvShape = { inHeight: 4, inWidth: 5, inChannels: 2, filterHeight: 2, filterWidth: 3, outChannels: 6 };
    const n = 2, OH = 3, OW = 3;
    const x = random(n * 4 * 5 * 2, 61), w = random(2 * 3 * 2 * 6, 62), bias = random(6, 63), dy = random(n * OH * OW * 6, 64);
    const expected = reference(x, w, dy, bias, false, n, shape);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new Float32Array(memory.buffer), end = memory.buffer.byteLength;
    const forward = createConvForward(memory, shape)!, filterGrad = createConvFilterGrad(memory, shape)!;
    const near = (got: Float32Array, want: Float32Array) => want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-4 * (1 + Math.abs(v))));
    heap.set(x, 0);
    // Byte offsets: x 0, y 2048, dW 8192; the filter last (the bias at 4096), then the bias last (the filter at 16384).
    heap.set(w, (end - 4 * w.length) / 4); heap.set(bias, 4096 / 4);
    forward(0, end - 4 * w.length, 2048, n, 4096, false);
    near(heap.slice(2048 / 4, 2048 / 4 + expected.y.length), expected.y);
    heap.set(w, 16384 / 4); heap.set(bias, (end - 24) / 4);
    forward(0, 16384, 2048, n, end - 24, false);
    near(heap.slice(2048 / 4, 2048 / 4 + expected.y.length), expected.y);
    // dy last for the filter gradient.
    heap.set(dy, (end - 4 * dy.length) / 4);
    filterGrad(0, end - 4 * dy.length, 8192, n);
    near(heap.slice(8192 / 4, 8192 / 4 + expected.dW.length), expected.dW);
  });

  it('the input gradient reads no float past the transposed filter, and writes none past dx, where they end the memory', () => {
    // A window row of 20 floats: 5 vectors, a pass of 4 and a pass of 1 (the filter last in the memory).
    const wide: ConvShape = { inHeight: 3, inWidth: 6, inChannels: 5, filterHeight: 2, filterWidth: 4, outChannels: 3 };
    // A window row of 6 floats: a vector and a half, the half added float by float (dx last in the memory).
    const tail: ConvShape = { inHeight: 3, inWidth: 4, inChannels: 2, filterHeight: 2, filterWidth: 3, outChannels: 2 };
    for (const [shape, last] of [[wide, 'filter'], [tail, 'dx']] as const) {
      const { inHeight: H, inWidth: W, inChannels: CI, filterHeight: FH, filterWidth: FW, outChannels: CO } = shape;
      const OH = H - FH + 1, OW = W - FW + 1;
      const w = random(FH * FW * CI * CO, 65), dy = random(OH * OW * CO, 66);
      const wt = new Float32Array(FH * CO * inputGradRowFloats(shape));
      transposeFilterForInputGrad(w, shape, wt);
      const expected = reference(new Float32Array(H * W * CI), w, dy, null, false, 1, shape).dx;
      const memory = new WebAssembly.Memory({ initial: 1 });
      const heap = new Float32Array(memory.buffer), end = memory.buffer.byteLength;
      const wtAt = last === 'filter' ? end - 4 * wt.length : 4096, dxAt = last === 'dx' ? end - 4 * expected.length : 8192;
      heap.set(dy, 0); heap.set(wt, wtAt / 4); heap.fill(0, dxAt / 4, dxAt / 4 + expected.length);
      createConvInputGrad(memory, shape)!(0, wtAt, dxAt, 1);
      const got = heap.slice(dxAt / 4, dxAt / 4 + expected.length);
      expected.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-4 * (1 + Math.abs(v))));
    }
  });

  it('fused multiply-add rounds once where asked, and the plain loops twice (one sum whose last product is inexact)', () => {
    // p = (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ is not a float; rounded, it is 1 + 2⁻¹¹. A sum −(1 + 2⁻¹¹) + p is then 2⁻²⁴
    // with one rounding and 0 with two.
    const a = 1 + 2 ** -12, b = -(1 + 2 ** -11);
    for (const fused of [true, false]) {
      const memory = new WebAssembly.Memory({ initial: 1 });
      const heap = new Float32Array(memory.buffer);
      const want = fused ? 2 ** -24 : 0;
      // Forward, a 1×1 window: y = bias + x·w with bias = b (bytes: x 0, w 64, bias 128, y 256).
      heap.set([a], 0); heap.set([a, a, a, a], 16); heap.set([b, b, b, b], 32);
      createConvForward(memory, { inHeight: 1, inWidth: 1, inChannels: 1, filterHeight: 1, filterWidth: 1, outChannels: 4 }, fused)!(0, 64, 256, 1, 128, false);
      expect([...heap.slice(64, 68)]).toEqual([want, want, want, want]);
      // Filter gradient over two pixels in order: b·1, then a·a (x 512, dy 576, dW 640).
      heap.set([b, a], 128); heap.set([1, a], 144);
      createConvFilterGrad(memory, { inHeight: 1, inWidth: 2, inChannels: 1, filterHeight: 1, filterWidth: 1, outChannels: 1 }, fused)!(512, 576, 640, 1);
      expect(heap[160]).toBe(want);
      // Input gradient over two output channels in order: b·1, then a·a (dy 768, wt [1, 2, 4] 832, dx 896 zeroed).
      heap.set([b, a], 192); heap.set([1, 0, 0, 0, a, 0, 0, 0], 208); heap[224] = 0;
      createConvInputGrad(memory, { inHeight: 1, inWidth: 1, inChannels: 1, filterHeight: 1, filterWidth: 1, outChannels: 2 }, fused)!(768, 832, 896, 1);
      expect(heap[224]).toBe(want);
    }
  });

  it('gives no loop for a shape it does not take', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const shape = (outChannels: number, inWidth = 6): ConvShape => ({ inHeight: 6, inWidth, inChannels: 2, filterHeight: 3, filterWidth: 3, outChannels });
    expect(createConvForward(memory, shape(4, 2))).toBeNull();
    expect(createConvFilterGrad(memory, shape(17))).toBeNull();
    expect(createConvInputGrad(memory, shape(4, 2))).toBeNull();
    expect(createConvForward(memory, shape(4))).not.toBeNull();
  });

  it('a module that cannot be instantiated gives no loop, so the kernel keeps its other route', () => {
    const shape: ConvShape = { inHeight: 4, inWidth: 4, inChannels: 1, filterHeight: 3, filterWidth: 3, outChannels: 4 };
    const notMemory = {} as WebAssembly.Memory;
    expect(createConvForward(notMemory, shape)).toBeNull();
    expect(createConvFilterGrad(notMemory, shape)).toBeNull();
    expect(createConvInputGrad(notMemory, shape)).toBeNull();
  });

  it('ReLU keeps NaN as NaN', () => {
    const shape: ConvShape = { inHeight: 3, inWidth: 3, inChannels: 1, filterHeight: 3, filterWidth: 3, outChannels: 4 };
    const memory = new WebAssembly.Memory({ initial: 1 });
    const heap = new Float32Array(memory.buffer);
    heap.fill(1, 0, 9); heap[4] = NaN; // x at 0
    heap.fill(-1, 16, 16 + 36); // w at 64: every sum but NaN's is negative
    createConvForward(memory, shape)!(0, 64, 256, 1, 0, true);
    expect([...heap.slice(64, 68)].every((v) => Number.isNaN(v))).toBe(true);
  });

  it('takes any stride-1 window that fits its input; the filter gradient at most 16 maps; the input gradient rows up to its limit', () => {
    const shape = (outChannels: number, inWidth = 14, inChannels = 6, filterWidth = 5): ConvShape =>
      ({ inHeight: 14, inWidth, inChannels, filterHeight: 5, filterWidth, outChannels });
    for (const fits of [convForwardFits, convFilterGradFits, convInputGradFits]) {
      expect(fits(shape(1))).toBe(true);
      expect(fits(shape(6))).toBe(true);
      expect(fits(shape(16, 5))).toBe(true); // one output column
      expect(fits(shape(16, 4))).toBe(false); // no output
      expect(fits(shape(0))).toBe(false);
      expect(fits(shape(16, 14, 0))).toBe(false);
      expect(fits({ ...shape(16), filterHeight: 0 })).toBe(false);
      expect(fits({ ...shape(16), filterWidth: 0 })).toBe(false);
      expect(fits({ ...shape(16), inHeight: 4 })).toBe(false);
    }
    expect(convForwardFits(shape(40))).toBe(true);
    expect(convFilterGradFits(shape(16))).toBe(true);
    expect(convFilterGradFits(shape(17))).toBe(false);
    expect(convInputGradFits(shape(40))).toBe(true);
    // A window row of filterWidth × inChannels floats, rounded up to vectors.
    expect(inputGradRowFloats(shape(16, 14, 6, 5))).toBe(32);
    expect(inputGradRowFloats(shape(16, 14, 4, 5))).toBe(20);
    expect(inputGradRowFloats(shape(16, 14, 1, 1))).toBe(4);
    expect(INPUT_GRAD_MAX_ROW_FLOATS).toBe(160);
    expect(convInputGradFits(shape(16, 40, 32, 5))).toBe(true); // 160 floats
    expect(convInputGradFits(shape(16, 40, 33, 5))).toBe(false); // 168
  });

  it('transposes the filter for the input gradient, padding each row with zeros', () => {
    const shape: ConvShape = { inHeight: 4, inWidth: 4, inChannels: 3, filterHeight: 2, filterWidth: 1, outChannels: 2 };
    const w = Float32Array.from({ length: 12 }, (_, i) => i + 1); // w[ky, 0, i, o] = 1 + (ky·3 + i)·2 + o
    const out = new Float32Array(20).fill(9);
    transposeFilterForInputGrad(w, shape, out);
    // [ky, o, i] with rows of 4: ky 0: o 0 → 1 3 5 0, o 1 → 2 4 6 0; ky 1: 7 9 11 0, 8 10 12 0.
    expect([...out]).toEqual([1, 3, 5, 0, 2, 4, 6, 0, 7, 9, 11, 0, 8, 10, 12, 0, 9, 9, 9, 9]);
  });

  it('relaxed SIMD (fused multiply-add) compiles on this runtime', () => {
    // Node 20 needs the V8 flag that relaxedSimdSupported() sets; newer runtimes have it by default.
    expect(relaxedSimdSupported()).toBe(true);
  });
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: Multiply matches the cpu reference`, () => {
  const shapes: [string, number[], number[]][] = [
    ['scalar second', [B, 28, 28, 6], []],
    ['scalar first', [], [B, 10, 10, 16]],
    ['[1]-shaped scalar', [B, 84], [1]],
    ['[1,1,1,1] scalar times a rank-4 tensor', [1, 1, 1, 1], [B, 5, 5, 16]],
    ['[1,1] scalar times a rank-1 tensor (the output takes its rank)', [1, 1], [7]],
    ['odd length (a scalar tail after the vectors)', [3, 7], []],
    ['scalar times scalar', [], [1]],
    ['same shapes', [B, 14, 14, 6], [B, 14, 14, 6]],
    ['channel vector (trainable subsampling)', [B, 14, 14, 6], [6]],
    ['[1,1,1,C] channel vector first', [1, 1, 1, 16], [B, 5, 5, 16]],
    ['channel vector of 5 (pattern tiled to 20, a tail after it)', [3, 7, 5], [5]],
    ['channel vector, too small for the SIMD path', [2, 3], [3]],
  ];
  for (const [name, a, b] of shapes) {
    it(name, async () => {
      const av = random(size(a), 36);
      if (av.length > 3) { av[0] = Number.POSITIVE_INFINITY; av[1] = Number.NaN; av[2] = -0; }
      const inputs = { a: { values: av, shape: a }, b: { values: random(size(b), 37), shape: b } };
      expectClose(await runRegistered(target, 'Multiply', inputs, {}), await runCpuReference('Multiply', inputs, {}));
    });
  }
});

describe('wasm: Cast', () => {
  it('to the same dtype shares the data and leaves the input intact when disposed', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1.5, -2, 0], [3]);
    const ids = tf.engine().backend.numDataIds();
    const y = tf.cast(x, 'float32');
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    expect([...(await y.data())]).toEqual([1.5, -2, 0]);
    y.dispose();
    expect([...(await x.data())]).toEqual([1.5, -2, 0]);
    x.dispose();
  });

  it('between dtypes still converts (float → int truncates, bool → float)', async () => {
    await tf.setBackend('wasm');
    const ints = tf.cast(tf.tensor([1.7, -2.2, 3]), 'int32');
    expect(ints.dtype).toBe('int32');
    expect([...(await ints.data())]).toEqual([1, -2, 3]);
    const floats = tf.cast(tf.tensor([true, false], [2], 'bool'), 'float32');
    expect([...(await floats.data())]).toEqual([1, 0]);
    tf.dispose([ints, floats]);
  });
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: BatchMatMul matches the cpu reference`, () => {
  const cases: { name: string; a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
    { name: 'dense forward [B,120]·[120,84]', a: [B, 120], b: [120, 84], transposeA: false, transposeB: false },
    { name: 'dense dW: [B,120]ᵀ·[B,84]', a: [B, 120], b: [B, 84], transposeA: true, transposeB: false },
    { name: 'dense dx: [B,84]·[120,84]ᵀ', a: [B, 84], b: [120, 84], transposeA: false, transposeB: true },
    { name: 'both transposed, rank 3 batch 1', a: [1, 7, 5], b: [1, 3, 7], transposeA: true, transposeB: true },
    { name: 'batch 3 (the backend\'s own path)', a: [3, 4, 6], b: [3, 6, 5], transposeA: false, transposeB: false },
    { name: 'batch 3 transposed (the backend\'s own path)', a: [3, 6, 4], b: [3, 5, 6], transposeA: true, transposeB: true },
    { name: 'C5 as a product, dW: [B,400]ᵀ·[B,120]', a: [1, B, 400], b: [1, B, 120], transposeA: true, transposeB: false },
    { name: 'C5 as a product, dx: [B,120]·[400,120]ᵀ', a: [1, B, 120], b: [1, 400, 120], transposeA: false, transposeB: true },
    { name: '7 rows (a block of 4 and 3 single rows), 12 columns (8 and 4)', a: [7, 3], b: [3, 12], transposeA: false, transposeB: false },
    { name: 'one row, 4 columns (the fewest our product takes), K = 1', a: [1, 1], b: [1, 4], transposeA: false, transposeB: false },
    { name: '10 columns (not a multiple of 4: XNNPACK), transposed a', a: [B, 5], b: [B, 10], transposeA: true, transposeB: false },
  ];
  for (const c of cases) {
    for (const ours of target === 'wasm' ? [true, false] : [true]) {
      it(`${c.name}${ours ? '' : ' (XNNPACK only)'}`, async () => {
        const inputs = { a: { values: random(size(c.a), 11), shape: c.a }, b: { values: random(size(c.b), 12), shape: c.b } };
        const attrs = { transposeA: c.transposeA, transposeB: c.transposeB } as unknown as NamedAttrMap;
        setOwnMatMulEnabled(ours);
        try {
          expectClose(await runRegistered(target, 'BatchMatMul', inputs, attrs), await runCpuReference('BatchMatMul', inputs, attrs));
        } finally {
          setOwnMatMulEnabled(true);
        }
      });
    }
  }
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: _FusedMatMul matches the cpu reference`, () => {
  const cases: { name: string; a: number[]; b: number[]; bias: boolean; activation: string }[] = [
    { name: 'C5 as a product with bias and ReLU [1,B,400]·[1,400,120]', a: [1, B, 400], b: [1, 400, 120], bias: true, activation: 'relu' },
    { name: 'dense with bias, linear, 5 rows, 84 columns', a: [1, 5, 120], b: [1, 120, 84], bias: true, activation: 'linear' },
    { name: 'no bias, ReLU, one row', a: [1, 1, 16], b: [1, 16, 8], bias: false, activation: 'relu' },
    { name: 'sigmoid (XNNPACK)', a: [1, B, 120], b: [1, 120, 84], bias: true, activation: 'sigmoid' },
    { name: '10 columns (XNNPACK)', a: [1, B, 84], b: [1, 84, 10], bias: true, activation: 'linear' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const n = c.b[c.b.length - 1]!;
      // Values around zero, so that ReLU clips about half of them.
      const inputs: Record<string, Input> = { a: { values: random(size(c.a), 51), shape: c.a }, b: { values: random(size(c.b), 52), shape: c.b } };
      if (c.bias) inputs['bias'] = { values: random(n, 53), shape: [n] };
      const attrs = { transposeA: false, transposeB: false, activation: c.activation } as unknown as NamedAttrMap;
      expectClose(await runRegistered(target, '_FusedMatMul', inputs, attrs), await runCpuReference('_FusedMatMul', inputs, attrs));
    });
  }
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: Tanh matches the cpu reference`, () => {
  it('on random values, tiny values, the series threshold, ±Inf and NaN', async () => {
    const wide = Array.from(random(4096, 13), (v) => v * 6);
    const tiny = Array.from(random(512, 14), (v) => v * 1e-3);
    const edges = [0, -0, 0.0625, -0.0625, 0.0624999, 0.0625001, 1e-30, -1e-30, 9, -9, 20, -20, 1e4, Infinity, -Infinity, NaN];
    const values = Float32Array.from([...wide, ...tiny, ...edges]);
    const inputs = { x: { values, shape: [values.length] } };
    expectClose(await runRegistered(target, 'Tanh', inputs, {}), await runCpuReference('Tanh', inputs, {}));
  });

  it('keeps relative precision near zero', async () => {
    const values = Float32Array.from(random(1000, 15), (v) => v * 0.2);
    const inputs = { x: { values, shape: [values.length] } };
    const got = await runRegistered(target, 'Tanh', inputs, {});
    for (let i = 0; i < values.length; i++) {
      const want = Math.tanh(values[i]!);
      expect(Math.abs(got.values[i]! - want)).toBeLessThanOrEqual(2e-6 * Math.abs(want) + 1e-12);
    }
  });
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: the direct step's activation gradient (${ACTIVATION_GRAD_KERNEL})`, () => {
  // Lengths around the vector width: the SIMD loop's tail runs one float at a time.
  for (const n of [1, 3, 4, 5, 4099]) {
    it(`ReLU passes dy exactly where y > 0 (0, −0, negatives and NaN pass nothing), ${n} values`, async () => {
      const edges = [0, -0, NaN, 1e-38, -1e-38, Infinity, -Infinity];
      const y = Float32Array.from(random(n, 21), (v, i) => (i < edges.length ? edges[i]! : v));
      const dy = Float32Array.from(random(n, 22), (v, i) => (i === n - 1 && n > 1 ? NaN : v * 3));
      const got = await runRegistered(target, ACTIVATION_GRAD_KERNEL, { y: { values: y, shape: [n] }, dy: { values: dy, shape: [n] } }, { activation: 'relu' });
      expect(got.shape).toEqual([n]);
      for (let i = 0; i < n; i++) expect(Object.is(got.values[i], y[i]! > 0 ? dy[i] : 0), `element ${i}: y ${y[i]}, dy ${dy[i]}, got ${got.values[i]}`).toBe(true);
    });

    it(`sigmoid gives dy·y·(1 − y), ${n} values`, async () => {
      const y = Float32Array.from(random(n, 23), (v) => (v + 1) / 2);
      const dy = Float32Array.from(random(n, 24), (v) => v * 5);
      const got = await runRegistered(target, ACTIVATION_GRAD_KERNEL, { y: { values: y, shape: [1, n] }, dy: { values: dy, shape: [1, n] } }, { activation: 'sigmoid' });
      expect(got.shape).toEqual([1, n]);
      for (let i = 0; i < n; i++) {
        const want = dy[i]! * y[i]! * (1 - y[i]!);
        expect(Math.abs(got.values[i]! - want), `element ${i}`).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-12);
      }
    });
  }

  it('keeps dy\'s shape when y has another shape of the same size, and refuses another size or activation', async () => {
    const y = { values: random(24, 25), shape: [2, 12] }, dy = { values: random(24, 26), shape: [2, 2, 2, 3] };
    expect((await runRegistered(target, ACTIVATION_GRAD_KERNEL, { y, dy }, { activation: 'relu' })).shape).toEqual([2, 2, 2, 3]);
    await expect(runRegistered(target, ACTIVATION_GRAD_KERNEL, { y: { values: random(20, 27), shape: [20] }, dy }, { activation: 'relu' })).rejects.toThrow(/differ in size/);
    await expect(runRegistered(target, ACTIVATION_GRAD_KERNEL, { y, dy }, { activation: 'tanh' })).rejects.toThrow(/no activation 'tanh'/);
  });
});

for (const target of ['wasm', 'wasm-js', 'cpu'] as const) describe(`${target}: Add, Sum and Identity match the cpu reference`, () => {
  const addCases: [string, number[], number[]][] = [
    ['conv bias [B,28,28,6] + [6]', [B, 28, 28, 6], [6]],
    ['bias first: [16] + [B,10,10,16]', [16], [B, 10, 10, 16]],
    ['dense bias [B,120] + [120]', [B, 120], [120]],
    ['[B,84] + [1,84]', [B, 84], [1, 84]],
    ['odd width [3,7,5,13] + [13]', [3, 7, 5, 13], [13]],
    ['too small for the fast path [2,3] + [3]', [2, 3], [3]],
    ['not a bias: [4,1] + [3]', [4, 1], [3]],
    ['same shapes', [B, 10, 10, 16], [B, 10, 10, 16]],
  ];
  for (const [name, a, b] of addCases) {
    it(`Add ${name}`, async () => {
      const inputs = { a: { values: random(size(a), 30), shape: a }, b: { values: random(size(b), 31), shape: b } };
      expectClose(await runRegistered(target, 'Add', inputs, {}), await runCpuReference('Add', inputs, {}));
    });
  }
  const sumCases: [string, number[], number | number[], boolean][] = [
    ['bias gradient [B,28,28,6] over 0,1,2', [B, 28, 28, 6], [0, 1, 2], false],
    ['dense bias gradient [B,84] over 0', [B, 84], [0], false],
    ['negative axes [B,10,10,16] over -4,-3,-2', [B, 10, 10, 16], [-4, -3, -2], false],
    ['odd width [5,7,13] over 0,1', [5, 7, 13], [0, 1], false],
    ['keepDims (the backend\'s path)', [B, 10, 10, 16], [0, 1, 2], true],
    ['last axis (the backend\'s path)', [B, 10, 16], -1, false],
    ['middle axes (the backend\'s path)', [4, 5, 6, 7], [1, 2], false],
  ];
  for (const [name, shape, axis, keepDims] of sumCases) {
    it(`Sum ${name}`, async () => {
      const inputs = { x: { values: random(size(shape), 32), shape } };
      const attrs = { axis, keepDims } as unknown as NamedAttrMap;
      expectClose(await runRegistered(target, 'Sum', inputs, attrs), await runCpuReference('Sum', inputs, attrs));
    });
  }
  it('Identity returns the same values, and disposing it leaves the input intact', async () => {
    setWasmSimdLoopsEnabled(target !== 'wasm-js');
    try {
      await tf.setBackend(target === 'cpu' ? 'cpu' : 'wasm');
      const values = random(1000, 33);
      const x = tf.tensor(values, [10, 100]);
      const y = tf.clone(x);
      expect(Array.from(await y.data())).toEqual(Array.from(values));
      y.dispose();
      expect(Array.from(await x.data())).toEqual(Array.from(values));
      x.dispose();
    } finally {
      setWasmSimdLoopsEnabled(true);
    }
  });
});

for (const target of ['wasm', 'wasm-js'] as const) describe(`${target}: FusedConv2D matches the cpu reference`, () => {
  const cases: [string, ConvCase, string, boolean][] = [
    ['C1 linear + bias (our loop)', CONV_CASES[0]!, 'linear', true],
    ['C1 relu + bias', CONV_CASES[0]!, 'relu', true],
    ['C1 sigmoid + bias', CONV_CASES[0]!, 'sigmoid', true],
    ['C1 relu, no bias', CONV_CASES[0]!, 'relu', false],
    ['C1 linear, no bias, batch 1', CONV_CASES[3]!, 'linear', false],
    ["one channel, 'same' padding (the backend's own)", CONV_CASES[10]!, 'relu', true],
    ['C3 relu + bias (our loop)', CONV_CASES[1]!, 'relu', true],
    ['C3 sigmoid + bias', CONV_CASES[1]!, 'sigmoid', true],
    ['C3 linear, no bias, batch 1', CONV_CASES[5]!, 'linear', false],
    ['20 maps, relu + bias (two passes of our loop)', CONV_CASES[8]!, 'relu', true],
    ['6 maps (a vector and a half), relu + bias', CONV_CASES[9]!, 'relu', true],
    ["stride 2 'same', relu + bias (the backend's own)", CONV_CASES[11]!, 'relu', true],
    ["C1 leakyrelu (the backend's own)", CONV_CASES[0]!, 'leakyrelu', true],
  ];
  for (const [name, c, activation, withBias] of cases) {
    it(name, async () => {
      const x = random(size(c.x), 46);
      // NaN and ±Infinity in the input: ReLU keeps NaN, as the reference does.
      x[7] = NaN; x[900] = Infinity; x[1500] = -Infinity;
      const inputs: Record<string, Input> = { x: { values: x, shape: c.x }, filter: { values: random(size(c.filter), 47), shape: c.filter } };
      if (withBias) inputs['bias'] = { values: random(c.filter[3], 48), shape: [c.filter[3]] };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation, leakyreluAlpha: 0.2 } as unknown as NamedAttrMap;
      expectClose(await runRegistered(target, 'FusedConv2D', inputs, attrs), await runCpuReference('FusedConv2D', inputs, attrs));
    });
  }
});

describe('cpu: FusedConv2D matches the cpu reference', () => {
  const cases: [string, ConvCase, string, boolean][] = [
    ['C1 linear + bias', CONV_CASES[0]!, 'linear', true],
    ['C3 relu + bias', CONV_CASES[1]!, 'relu', true],
    ['C5 linear, no bias', CONV_CASES[2]!, 'linear', false],
    ["stride 2 'same', relu + bias", CONV_CASES[6]!, 'relu', true],
    ["sigmoid (the backend's path)", CONV_CASES[1]!, 'sigmoid', true],
  ];
  for (const [name, c, activation, withBias] of cases) {
    it(name, async () => {
      const inputs: Record<string, Input> = {
        x: { values: random(size(c.x), 36), shape: c.x }, filter: { values: random(size(c.filter), 37), shape: c.filter },
      };
      if (withBias) inputs['bias'] = { values: random(c.filter[3], 38), shape: [c.filter[3]] };
      const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined, activation, leakyreluAlpha: 0.2 } as unknown as NamedAttrMap;
      expectClose(await runRegistered('cpu', 'FusedConv2D', inputs, attrs), await runCpuReference('FusedConv2D', inputs, attrs));
    });
  }
});

describe('cpu: elementwise Sub, Multiply and RealDiv match the cpu reference', () => {
  const shapes: [string, number[], number[]][] = [
    ['same shapes', [B, 14, 14, 6], [B, 14, 14, 6]],
    ['scalar second', [B, 28, 28, 6], []],
    ['scalar first', [], [B, 10, 10, 16]],
    ['[1]-shaped scalar', [B, 84], [1]],
    ['bias-like vector second', [B, 14, 14, 6], [6]],
    ['bias-like vector first', [1, 16], [B, 10, 10, 16]],
    ['outer broadcast on both sides', [4, 1, 3], [1, 5, 3]],
    ['RBF distances [B,1,84] ∘ [10,84]', [B, 1, 84], [10, 84]],
    ['RBF gradient [B,10,1] ∘ [B,10,84]', [B, 10, 1], [B, 10, 84]],
    ['rank 1', [7], [7]],
  ];
  for (const kernel of ['Sub', 'Multiply', 'RealDiv', 'Add']) {
    for (const [name, a, b] of shapes) {
      it(`${kernel}: ${name}`, async () => {
        // Divisors kept away from 0 so RealDiv compares finite numbers.
        const bValues = Float32Array.from(random(size(b), 35), (v) => (kernel === 'RealDiv' ? Math.sign(v || 1) * (0.5 + Math.abs(v)) : v));
        const inputs = { a: { values: random(size(a), 34), shape: a }, b: { values: bValues, shape: b } };
        expectClose(await runRegistered('cpu', kernel, inputs, {}), await runCpuReference(kernel, inputs, {}));
      });
    }
  }
});

describe('registration', () => {
  it('is idempotent and leaves no stray tensors', async () => {
    registerWasmTrainingKernels();
    registerCpuTrainingKernels();
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 14, 14, 6]);
    const dy = tf.randomNormal([2, 10, 10, 16]);
    const dW = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [5, 5, 6, 16] } as unknown as NamedAttrMap) as tf.Tensor;
    tf.dispose([x, dy, dW]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('frees every temporary buffer on the wasm heap', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomNormal([4, 14, 14, 6]);
    const w = tf.randomNormal([5, 5, 6, 16]);
    const before = backend.numDataIds();
    for (let i = 0; i < 3; i++) {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.maxPool(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'valid')), 2, 2, 'valid')))([x, w]);
      tf.dispose(grads);
    }
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([x, w]);
  });
});

// ---- end to end --------------------------------------------------------------------

/** A small LeNet-like net with every kind of layer the variants use; returns gradients of the loss. */
async function gradientsOn(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor(random(4 * 16 * 16 * 1, 20), [4, 16, 16, 1]) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([3, 1, 4, 1], 'int32'), 10);
    const param = (shape: number[], seed: number, scale: number) => tf.mul(tf.tensor(random(size(shape), seed), shape), scale);
    const params = [
      param([5, 5, 1, 6], 21, 0.3),
      param([6], 22, 0.1),
      param([3, 3, 6, 8], 23, 0.3),
      param([8], 24, 0.1),
      param([2 * 2 * 8, 12], 25, 0.3),
      param([12, 10], 26, 0.3),
    ];
    const loss = (...p: tf.Tensor[]) => {
      const [w1, b1, w2, b2, w3, w4] = p as [tf.Tensor4D, tf.Tensor1D, tf.Tensor4D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D];
      let h: tf.Tensor4D = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'valid'), b1));          // [4,12,12,6]
      h = tf.maxPool(h, 2, 2, 'valid');                                                 // [4,6,6,6]
      h = tf.tanh(tf.add(tf.conv2d(h, w2, 1, 'same'), b2));                            // [4,6,6,8]
      h = tf.avgPool(tf.sigmoid(h), 3, 2, 'valid');                                     // [4,2,2,8]
      const flat = tf.reshape(h, [4, 2 * 2 * 8]);
      const logits = tf.matMul(tf.relu(tf.matMul(flat, w3)), w4);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    };
    const grads = tf.grads(loss)(params);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

describe('end to end', () => {
  it("gradients of a conv+pool+dense net agree on wasm and on the cpu backend's own kernels", async () => {
    const onWasm = await gradientsOn('wasm');
    unregisterCpuTrainingKernels();
    let onCpu: Float32Array[];
    try {
      onCpu = await gradientsOn('cpu');
    } finally {
      registerCpuTrainingKernels();
    }
    const onCpuOurs = await gradientsOn('cpu');
    expect(onWasm.length).toBe(onCpu.length);
    for (let i = 0; i < onCpu.length; i++) {
      expectClose({ values: onWasm[i]!, shape: [onWasm[i]!.length] }, { values: onCpu[i]!, shape: [onCpu[i]!.length] });
      expectClose({ values: onCpuOurs[i]!, shape: [onCpuOurs[i]!.length] }, { values: onCpu[i]!, shape: [onCpu[i]!.length] });
      // A real gradient, not zeros everywhere.
      expect(onCpu[i]!.some((v) => Math.abs(v) > 1e-6)).toBe(true);
    }
  });
});

/** Gradients of a variant's real model (its own loss) for one small batch, in trainable-weight order. */
async function variantGradientsOn(backend: string, name: (typeof VARIANT_NAMES)[number]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const spec = VARIANTS[name];
  const model = spec.build(5);
  try {
    return tf.tidy(() => {
      const side = spec.input.size;
      const x = tf.tensor4d(Float32Array.from(random(4 * side * side, 40), (v) => v * 1.5), [4, side, side, 1]);
      const y = tf.oneHot(tf.tensor1d([7, 2, 1, 0], 'int32'), 10);
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => lossFor(spec)(y, model.apply(x, { training: true }) as tf.Tensor), variables);
      return variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
    });
  } finally {
    model.dispose();
  }
}

describe('end to end on the real variants', () => {
  for (const name of VARIANT_NAMES) {
    it(`${name}: every weight's gradient on wasm equals the cpu backend's own`, async () => {
      const onWasm = await variantGradientsOn('wasm', name);
      unregisterCpuTrainingKernels();
      let onCpu: Float32Array[];
      try {
        onCpu = await variantGradientsOn('cpu', name);
      } finally {
        registerCpuTrainingKernels();
      }
      expect(onWasm.length).toBe(onCpu.length);
      onCpu.forEach((expected, i) => expectClose({ values: onWasm[i]!, shape: [onWasm[i]!.length] }, { values: expected, shape: [expected.length] }));
    });
  }
});

// ---- the ladder --------------------------------------------------------------------

describe('backend ladder', () => {
  it('falls through to wasm here, saying why tfjs-node was not used', async () => {
    const report = await initBackend();
    const tensorflow = report.attempts[0]!;
    expect(tensorflow.name).toBe('tensorflow');
    if (tensorflow.ok) {
      expect(report.name).toBe('tensorflow'); // a machine where tfjs-node loads
    } else {
      expect(tensorflow.reason).toMatch(/tfjs-node/);
      expect(report.name).toBe('wasm');
      expect(report.attempts.map((a) => a.name)).toEqual(['tensorflow', 'wasm']);
      expect(report.note).toMatch(/WebAssembly/);
    }
    expect(activeBackend()).toBe(report.name);
  });

  it('a forced backend that cannot load is a UserError naming it and the reason', async () => {
    let reportName: string | undefined;
    try {
      reportName = (await initBackend('tensorflow')).name;
    } catch (e) {
      expect(isUserError(e)).toBe(true);
      expect((e as { code: string }).code).toBe('unsupported');
      expect((e as Error).message).toMatch(/tensorflow.*tfjs-node/);
    }
    if (reportName !== undefined) expect(reportName).toBe('tensorflow');
  });

  it(`reads the wasm binaries from ${WASM_DIR_ENV} when set, and reports a folder without them`, async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'lenet-wasm-'));
    const before = process.env[WASM_DIR_ENV];
    process.env[WASM_DIR_ENV] = empty;
    try {
      expect(wasmBinaryDir()).toBe(empty);
      await expect(initBackend('wasm')).rejects.toThrow(`no tfjs-backend-wasm-simd.wasm in ${empty}`);
    } finally {
      if (before === undefined) delete process.env[WASM_DIR_ENV]; else process.env[WASM_DIR_ENV] = before;
    }
  });

  it('forcing cpu gives cpu, with its training kernels', async () => {
    const report = await initBackend('cpu');
    expect(report).toMatchObject({ name: 'cpu', attempts: [{ name: 'cpu', ok: true }] });
    expect(activeBackend()).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const again = await initBackend('wasm');
    expect(again.name).toBe('wasm');
    expect(activeBackend()).toBe('wasm');
  });
});
