// One image through a variant's network, written directly from its layer specs: plain loops over
// Float32Arrays instead of tfjs-layers. A drawing-pad prediction through tfjs allocates ≈ 0.6 MB of tensors
// and bookkeeping and runs tfjs' generic paths (≈ 2.4 ms at p50 for lenet5 on the renderer's cpu backend);
// these loops do ≈ 0.3 M multiply-adds with no allocation beyond the maps the caller keeps.
// Isomorphic (no DOM, no node builtins). The weights are the model's own, read at every call: the model
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

/** Applies a layer's squashing function in place, in float32 like tfjs. */
function activate(values: Float32Array, activation: ActivationSpec): void {
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

/** One layer: reads `input` (the layer below's map, NHWC-flat), writes its own map into `out`. */
type Step = (input: Float32Array, out: Float32Array) => void;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

function convStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'conv' }): Step {
  if (layer.inShape.length !== 3 || layer.outShape.length !== 3) throw new Error(`forward pass: ${layer.id} needs maps`);
  const [inSide, , inMaps] = layer.inShape;
  const [outSide, , outMaps] = layer.outShape;
  const k = layer.kernel;
  const kernelOf = weightOf(model, layer.id, 'kernel', k * k * inMaps * outMaps);
  const biasOf = weightOf(model, layer.id, 'bias', outMaps);
  // MaskedConv2D multiplies its kernel by the table at each call: so do we, into a buffer of our own.
  const mask = layer.connections ? Float32Array.from(layer.connections.flat()) : null;
  const masked = mask ? new Float32Array(k * k * inMaps * outMaps) : null;
  const sums = new Float64Array(outMaps);
  const { activation } = layer;
  return (input, out) => {
    let kernel = kernelOf(); // [kh, kw, in, out]
    if (mask && masked) {
      const pairs = inMaps * outMaps;
      for (let i = 0; i < masked.length; i++) masked[i] = kernel[i]! * mask[i % pairs]!;
      kernel = masked;
    }
    const bias = biasOf();
    for (let oy = 0; oy < outSide; oy++) {
      for (let ox = 0; ox < outSide; ox++) {
        for (let o = 0; o < outMaps; o++) sums[o] = bias[o]!;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const pixel = ((oy + ky) * inSide + ox + kx) * inMaps;
            const tap = (ky * k + kx) * inMaps * outMaps;
            for (let c = 0; c < inMaps; c++) {
              const x = input[pixel + c]!;
              const w = tap + c * outMaps;
              for (let o = 0; o < outMaps; o++) sums[o]! += x * kernel[w + o]!;
            }
          }
        }
        const at = (oy * outSide + ox) * outMaps;
        for (let o = 0; o < outMaps; o++) out[at + o] = sums[o]!;
      }
    }
    activate(out, activation);
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
  const average = 1 / (size * size);
  return (input, out) => {
    const coefficient = coefficientOf?.();
    const bias = biasOf?.();
    for (let oy = 0; oy < outSide; oy++) {
      for (let ox = 0; ox < outSide; ox++) {
        const at = (oy * outSide + ox) * maps;
        for (let c = 0; c < maps; c++) {
          let acc = isMax ? -Infinity : 0;
          for (let dy = 0; dy < size; dy++) {
            const row = ((oy * stride + dy) * inSide + ox * stride) * maps + c;
            for (let dx = 0; dx < size; dx++) {
              const x = input[row + dx * maps]!;
              if (isMax) { if (x > acc) acc = x; } else acc += x;
            }
          }
          out[at + c] = coefficient && bias ? acc * coefficient[c]! + bias[c]! : isMax ? acc : acc * average;
        }
      }
    }
    activate(out, activation);
  };
}

function denseStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'dense' }): Step {
  const inputs = sizeOf(layer.inShape);
  const units = layer.units;
  const kernelOf = weightOf(model, layer.id, 'kernel', inputs * units);
  const biasOf = weightOf(model, layer.id, 'bias', units);
  const sums = new Float64Array(units);
  const { activation } = layer;
  return (input, out) => {
    const kernel = kernelOf(); // [in, out]
    const bias = biasOf();
    for (let j = 0; j < units; j++) sums[j] = bias[j]!;
    for (let i = 0; i < inputs; i++) {
      const x = input[i]!;
      if (x === 0) continue;
      const row = i * units;
      for (let j = 0; j < units; j++) sums[j]! += x * kernel[row + j]!;
    }
    for (let j = 0; j < units; j++) out[j] = sums[j]!;
    activate(out, activation);
  };
}

function rbfStep(model: tfl.LayersModel, layer: NetworkLayer & { kind: 'rbf' }): Step {
  const inputs = sizeOf(layer.inShape);
  const units = layer.units;
  const { rbf } = layer;
  // Fixed bitmaps give the squared distances themselves; the Gaussian head exp(−d / 2σ²).
  const prototypesOf = weightOf(model, layer.id, rbf.kind === 'fixed-bitmaps' ? 'prototypes' : 'centres', units * inputs);
  const scale = rbf.kind === 'gaussian' ? -1 / (2 * rbf.sigma * rbf.sigma) : 0;
  return (input, out) => {
    const prototypes = prototypesOf(); // [units, in]
    for (let u = 0; u < units; u++) {
      let distance = 0;
      const row = u * inputs;
      for (let i = 0; i < inputs; i++) {
        const d = input[i]! - prototypes[row + i]!;
        distance += d * d;
      }
      out[u] = rbf.kind === 'gaussian' ? Math.exp(distance * scale) : distance;
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
  const inputSize = first?.kind === 'input' ? first.size * first.size : 0;
  const shapes = layers.map((l) => [...l.outShape]);
  const sizes = shapes.map(sizeOf);
  return {
    shapes,
    run(input, maps) {
      if (input.length !== inputSize) throw new RangeError(`forward pass: expected ${inputSize} input values, got ${input.length}`);
      if (maps.length !== steps.length || maps.some((m, i) => m.length !== sizes[i])) {
        throw new RangeError(`forward pass: expected ${steps.length} maps of sizes ${sizes.join(', ')}`);
      }
      let below = input;
      steps.forEach((step, i) => {
        step(below, maps[i]!);
        below = maps[i]!;
      });
    },
  };
}
