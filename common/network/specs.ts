// The networks described as data: each variant is a list of layer specs with typed fields (no display
// strings). One builder (build.ts) turns them into tf models; the arithmetic below turns them into the
// numbers the views show (output shapes, parameters, multiply-adds, receptive fields).
// Isomorphic and tf-free: the renderer's views read these.

/** The 1998 squashing function f(a) = A·tanh(S·a), A = 1.7159, S = 2/3 (so f(±1) = ±1). */
export const SCALED_TANH_A = 1.7159;
export const SCALED_TANH_S = 2 / 3;

/** The squashing function of a layer, by id, with its constants. Labels are worded by the renderer. */
export type ActivationSpec =
  | { id: 'none' }
  | { id: 'relu' }
  | { id: 'sigmoid' }
  | { id: 'tanh' }
  /** f(a) = amplitude·tanh(slope·a): LeCun's squashing function (1998, appendix A). */
  | { id: 'scaled-tanh'; amplitude: number; slope: number };

export type ActivationId = ActivationSpec['id'];

/**
 * How a layer's weights start (biases start at 0 unless the scheme says otherwise):
 * - 'lecun-uniform':  U(±√(3/fan-in)); with a connection table, fan-in counts connected inputs only;
 * - 'he-uniform':     U(±√(6/fan-in));
 * - 'glorot-uniform': U(±√(6/(fan-in + fan-out)));
 * - 'torch-default':  PyTorch's Conv2d/Linear default, U(±1/√fan-in) for the weights and the biases;
 * - 'standard-normal': N(0, 1) (the lesson's RBF centres, like torch.randn).
 */
export type InitialiserId = 'lecun-uniform' | 'he-uniform' | 'glorot-uniform' | 'torch-default' | 'standard-normal';

/** A 0/1 table: connections[inputMap][outputMap] is 1 where the output map reads the input map. */
export type ConnectionTable = readonly (readonly number[])[];

interface LayerBase {
  /** The paper's name for the layer ('C1', 'S2', ..., 'OUT'); also the tf layer's name. */
  id: string;
}

export interface InputLayerSpec extends LayerBase {
  kind: 'input';
  /** Side of the square input image, in pixels. */
  size: number;
}

export interface ConvLayerSpec extends LayerBase {
  kind: 'conv';
  maps: number;
  kernel: number;
  stride: 1;
  padding: 'valid';
  activation: ActivationSpec;
  init: InitialiserId;
  /** Which input maps each output map reads; absent = every pair. */
  connections?: ConnectionTable;
}

export type PoolingKind = 'max' | 'average' | 'trainable';

export interface PoolLayerSpec extends LayerBase {
  kind: 'pool';
  /** 'trainable' is the 1998 subsampling: (sum of each block)·coefficient + bias, per map. */
  pooling: PoolingKind;
  size: number;
  stride: number;
  activation: ActivationSpec;
}

export interface DenseLayerSpec extends LayerBase {
  kind: 'dense';
  units: number;
  activation: ActivationSpec;
  init: InitialiserId;
}

export type RbfSpec =
  /** y_i = ‖x − w_i‖² against fixed ±1 7×12 digit bitmaps (not trained). */
  | { kind: 'fixed-bitmaps' }
  /** y_i = exp(−‖x − c_i‖² / 2σ²) with learnable centres c_i. */
  | { kind: 'gaussian'; sigma: number; init: InitialiserId };

export interface RbfLayerSpec extends LayerBase {
  kind: 'rbf';
  units: number;
  rbf: RbfSpec;
}

export type LayerSpec = InputLayerSpec | ConvLayerSpec | PoolLayerSpec | DenseLayerSpec | RbfLayerSpec;
export type LayerKind = LayerSpec['kind'];

/** A square window on the input image: `size`×`size` pixels, `jump` input pixels between neighbouring units. */
export interface ReceptiveField { size: number; jump: number }

/** What follows from a layer spec and the layers below it. */
export interface LayerFacts {
  /** Position in the variant's list (0 = the input). */
  index: number;
  /** [h, w, c] for maps, [n] for vectors. */
  inShape: [number, number, number] | [number];
  outShape: [number, number, number] | [number];
  /** Parameters as the paper counts them (a connection table counts live links only). */
  params: number;
  trainableParams: number;
  /**
   * Multiply-adds per image, bias additions not counted. Pooling counts its reads per output (adds for
   * sum/average pooling, comparisons for max); RBF layers count one subtract-square-add per weight.
   */
  macs: number;
  /** Connections as the 1998 paper counts them: multiply-adds plus one per bias. */
  paperConnections: number;
  /** The input window one unit sees (the whole image for vectors). */
  receptiveField: ReceptiveField;
  /** The tf layer whose output is this layer's activation map (after the squashing function). */
  modelLayerName: string;
  /** The last layer: the network's outputs. */
  isOutput: boolean;
}

export type NetworkLayer = LayerSpec & LayerFacts;

/** The activations a tf layer computes itself; the others get their own layer named `<id>_act`. */
export const FUSED_ACTIVATIONS: ReadonlySet<ActivationId> = new Set(['none', 'relu', 'sigmoid', 'tanh']);

/** The tf name of every model's input layer. */
export const INPUT_LAYER_NAME = 'input';

export const activationLayerName = (id: string): string => `${id}_act`;

const hasOwnActivationLayer = (layer: LayerSpec): boolean =>
  (layer.kind === 'conv' || layer.kind === 'pool' || layer.kind === 'dense') && !FUSED_ACTIVATIONS.has(layer.activation.id);

/** Live links of a table (every pair without one). */
export function linkCount(table: ConnectionTable | undefined, inMaps: number, outMaps: number): number {
  if (!table) return inMaps * outMaps;
  return table.reduce((n, row) => n + row.reduce((a, v) => a + v, 0), 0);
}

const unitsOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

function slide(side: number, window: number, stride: number, id: string): number {
  const out = Math.floor((side - window) / stride) + 1;
  if (out < 1) throw new RangeError(`${id}: a ${window}×${window} window does not fit a ${side}×${side} map`);
  return out;
}

function checkTable(layer: ConvLayerSpec, inMaps: number): void {
  const table = layer.connections;
  if (!table) return;
  if (table.length !== inMaps || table.some((row) => row.length !== layer.maps || row.some((v) => v !== 0 && v !== 1))) {
    throw new RangeError(`${layer.id}: the connection table must be ${inMaps}×${layer.maps} zeros and ones`);
  }
}

/**
 * Every layer's facts, computed from the specs alone (no tf): shapes, parameters, multiply-adds,
 * connections and receptive fields. Throws on a list that cannot be a network.
 */
export function describeNetwork(specs: readonly LayerSpec[]): NetworkLayer[] {
  const first = specs[0];
  if (!first || first.kind !== 'input') throw new RangeError('a network starts with its input layer');
  const out: NetworkLayer[] = [];
  let shape: [number, number, number] | [number] = [first.size, first.size, 1];
  let field: ReceptiveField = { size: 1, jump: 1 };
  specs.forEach((layer, index) => {
    const inShape = shape;
    let params = 0;
    let trainable = 0;
    let macs = 0;
    let biases = 0;
    if (layer.kind === 'input') {
      if (index !== 0) throw new RangeError(`${layer.id}: only the first layer is an input`);
    } else if (layer.kind === 'conv' || layer.kind === 'pool') {
      if (inShape.length !== 3) throw new RangeError(`${layer.id}: a ${layer.kind} layer needs maps below it`);
      const [side, , inMaps] = inShape;
      if (layer.kind === 'conv') {
        checkTable(layer, inMaps);
        const o = slide(side, layer.kernel, layer.stride, layer.id);
        const links = linkCount(layer.connections, inMaps, layer.maps);
        params = trainable = links * layer.kernel * layer.kernel + layer.maps;
        macs = o * o * links * layer.kernel * layer.kernel;
        biases = o * o * layer.maps;
        shape = [o, o, layer.maps];
        field = { size: field.size + (layer.kernel - 1) * field.jump, jump: field.jump * layer.stride };
      } else {
        const o = slide(side, layer.size, layer.stride, layer.id);
        params = trainable = layer.pooling === 'trainable' ? 2 * inMaps : 0;
        macs = o * o * inMaps * layer.size * layer.size;
        biases = layer.pooling === 'trainable' ? o * o * inMaps : 0;
        shape = [o, o, inMaps];
        field = { size: field.size + (layer.size - 1) * field.jump, jump: field.jump * layer.stride };
      }
    } else {
      const inputs = unitsOf(inShape);
      params = inputs * layer.units + (layer.kind === 'dense' ? layer.units : 0);
      trainable = layer.kind === 'rbf' && layer.rbf.kind === 'fixed-bitmaps' ? 0 : params;
      macs = inputs * layer.units;
      biases = layer.kind === 'dense' ? layer.units : 0;
      shape = [layer.units];
      field = { size: first.size, jump: 0 };
    }
    out.push({
      ...layer,
      index,
      inShape,
      outShape: shape,
      params,
      trainableParams: trainable,
      macs,
      paperConnections: macs + biases,
      receptiveField: field,
      modelLayerName: layer.kind === 'input' ? INPUT_LAYER_NAME : hasOwnActivationLayer(layer) ? activationLayerName(layer.id) : layer.id,
      isOutput: index === specs.length - 1,
    });
  });
  return out;
}

/** Totals over a network: parameters (all, trainable), multiply-adds and the paper's connections. */
export function networkTotals(layers: readonly LayerFacts[]): { params: number; trainableParams: number; macs: number; paperConnections: number } {
  return layers.reduce((t, l) => ({
    params: t.params + l.params,
    trainableParams: t.trainableParams + l.trainableParams,
    macs: t.macs + l.macs,
    paperConnections: t.paperConnections + l.paperConnections,
  }), { params: 0, trainableParams: 0, macs: 0, paperConnections: 0 });
}

/** The input maps of `layer` that its output map `map` reads (a pool reads its own map only). */
export function inputMapsOf(layer: NetworkLayer, map: number): number[] {
  if (layer.kind === 'pool') return [map];
  const inMaps = layer.inShape.length === 3 ? layer.inShape[2] : 1;
  const all = Array.from({ length: inMaps }, (_, i) => i);
  if (layer.kind !== 'conv' || !layer.connections) return all;
  const table = layer.connections;
  return all.filter((i) => table[i]?.[map] === 1);
}

/** The value of an activation at a, by its id and constants. */
export function applyActivationSpec(activation: ActivationSpec, a: number): number {
  switch (activation.id) {
    case 'none': return a;
    case 'relu': return Math.max(0, a);
    case 'sigmoid': return 1 / (1 + Math.exp(-a));
    case 'tanh': return Math.tanh(a);
    case 'scaled-tanh': return activation.amplitude * Math.tanh(activation.slope * a);
  }
}
