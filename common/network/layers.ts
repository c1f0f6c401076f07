// Custom TF.js layers for the LeNet-5 variants, registered for serialisation so that a saved
// model.json loads with a plain tf.loadLayersModel once this module has been imported.
// Isomorphic: the renderer imports it too, so no node builtins here.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { RBF_PROTOTYPES } from './rbf-bitmaps.js';
import { SCALED_TANH_A, SCALED_TANH_S } from './specs.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Shape = tfl.Shape;
type LayerVariable = tfl.LayerVariable;

function singleInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (x === undefined) throw new Error('layer called without an input tensor');
  return x;
}

function singleShape(inputShape: Shape | Shape[]): Shape {
  // A list of shapes has arrays as elements; a single shape has numbers or nulls.
  const first = inputShape[0];
  return (Array.isArray(first) ? first : inputShape) as Shape;
}

function knownDim(shape: Shape, axis: number, what: string): number {
  const d = shape[axis < 0 ? shape.length + axis : axis];
  if (d == null) throw new Error(`${what}: dimension ${axis} of input shape [${shape.join(',')}] must be known`);
  return d;
}

// ---------------------------------------------------------------------------------------------

interface ConvInternals {
  kernel: LayerVariable;
  bias: LayerVariable | null;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

/**
 * Makes a first convolution (one fed by the model's input) skip the gradient of that input while
 * training. tfjs-layers always runs a convolution whose activation is not ReLU/ELU as tfjs's fused
 * conv2d, and in a gradient pass that op computes the gradient of every input eagerly, including
 * the input images' (≈ 2 ms a step at batch 64, thrown away). Under a gradient tape this layer runs
 * the same arithmetic unfused (conv2d, bias, activation), whose gradients tfjs computes only where
 * they lead to a variable; outside a tape, and for anything but a plain 2-D NHWC convolution, it
 * runs as it always did. Only the instance's `call` changes, so the model saves and loads as usual.
 */
export function withoutInputGradient<L extends tfl.layers.Layer>(layer: L): L {
  const original = layer.call.bind(layer);
  layer.call = (inputs, kwargs) => {
    const conv = layer as unknown as ConvInternals;
    const dilation = Array.isArray(conv.dilationRate) ? conv.dilationRate : [conv.dilationRate];
    const plain = conv.dataFormat === 'channelsLast' && dilation.every((d) => d === 1) && (conv.padding === 'valid' || conv.padding === 'same');
    if (tf.engine().state.gradientDepth === 0 || !plain) return original(inputs, kwargs);
    return tf.tidy(() => {
      const x = singleInput(inputs) as tf.Tensor4D;
      let y: tf.Tensor = tf.conv2d(x, conv.kernel.read() as tf.Tensor4D, conv.strides as [number, number], conv.padding as 'valid' | 'same');
      if (conv.bias) y = tf.add(y, conv.bias.read());
      return conv.activation.apply(y);
    });
  };
  return layer;
}

// ---------------------------------------------------------------------------------------------

export { SCALED_TANH_A, SCALED_TANH_S } from './specs.js';

export class ScaledTanh extends tfl.layers.Layer {
  static readonly className = 'ScaledTanh';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(SCALED_TANH_A, tf.tanh(tf.mul(singleInput(inputs), SCALED_TANH_S))));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}

// ---------------------------------------------------------------------------------------------

export interface TrainableSubsamplingArgs extends LayerArgs {
  /** Initial value of every map's coefficient (0.25 makes the layer start as a plain average). */
  coefficientInit?: number;
}

/**
 * S2/S4 of the 1998 paper: per map, the sum of each non-overlapping 2×2 block times a trainable
 * coefficient plus a trainable bias (2 parameters per map). Computed as avgPool(2×2, stride 2)·4·coef + bias.
 */
export class TrainableSubsampling extends tfl.layers.Layer {
  static readonly className = 'TrainableSubsampling';
  readonly coefficientInit: number;
  private coefficient: LayerVariable | null = null;
  private bias: LayerVariable | null = null;

  constructor(args: TrainableSubsamplingArgs = {}) {
    const { coefficientInit, ...layerArgs } = args;
    super(layerArgs);
    this.coefficientInit = coefficientInit ?? 0.25;
  }

  override build(inputShape: Shape | Shape[]): void {
    const maps = knownDim(singleShape(inputShape), -1, 'TrainableSubsampling');
    this.coefficient = this.addWeight(
      'coefficient', [maps], 'float32', tfl.initializers.constant({ value: this.coefficientInit }),
    );
    this.bias = this.addWeight('bias', [maps], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const coefficient = this.coefficient;
    const bias = this.bias;
    if (!coefficient || !bias) throw new Error(`${this.name} was called before it was built`);
    return tf.tidy(() => {
      const blockSum = tf.mul(tf.avgPool(singleInput(inputs) as tf.Tensor4D, 2, 2, 'valid'), 4);
      return tf.add(tf.mul(blockSum, coefficient.read()), bias.read());
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const s = singleShape(inputShape);
    const half = (d: number | null | undefined): number | null => (d == null ? null : Math.floor(d / 2));
    return [s[0] ?? null, half(s[1]), half(s[2]), s[3] ?? null];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), coefficientInit: this.coefficientInit };
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * The paper's C3 connection table: LENET5_C3_CONNECTIONS[s2Map][c3Map] is 1 where C3 map c3Map reads
 * S2 map s2Map. Rows are the 6 S2 maps, columns the 16 C3 maps. 60 links in all.
 */
export const LENET5_C3_CONNECTIONS: readonly (readonly number[])[] = [
  'X...XXX..XXXX.XX',
  'XX...XXX..XXXX.X',
  'XXX...XXX..X.XXX',
  '.XXX..XXXX..X.XX',
  '..XXX..XXXX.XX.X',
  '...XXX..XXXX.XXX',
].map((row) => [...row].map((c) => (c === 'X' ? 1 : 0)));

/**
 * LeNet-1's C3 table (our choice; see assets/reference/lenet1-lenet4-linear.md): each of the 12 C3 maps
 * reads 2 of the 4 S2 maps: maps 0–3 neighbouring pairs (0,1) (1,2) (2,3) (3,0), maps 4–5 the others (0,2) (1,3),
 * and maps 6–11 the same six pairs again. 24 links in all.
 */
export const LENET1_C3_CONNECTIONS: readonly (readonly number[])[] = [
  'X..XX.X..XX.',
  'XX...XXX...X',
  '.XX.X..XX.X.',
  '..XX.X..XX.X',
].map((row) => [...row].map((c) => (c === 'X' ? 1 : 0)));

export interface MaskedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  /** connections[inputMap][outputMap] ∈ {0,1}; a 0 removes the whole kh×kw kernel slice for that pair. */
  connections: number[][];
  /** Seed for the kernel initialiser (LeCun uniform, fan-in counted over connected inputs only). */
  seed?: number | null;
}

/**
 * A valid-padding, stride-1 convolution whose kernel is multiplied by a fixed 0/1 connection mask in
 * call(). Removed links start at exactly 0 and get exactly-0 gradients, so any optimiser keeps them 0;
 * applyMask() re-zeros them anyway before weights leave the layer. countParams() counts only live links.
 */
export class MaskedConv2D extends tfl.layers.Layer {
  static readonly className = 'MaskedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly connections: number[][];
  readonly seed: number | null;
  private kernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;
  private mask: tf.Tensor4D | null = null;

  constructor(args: MaskedConv2DArgs) {
    const { filters, kernelSize, connections, seed, ...layerArgs } = args;
    super(layerArgs);
    if (!Number.isInteger(filters) || filters < 1) throw new Error(`MaskedConv2D: filters must be a positive integer, got ${filters}`);
    if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new Error(`MaskedConv2D: kernelSize must be a positive integer, got ${kernelSize}`);
    if (!Array.isArray(connections) || connections.length === 0
      || connections.some((row) => !Array.isArray(row) || row.length !== filters || row.some((v) => v !== 0 && v !== 1))) {
      throw new Error(`MaskedConv2D: connections must be a non-empty table of 0/1 rows with ${filters} entries each`);
    }
    this.filters = filters;
    this.kernelSize = kernelSize;
    this.connections = connections.map((row) => [...row]);
    this.seed = seed ?? null;
  }

  /** Number of (input map, output map) pairs that are connected. */
  get linkCount(): number {
    return this.connections.reduce((n, row) => n + row.reduce((a, v) => a + v, 0), 0);
  }

  override build(inputShape: Shape | Shape[]): void {
    const inMaps = knownDim(singleShape(inputShape), -1, 'MaskedConv2D');
    if (inMaps !== this.connections.length) {
      throw new Error(`MaskedConv2D ${this.name}: input has ${inMaps} maps but the connection table has ${this.connections.length} rows`);
    }
    const k = this.kernelSize;
    const kernelShape: [number, number, number, number] = [k, k, inMaps, this.filters];
    this.mask = tf.keep(tf.tensor4d(this.connections.flat(), [1, 1, inMaps, this.filters]));
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', tfl.initializers.zeros());
    this.bias = this.addWeight('bias', [this.filters], 'float32', tfl.initializers.zeros());
    // LeCun uniform per output map: limit √(3 / fan-in), fan-in = k·k·(connected input maps).
    const mask = this.mask;
    const fanIns = Array.from({ length: this.filters }, (_, j) =>
      k * k * Math.max(1, this.connections.reduce((n, row) => n + (row[j] ?? 0), 0)));
    const initial = tf.tidy(() => {
      const unit = tf.randomUniform(kernelShape, -1, 1, 'float32', this.seed ?? undefined);
      const limits = tf.tensor1d(fanIns.map((f) => Math.sqrt(3 / f)));
      return tf.mul(tf.mul(unit, limits), mask);
    });
    this.kernel.write(initial);
    initial.dispose();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const { kernel, bias, mask } = this;
    if (!kernel || !bias || !mask) throw new Error(`${this.name} was called before it was built`);
    return tf.tidy(() => {
      const effective = tf.mul(kernel.read(), mask) as tf.Tensor4D;
      const y = tf.conv2d(singleInput(inputs) as tf.Tensor4D, effective, 1, 'valid');
      return tf.add(y, bias.read());
    });
  }

  /** Set the removed links of the stored kernel to exactly 0 (they already are unless someone wrote them). */
  applyMask(): void {
    const { kernel, mask } = this;
    if (!kernel || !mask) return;
    const masked = tf.tidy(() => tf.mul(kernel.read(), mask));
    kernel.write(masked);
    masked.dispose();
  }

  /** Copies of this layer's weights in `this.weights` order, the kernel with removed links zeroed. */
  maskedWeightValues(): tf.Tensor[] {
    const { kernel, bias, mask } = this;
    if (!kernel || !bias || !mask) throw new Error(`${this.name} has no weights before it is built`);
    return this.weights.map((w) => (w === kernel ? tf.mul(kernel.read(), mask) : tf.clone(w.read())));
  }

  override countParams(): number {
    return this.linkCount * this.kernelSize * this.kernelSize + this.filters;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const s = singleShape(inputShape);
    const out = (d: number | null | undefined): number | null => (d == null ? null : d - this.kernelSize + 1);
    return [s[0] ?? null, out(s[1]), out(s[2]), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      connections: this.connections.map((row) => [...row]),
      seed: this.seed,
    };
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0 && this.mask) {
      this.mask.dispose();
      this.mask = null;
    }
    return result;
  }
}

// ---------------------------------------------------------------------------------------------

/** Squared distances ‖x − w_i‖² between each input row [B, n] and each prototype row of w [units, n]. */
function squaredDistances(x: tf.Tensor, prototypes: tf.Tensor): tf.Tensor {
  // Direct form (not ‖x‖² − 2x·w + ‖w‖²): exact, never negative, and only units·n values per image.
  return tf.sum(tf.square(tf.sub(tf.expandDims(x, 1), prototypes)), 2);
}

/**
 * The 1998 output layer: y_i = Σ_j (x_j − w_ij)² against FIXED ±1 7×12 digit bitmaps (not trainable).
 * Outputs distances: the smaller y_i, the more likely digit i.
 */
export class RbfOutput extends tfl.layers.Layer {
  static readonly className = 'RbfOutput';
  private prototypes: LayerVariable | null = null;

  constructor(args: LayerArgs = {}) {
    super({ ...args, trainable: false });
  }

  override build(inputShape: Shape | Shape[]): void {
    const n = knownDim(singleShape(inputShape), -1, 'RbfOutput');
    const expected = RBF_PROTOTYPES[0]?.length ?? 0;
    if (n !== expected) throw new Error(`RbfOutput ${this.name}: input must have ${expected} units (F6), got ${n}`);
    this.prototypes = this.addWeight(
      'prototypes', [RBF_PROTOTYPES.length, n], 'float32', tfl.initializers.zeros(), undefined, false,
    );
    const bitmaps = tf.tensor2d(RBF_PROTOTYPES.map((p) => [...p]));
    this.prototypes.write(bitmaps);
    bitmaps.dispose();
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const prototypes = this.prototypes;
    if (!prototypes) throw new Error(`${this.name} was called before it was built`);
    return tf.tidy(() => squaredDistances(singleInput(inputs), prototypes.read()));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return [singleShape(inputShape)[0] ?? null, RBF_PROTOTYPES.length];
  }

  override getConfig(): tf.serialization.ConfigDict {
    // The prototypes are weights (saved in weights.bin); the config needs nothing beyond the base layer's.
    return { ...super.getConfig() };
  }
}

// ---------------------------------------------------------------------------------------------

export interface GaussianRbfArgs extends LayerArgs {
  units: number;
  /** Width of the Gaussian; the lesson uses 1. */
  sigma?: number;
  /** Seed for the standard-normal centre initialiser (like torch.randn). */
  seed?: number | null;
}

/** The lesson's learnable RBF head: out_i = exp(−‖x − c_i‖² / (2σ²)), centres c trainable, init N(0, 1). */
export class GaussianRbf extends tfl.layers.Layer {
  static readonly className = 'GaussianRbf';
  readonly units: number;
  readonly sigma: number;
  readonly seed: number | null;
  private centres: LayerVariable | null = null;

  constructor(args: GaussianRbfArgs) {
    const { units, sigma, seed, ...layerArgs } = args;
    super(layerArgs);
    if (!Number.isInteger(units) || units < 1) throw new Error(`GaussianRbf: units must be a positive integer, got ${units}`);
    const s = sigma ?? 1;
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`GaussianRbf: sigma must be a positive number, got ${s}`);
    this.units = units;
    this.sigma = s;
    this.seed = seed ?? null;
  }

  override build(inputShape: Shape | Shape[]): void {
    const n = knownDim(singleShape(inputShape), -1, 'GaussianRbf');
    this.centres = this.addWeight(
      'centres', [this.units, n], 'float32',
      tfl.initializers.randomNormal({ mean: 0, stddev: 1, seed: this.seed ?? undefined }),
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const centres = this.centres;
    if (!centres) throw new Error(`${this.name} was called before it was built`);
    return tf.tidy(() =>
      tf.exp(tf.mul(squaredDistances(singleInput(inputs), centres.read()), -1 / (2 * this.sigma * this.sigma))));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return [singleShape(inputShape)[0] ?? null, this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, sigma: this.sigma, seed: this.seed };
  }
}

// ---------------------------------------------------------------------------------------------

function countWeights(weights: readonly LayerVariable[]): number {
  return weights.reduce((n, w) => n + w.shape.reduce<number>((a, d) => a * (d ?? 0), 1), 0);
}

/** Trainable parameters of one layer, honouring countParams() overrides (MaskedConv2D counts live links only). */
export function trainableParamsOf(layer: tfl.layers.Layer): number {
  if (!layer.trainable) return 0;
  return layer.countParams() - countWeights(layer.nonTrainableWeights);
}

/** Sum of per-layer countParams(), so MaskedConv2D's live-link count reaches the model total. */
export function countModelParams(model: tfl.LayersModel): number {
  return model.layers.reduce((n, layer) => n + layer.countParams(), 0);
}

export function countModelTrainableParams(model: tfl.LayersModel): number {
  return model.layers.reduce((n, layer) => n + trainableParamsOf(layer), 0);
}

/**
 * The model class of every LeNet Lab variant: a LayersModel whose parameter totals (countParams() and
 * summary()) add up per-layer counts, so masked C3 reports the paper's 1,516 and not its raw 2,416.
 */
export class LenetLabModel extends tfl.LayersModel {
  static override readonly className = 'LenetLabModel';

  override countParams(): number {
    return countModelParams(this);
  }

  override summary(lineLength?: number, positions?: number[], printFn: (message?: unknown, ...rest: unknown[]) => void = console.log): void {
    const total = countModelParams(this);
    const trainable = countModelTrainableParams(this);
    super.summary(lineLength, positions, (message?: unknown, ...rest: unknown[]) => {
      if (typeof message === 'string') {
        if (message.startsWith('Total params:')) message = `Total params: ${total}`;
        else if (message.startsWith('Trainable params:')) message = `Trainable params: ${trainable}`;
        else if (message.startsWith('Non-trainable params:')) message = `Non-trainable params: ${total - trainable}`;
      }
      printFn(message, ...rest);
    });
  }
}

/** Every MaskedConv2D in the model re-zeros its removed links (call before reading or saving weights). */
export function applyConnectionMasks(model: tfl.LayersModel): void {
  for (const layer of model.layers) if (layer instanceof MaskedConv2D) layer.applyMask();
}

for (const cls of [ScaledTanh, TrainableSubsampling, MaskedConv2D, RbfOutput, GaussianRbf, LenetLabModel]) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}

/** The class names of LeNet Lab's own layers (and model): a saved topology naming one needs this code to load. */
export const CUSTOM_CLASS_NAMES: readonly string[] = [
  ScaledTanh.className, TrainableSubsampling.className, MaskedConv2D.className,
  RbfOutput.className, GaussianRbf.className, LenetLabModel.className,
];
