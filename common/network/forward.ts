// One image through a variant's network, written directly from its layer specs: plain loops over typed
// arrays instead of tfjs-layers. A drawing-pad prediction through tfjs-layers allocated ≈ 0.6 MB of tensors and
// bookkeeping and ran tfjs' generic paths (lenet5: ≈ 1.3–2.4 ms at p50 on the renderer's cpu backend, a p95 of
// several ms); these loops do lenet5's ≈ 0.33 M multiply-adds in ≈ 0.4 ms and allocate only the maps the caller
// keeps. Isomorphic (no DOM, no node builtins). The weights are the model's own, read at every call: the model
// trains live, and the engine's direct step even overwrites a variable's buffer in place.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ActivationSpec, NetworkLayer } from './specs.js';
import { RBF_TEMPERATURE, type LossKind, type VariantSpec } from './variants.js';

/** How the wasm backend lends a tensor's own memory (no copy); other backends' dataSync does not copy. */
interface HeapBackend { typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array }

/**
 * A variable's current values, without a copy where the backend allows it: the cpu backend's dataSync
 * returns its own array, the wasm backend's copies (≈ 240 kB a prediction for lenet5), so on wasm the
 * values are read in place from its heap. Valid until the next tfjs call (which may grow that heap).
 */
function currentValues(variable: tf.Variable): Float32Array {
  const owner = tf.engine().state.tensorInfo.get(variable.dataId)?.backend as Partial<HeapBackend> | undefined;
  if (variable.dtype === 'float32' && typeof owner?.typedArrayFromHeap === 'function') {
    return owner.typedArrayFromHeap({ shape: variable.shape, dtype: 'float32', dataId: variable.dataId });
  }
  return variable.dataSync() as Float32Array;
}

/** The model's variable `<layer id>/<name>`, read afresh at each call. */
function weightOf(model: tfl.LayersModel, layerId: string, name: string, size: number): () => Float32Array {
  const found = model.getLayer(layerId).weights.find((w) => w.originalName === `${layerId}/${name}` || w.originalName.endsWith(`/${layerId}/${name}`));
  if (!found) throw new Error(`forward pass: layer ${layerId} has no weight "${name}"`);
  const variable = found.read() as tf.Variable;
  const shapeSize = variable.shape.reduce((a, d) => a * d, 1);
  if (shapeSize !== size) throw new Error(`forward pass: ${layerId}/${name} holds ${shapeSize} values, the spec needs ${size}`);
  return () => currentValues(variable);
}

/** Applies a layer's squashing function in place. */
function activate(values: Float32Array | Float64Array, activation: ActivationSpec): void {
  const n = values.length;
  switch (activation.id) {
    case 'none': return;
    case 'relu':
      for (let i = 0; i < n; i++) if (!(values[i]! > 0)) values[i] = 0;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) values[i] = 1 / (1 + Math.exp(-values[i]!));
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) values[i] = Math.tanh(values[i]!);
      return;
    case 'scaled-tanh': {
      const { amplitude, slope } = activation;
      for (let i = 0; i < n; i++) values[i] = amplitude * Math.tanh(slope * values[i]!);
      return;
    }
  }
}

/**
 * A layer's output twice: `planar` map by map (c, y, x), which the loops read, and `flat` in tfjs' NHWC order
 * (y, x, c), the map the caller keeps (and what a dense layer reads, as tfjs flattens it). Vectors: flat only.
 */
interface Maps { planar: Float64Array | null; flat: Float32Array }

/** One layer: reads the layer below, writes its own output into `out`. */
type Step = (below: Maps, out: Maps) => void;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** Squashes the planar map in place and writes it in NHWC order into `flat`. */
function finishMap(planar: Float64Array, flat: Float32Array, maps: number, activation: ActivationSpec): void {
  activate(planar, activation);
  const area = planar.length / maps;
  for (let c = 0; c < maps; c++) {
    const plane = c * area;
    for (let p = 0; p < area; p++) flat[p * maps + c] = planar[plane + p]!;
  }
}

/**
 * y[to + i] += w0·x[from + i] + … + w4·x[from + i + 4] for i < n: the hot loop, in a function of its own so that
 * V8 optimises it whole after a few calls (a loop nest optimised mid-call lacks the feedback of the code after it).
 */
function addRow5(y: Float64Array, to: number, x: Float64Array, from: number, n: number, w0: number, w1: number, w2: number, w3: number, w4: number): void {
  // The window slides one pixel: four of its five inputs were read for the previous output.
  let x0 = x[from]!, x1 = x[from + 1]!, x2 = x[from + 2]!, x3 = x[from + 3]!;
  for (let i = 0; i < n; i++) {
    const x4 = x[from + i + 4]!;
    y[to + i] = y[to + i]! + w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3 + w4 * x4;
    x0 = x1; x1 = x2; x2 = x3; x3 = x4;
  }
}

function convStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'conv' }): Step {
  if (layer.inShape.length !== 3 || layer.outShape.length !== 3) throw new Error(`forward pass: ${layer.id} needs maps`);
  const [inSide, , inMaps] = layer.inShape;
  const [outSide, , outMaps] = layer.outShape;
  const k = layer.kernel;
  const kernelOf = weightOf(model, layer.id, 'kernel', k * k * inMaps * outMaps);
  const biasOf = weightOf(model, layer.id, 'bias', outMaps);
  // MaskedConv2D multiplies its kernel by the table: a removed pair is skipped whatever its stored kernel holds.
  const table = layer.connections;
  const linked = Array.from({ length: inMaps * outMaps }, (_, i) => !table || table[Math.floor(i / outMaps)]![i % outMaps] === 1);
  const { activation } = layer;
  if (outSide === 1) {
    // The window covers the whole input (C5): the NHWC input, read in the kernel's [kh, kw, in] order, is
    // one vector, and the convolution a dense layer over it.
    const inputs = k * k * inMaps;
    const sums = new Float64Array(outMaps);
    return (below, out) => {
      const kernel = kernelOf(); // [kh, kw, in, out]
      const bias = biasOf();
      const x = below.flat;
      for (let o = 0; o < outMaps; o++) sums[o] = bias[o]!;
      for (let i = 0; i < inputs; i++) {
        const xi = x[i]!;
        const row = i * outMaps;
        if (table) {
          const pair = (i % inMaps) * outMaps;
          for (let o = 0; o < outMaps; o++) if (linked[pair + o]) sums[o] = sums[o]! + xi * kernel[row + o]!;
        } else {
          for (let o = 0; o < outMaps; o++) sums[o] = sums[o]! + xi * kernel[row + o]!;
        }
      }
      activate(sums, activation);
      for (let o = 0; o < outMaps; o++) out.flat[o] = out.planar![o] = sums[o]!;
    };
  }
  const inArea = inSide * inSide;
  const outArea = outSide * outSide;
  const pairs = inMaps * outMaps;
  return (below, out) => {
    const kernel = kernelOf(); // [kh, kw, in, out]
    const bias = biasOf();
    const x = below.planar!;
    const y = out.planar!;
    // Shift and add: each kernel tap adds a scaled, shifted copy of its input map, row by row.
    for (let o = 0; o < outMaps; o++) {
      const plane = o * outArea;
      y.fill(bias[o]!, plane, plane + outArea);
      for (let c = 0; c < inMaps; c++) {
        if (!linked[c * outMaps + o]) continue;
        for (let ky = 0; ky < k; ky++) {
          const source = c * inArea + ky * inSide;
          const row = ky * k * pairs + c * outMaps + o; // the tap (ky, 0) in [kh, kw, in, out]
          if (k === 5) {
            // Every variant's kernel: a kernel row in registers, one read and one write of each output per row.
            const w0 = kernel[row]!, w1 = kernel[row + pairs]!, w2 = kernel[row + 2 * pairs]!;
            const w3 = kernel[row + 3 * pairs]!, w4 = kernel[row + 4 * pairs]!;
            for (let oy = 0; oy < outSide; oy++) addRow5(y, plane + oy * outSide, x, source + oy * inSide, outSide, w0, w1, w2, w3, w4);
            continue;
          }
          for (let kx = 0; kx < k; kx++) {
            const w = kernel[row + kx * pairs]!;
            for (let oy = 0; oy < outSide; oy++) {
              const from = source + kx + oy * inSide;
              const to = plane + oy * outSide;
              for (let ox = 0; ox < outSide; ox++) y[to + ox] = y[to + ox]! + w * x[from + ox]!;
            }
          }
        }
      }
    }
    finishMap(y, out.flat, outMaps, activation);
  };
}

function poolStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'pool' }): Step {
  if (layer.inShape.length !== 3 || layer.outShape.length !== 3) throw new Error(`forward pass: ${layer.id} needs maps`);
  const [inSide, , maps] = layer.inShape;
  const [outSide] = layer.outShape;
  const { size, stride, pooling, activation } = layer;
  // The 1998 subsampling: (sum of the block)·coefficient + bias, per map.
  const coefficientOf = pooling === 'trainable' ? weightOf(model, layer.id, 'coefficient', maps) : null;
  const biasOf = pooling === 'trainable' ? weightOf(model, layer.id, 'bias', maps) : null;
  const isMax = pooling === 'max';
  const inArea = inSide * inSide;
  const outArea = outSide * outSide;
  return (below, out) => {
    const x = below.planar!;
    const y = out.planar!;
    const coefficient = coefficientOf?.();
    const bias = biasOf?.();
    for (let c = 0; c < maps; c++) {
      const scale = coefficient ? coefficient[c]! : 1 / (size * size);
      const shift = bias ? bias[c]! : 0;
      for (let oy = 0; oy < outSide; oy++) {
        for (let ox = 0; ox < outSide; ox++) {
          let acc = isMax ? -Infinity : 0;
          for (let dy = 0; dy < size; dy++) {
            const row = c * inArea + (oy * stride + dy) * inSide + ox * stride;
            for (let dx = 0; dx < size; dx++) {
              const v = x[row + dx]!;
              if (isMax) { if (v > acc) acc = v; } else acc += v;
            }
          }
          y[c * outArea + oy * outSide + ox] = isMax ? acc : acc * scale + shift;
        }
      }
    }
    finishMap(y, out.flat, maps, activation);
  };
}

function denseStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'dense' }): Step {
  const inputs = sizeOf(layer.inShape);
  const units = layer.units;
  const kernelOf = weightOf(model, layer.id, 'kernel', inputs * units);
  const biasOf = weightOf(model, layer.id, 'bias', units);
  const sums = new Float64Array(units);
  const { activation } = layer;
  return (below, out) => {
    const kernel = kernelOf(); // [in, out]
    const bias = biasOf();
    const x = below.flat; // NHWC: tfjs' flatten order
    for (let j = 0; j < units; j++) sums[j] = bias[j]!;
    for (let i = 0; i < inputs; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = i * units;
      for (let j = 0; j < units; j++) sums[j] = sums[j]! + xi * kernel[row + j]!;
    }
    activate(sums, activation);
    out.flat.set(sums);
  };
}

function rbfStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'rbf' }): Step {
  const inputs = sizeOf(layer.inShape);
  const units = layer.units;
  const { rbf } = layer;
  // Fixed bitmaps give the squared distances themselves; the Gaussian head exp(−d / 2σ²).
  const prototypesOf = weightOf(model, layer.id, rbf.kind === 'fixed-bitmaps' ? 'prototypes' : 'centres', units * inputs);
  const scale = rbf.kind === 'gaussian' ? -1 / (2 * rbf.sigma * rbf.sigma) : 0;
  return (below, out) => {
    const prototypes = prototypesOf(); // [units, in]
    const x = below.flat;
    for (let u = 0; u < units; u++) {
      let distance = 0;
      const row = u * inputs;
      for (let i = 0; i < inputs; i++) {
        const d = x[i]! - prototypes[row + i]!;
        distance += d * d;
      }
      out.flat[u] = rbf.kind === 'gaussian' ? Math.exp(distance * scale) : distance;
    }
  };
}

/** Class probabilities from the last layer's outputs, as `probabilitiesFor` reads them (see LossKind). */
export function probabilitiesInto(loss: LossKind, outputs: Float32Array, into: Float32Array): void {
  const n = outputs.length;
  if (loss === 'softmax-ce') {
    into.set(outputs);
    return;
  }
  const sign = loss === 'rbf-map' ? -1 / RBF_TEMPERATURE : 1;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, sign * outputs[i]!);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(sign * outputs[i]! - max);
    into[i] = e;
    total += e;
  }
  for (let i = 0; i < n; i++) into[i] = into[i]! / total;
}

export interface ForwardPass {
  /** Shapes of the maps `run` fills: one per layer after the input ([h, w, c] or [n]), in spec order. */
  readonly shapes: readonly (readonly number[])[];
  /**
   * One image in the model's input form (size × size, see toModelInput) → every later layer's map,
   * written into `maps` (one array of each shape's size, NHWC order).
   */
  run(input: Float32Array, maps: readonly Float32Array[]): void;
}

/** The forward pass of `model`, a model built from `spec` (same layer ids and weight layouts). */
export function createForwardPass(model: tfl.LayersModel, spec: Pick<VariantSpec, 'layers'>): ForwardPass {
  const layers = spec.layers.filter((l) => l.kind !== 'input');
  const steps = layers.map((layer): Step => {
    switch (layer.kind) {
      case 'conv': return convStep(model, layer);
      case 'pool': return poolStep(model, layer);
      case 'dense': return denseStep(model, layer);
      case 'rbf': return rbfStep(model, layer);
    }
  });
  const first = spec.layers[0];
  const inputSide = first?.kind === 'input' ? first.size : 0;
  const shapes = layers.map((l) => [...l.outShape]);
  const sizes = shapes.map(sizeOf);
  // The planar copies are the predictor's own, made once; the flat maps are the caller's.
  const empty = new Float32Array(0);
  const outputs: Maps[] = shapes.map((shape, i) => ({ planar: shape.length === 3 ? new Float64Array(sizes[i]!) : null, flat: empty }));
  const inputMaps: Maps = { planar: new Float64Array(inputSide * inputSide), flat: empty };
  const wrongSizes = (maps: readonly Float32Array[]): boolean => {
    if (maps.length !== steps.length) return true;
    for (let i = 0; i < maps.length; i++) if (maps[i]!.length !== sizes[i]) return true;
    return false;
  };
  return {
    shapes,
    run(input, maps) {
      const inputPlanar = inputMaps.planar!;
      if (input.length !== inputPlanar.length) throw new RangeError(`forward pass: expected ${inputPlanar.length} input values, got ${input.length}`);
      if (wrongSizes(maps)) throw new RangeError(`forward pass: expected ${steps.length} maps of sizes ${sizes.join(', ')}`);
      inputPlanar.set(input); // one map: planar and NHWC are the same order
      inputMaps.flat = input;
      let below = inputMaps;
      for (let i = 0; i < steps.length; i++) {
        const out = outputs[i]!;
        out.flat = maps[i]!;
        steps[i]!(below, out);
        below = out;
      }
      // Let go of the caller's arrays.
      inputMaps.flat = empty;
      for (const out of outputs) out.flat = empty;
    },
  };
}
