// The one builder: layer specs (specs.ts) → a tf model made of tfjs-layers and our custom layers.
// The same specs and seed always give the same weights: layer i's initialisers are seeded from
// (model seed, i), and a scheme's second initialiser (torch-default biases) from (model seed, i + 8).
import * as tfl from '@tensorflow/tfjs-layers';
import {
  GaussianRbf, LenetLabModel, MaskedConv2D, RbfOutput, SCALED_TANH_A, SCALED_TANH_S, ScaledTanh, TrainableSubsampling,
  withoutInputGradient,
} from './layers.js';
import { activationLayerName, FUSED_ACTIVATIONS, INPUT_LAYER_NAME, type ActivationSpec, type InitialiserId, type NetworkLayer } from './specs.js';

type Seed = number | undefined;
type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/** Derives per-layer initialiser seeds from the model seed (undefined stays undefined: random init). */
function seeder(seed: Seed): (layerIndex: number) => Seed {
  if (seed === undefined) return () => undefined;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`model seed must be a non-negative integer, got ${seed}`);
  return (layerIndex) => (seed % 2147483647) * 16 + layerIndex;
}

/** Kernel and bias initialisers of a conv or dense layer (undefined = tfjs's default zeros for the bias). */
function initialisers(init: InitialiserId, fanIn: number, seed: (i: number) => Seed, index: number): { kernel: Initializer; bias?: Initializer } {
  const s = seed(index);
  switch (init) {
    case 'lecun-uniform': return { kernel: tfl.initializers.leCunUniform({ seed: s }) };
    case 'he-uniform': return { kernel: tfl.initializers.heUniform({ seed: s }) };
    case 'glorot-uniform': return { kernel: tfl.initializers.glorotUniform({ seed: s }) };
    case 'standard-normal': return { kernel: tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: s }) };
    case 'torch-default': {
      // kaiming_uniform(a=√5) ⇒ U(±1/√fan_in) for the weights; the biases U(±1/√fan_in) too.
      const limit = 1 / Math.sqrt(fanIn);
      return {
        kernel: tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: s }),
        bias: tfl.initializers.randomUniform({ minval: -limit, maxval: limit, seed: seed(index + 8) }),
      };
    }
  }
}

/** The tf activation name of a fused activation; null when the activation needs a layer of its own. */
function fusedActivation(activation: ActivationSpec): 'linear' | 'relu' | 'sigmoid' | 'tanh' | null {
  if (!FUSED_ACTIVATIONS.has(activation.id)) return null;
  return activation.id === 'none' ? 'linear' : activation.id as 'relu' | 'sigmoid' | 'tanh';
}

function activationLayer(layer: NetworkLayer & { activation: ActivationSpec }): tfl.layers.Layer | null {
  const { activation } = layer;
  if (activation.id !== 'scaled-tanh') return null;
  if (activation.amplitude !== SCALED_TANH_A || activation.slope !== SCALED_TANH_S) {
    throw new RangeError(`${layer.id}: the ScaledTanh layer computes ${SCALED_TANH_A}·tanh(${SCALED_TANH_S}·a) only`);
  }
  return new ScaledTanh({ name: activationLayerName(layer.id) });
}

const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor): tfl.SymbolicTensor => layer.apply(x) as tfl.SymbolicTensor;

/** The tf layers of one spec layer, in order. */
function tfLayersOf(layer: NetworkLayer, seed: (i: number) => Seed, fedByInput: boolean): tfl.layers.Layer[] {
  switch (layer.kind) {
    case 'input':
      return [];
    case 'conv': {
      const inMaps = layer.inShape.length === 3 ? layer.inShape[2] : 1;
      let conv: tfl.layers.Layer;
      if (layer.connections) {
        // MaskedConv2D draws its own LeCun-uniform kernel (fan-in over connected maps only).
        if (layer.init !== 'lecun-uniform') throw new RangeError(`${layer.id}: a connection table starts LeCun-uniform only`);
        // MaskedConv2D has no activation of its own: a fused one would be dropped without a word.
        if (fusedActivation(layer.activation) !== null && layer.activation.id !== 'none') {
          throw new RangeError(`${layer.id}: a convolution with a connection table squashes with the scaled tanh or nothing, not ${layer.activation.id}`);
        }
        conv = new MaskedConv2D({
          name: layer.id, filters: layer.maps, kernelSize: layer.kernel,
          connections: layer.connections.map((row) => [...row]), seed: seed(layer.index) ?? null,
        });
      } else {
        const init = initialisers(layer.init, layer.kernel * layer.kernel * inMaps, seed, layer.index);
        const fused = fusedActivation(layer.activation);
        conv = tfl.layers.conv2d({
          name: layer.id, filters: layer.maps, kernelSize: layer.kernel, strides: layer.stride, padding: layer.padding,
          ...(fused && fused !== 'linear' ? { activation: fused } : {}),
          kernelInitializer: init.kernel, ...(init.bias ? { biasInitializer: init.bias } : {}),
        });
      }
      const act = activationLayer(layer);
      return [fedByInput ? withoutInputGradient(conv) : conv, ...(act ? [act] : [])];
    }
    case 'pool': {
      let pool: tfl.layers.Layer;
      if (layer.pooling === 'trainable') {
        if (layer.size !== 2 || layer.stride !== 2) throw new RangeError(`${layer.id}: trainable subsampling is 2×2, stride 2`);
        pool = new TrainableSubsampling({ name: layer.id });
      } else {
        const make = layer.pooling === 'max' ? tfl.layers.maxPooling2d : tfl.layers.averagePooling2d;
        pool = make({ name: layer.id, poolSize: layer.size, strides: layer.stride });
      }
      const act = activationLayer(layer);
      if (!act && layer.activation.id !== 'none') throw new RangeError(`${layer.id}: pooling takes no fused activation`);
      return [pool, ...(act ? [act] : [])];
    }
    case 'dense': {
      const inputs = layer.inShape.reduce((a, d) => a * d, 1);
      const init = initialisers(layer.init, inputs, seed, layer.index);
      const fused = fusedActivation(layer.activation);
      const dense = tfl.layers.dense({
        name: layer.id, units: layer.units, ...(fused && fused !== 'linear' ? { activation: fused } : {}),
        kernelInitializer: init.kernel, ...(init.bias ? { biasInitializer: init.bias } : {}),
      });
      const act = activationLayer(layer);
      return [dense, ...(act ? [act] : [])];
    }
    case 'rbf': {
      if (layer.rbf.kind === 'fixed-bitmaps') return [new RbfOutput({ name: layer.id })];
      if (layer.rbf.init !== 'standard-normal') throw new RangeError(`${layer.id}: Gaussian RBF centres start N(0, 1) only`);
      return [new GaussianRbf({ name: layer.id, units: layer.units, sigma: layer.rbf.sigma, seed: seed(layer.index) ?? null })];
    }
  }
}

/**
 * A fresh, untrained model of a network; the same seed gives the same initial weights. A flatten layer
 * (named 'flatten') joins the last map layer to the first vector layer.
 */
export function buildNetwork(layers: readonly NetworkLayer[], name: string, seed?: number): LenetLabModel {
  const s = seeder(seed);
  const first = layers[0];
  if (!first || first.kind !== 'input') throw new RangeError('a network starts with its input layer');
  const input = tfl.input({ shape: [first.size, first.size, 1], name: INPUT_LAYER_NAME });
  let x = input;
  let previous: NetworkLayer = first;
  for (const layer of layers.slice(1)) {
    if (previous.outShape.length === 3 && layer.outShape.length === 1) x = apply(tfl.layers.flatten({ name: 'flatten' }), x);
    for (const tfLayer of tfLayersOf(layer, s, previous === first)) x = apply(tfLayer, x);
    previous = layer;
  }
  return new LenetLabModel({ inputs: input, outputs: x, name });
}
