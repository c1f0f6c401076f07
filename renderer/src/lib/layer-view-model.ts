// One view model per layer, built from the variant's layer specs: the Network, Kernels and Feature maps
// views all read their names, sizes, labels and explanations from here. Pure: no DOM, no stores.
import type { ActivationSpec, ConnectionTable, NetworkLayer } from '../../../common/network/specs.js';
import type { VariantSpec } from '../../../common/network/variants.js';
import { activationFormulaOf, slopeText, type Stage } from './draw-tensor.js';

export interface LayerViewModel {
  layer: NetworkLayer;
  id: string;
  index: number;
  kind: NetworkLayer['kind'];
  /** 'INPUT', 'OUTPUT' or the paper's id ('C1', 'S2', ...). */
  name: string;
  /** One line: 'C1 convolution 6@5×5', 'S2 trainable subsampling 2×2', 'Output full 10 (logits)'. */
  title: string;
  /** '32×32', '6@28×28', '120'. */
  sizeText: string;
  /** Spatial maps (more than 1×1) rather than a vector of units. */
  isMap: boolean;
  /** Maps of the output (1 for vectors). */
  maps: number;
  units: number;
  /** Maps of the layer below (1 for the input image). */
  inMaps: number;
  /** The view model of the layer below, null for the input. */
  below: LayerViewModel | null;
  /** The window a unit reads in the layer below, null for the input and vector layers. */
  stage: Stage | null;
  /** Which input maps each output map reads; null = every pair. */
  connections: ConnectionTable | null;
  /** The activation as a label: 'scaled tanh 1.7159·tanh(2a/3)', 'relu', 'none (softmax in the loss)'. */
  activationLabel: string;
  /** Under the diagram: 'scaled tanh', 'max of 4', 'RBF distance'. */
  activationShort: string;
  /** The squashing function the layer applies after its sum, or null for pools and RBF outputs without one. */
  activation: ActivationSpec | null;
  /** The kind of connection from the layer below, as Fig. 2 of the paper words it. */
  connectionKind: string;
  /** How the parameters add up: '5×5×1×6 weights + 6 biases'. */
  paramsFormula: string;
  /** What the layer computes, in a sentence or two. */
  explanation: string;
}

const unitsOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

export function activationLabel(activation: ActivationSpec, isOutput: boolean): string {
  switch (activation.id) {
    case 'scaled-tanh': return `scaled tanh ${activation.amplitude}·tanh(${slopeText(activation.slope)})`;
    case 'none': return isOutput ? 'none (softmax in the loss)' : 'none';
    default: return activation.id;
  }
}

function layerActivation(layer: NetworkLayer): ActivationSpec | null {
  return layer.kind === 'conv' || layer.kind === 'pool' || layer.kind === 'dense' ? layer.activation : null;
}

function labelOf(layer: NetworkLayer): string {
  if (layer.kind === 'input') return 'none';
  if (layer.kind === 'rbf') return layer.rbf.kind === 'fixed-bitmaps' ? 'squared distance to each digit bitmap' : 'exp(−‖x−c‖²/2σ²)';
  return activationLabel(layer.activation, layer.isOutput);
}

function shortOf(layer: NetworkLayer): string {
  switch (layer.kind) {
    case 'input': return '';
    case 'rbf': return layer.rbf.kind === 'fixed-bitmaps' ? 'RBF distance' : 'Gaussian RBF';
    case 'pool':
      if (layer.activation.id === 'none') return `${layer.pooling === 'max' ? 'max' : 'mean'} of ${layer.size * layer.size}`;
      break;
    default:
      break;
  }
  const activation = layer.activation;
  if (activation.id === 'scaled-tanh') return 'scaled tanh';
  return activation.id === 'none' ? 'linear' : activation.id;
}

function titleOf(layer: NetworkLayer, inMaps: number): string {
  const name = layer.isOutput ? 'Output' : layer.id;
  switch (layer.kind) {
    case 'input': return `Input ${layer.size}×${layer.size}`;
    case 'conv': {
      const spatial = layer.outShape.length === 3 && layer.outShape[0] > 1;
      const links = layer.connections ? ', partial connections' : inMaps > 1 && spatial ? ', full' : '';
      return `${name} convolution ${layer.maps}@${layer.kernel}×${layer.kernel}${links}`;
    }
    case 'pool': {
      const how = layer.pooling === 'trainable' ? 'trainable subsampling' : `${layer.pooling} pooling`;
      return `${name} ${how} ${layer.size}×${layer.size}`;
    }
    case 'dense': return layer.isOutput && layer.activation.id === 'none' ? `${name} full ${layer.units} (logits)` : `${name} full ${layer.units}`;
    case 'rbf':
      return layer.rbf.kind === 'fixed-bitmaps'
        ? `${name} RBF ${layer.units} (fixed 7×12 bitmaps)`
        : `${name} Gaussian RBF ${layer.units} (learnable centres, σ = ${layer.rbf.sigma})`;
  }
}

function connectionKindOf(layer: NetworkLayer): string {
  switch (layer.kind) {
    case 'conv': return 'Convolutions';
    case 'pool': return layer.pooling === 'max' ? 'Max pooling' : layer.pooling === 'average' ? 'Average pooling' : 'Subsampling';
    case 'dense': return 'Full connection';
    case 'rbf': return 'Gaussian connections';
    case 'input': return '';
  }
}

function paramsFormulaOf(layer: NetworkLayer, inMaps: number, inputs: number): string {
  switch (layer.kind) {
    case 'conv': {
      const k = layer.kernel;
      if (!layer.connections) return `${k}×${k}×${inMaps}×${layer.maps} weights + ${layer.maps} biases`;
      return `${(layer.params - layer.maps) / (k * k)} map pairs × ${k * k} weights + ${layer.maps} biases`;
    }
    case 'pool': return layer.params > 0 ? `a coefficient and a bias per map: 2 × ${inMaps}` : 'no weights';
    case 'dense': return `${inputs}×${layer.units} weights + ${layer.units} biases`;
    case 'rbf':
      return layer.rbf.kind === 'fixed-bitmaps' ? `${layer.units} × ${inputs} fixed ±1 bitmap values (not trained)` : `${layer.units} centres × ${inputs}`;
    case 'input': return 'the image itself';
  }
}

function explanationOf(vm: LayerViewModel, spec: VariantSpec): string {
  const { layer, below } = vm;
  const belowName = below?.name ?? 'the input';
  switch (layer.kind) {
    case 'input':
      return `A ${layer.size}×${layer.size} image: the 28×28 MNIST digit ${spec.input.pad > 0 ? `centred with a ${spec.input.pad}-pixel border` : 'as it is'}, `
        + `background ${spec.input.background} and ink ${spec.input.ink}.`;
    case 'conv':
      return `Each of the ${vm.maps} maps slides its own ${layer.kernel}×${layer.kernel} kernel${vm.inMaps > 1 ? 's' : ''} over `
        + `${belowName}${layer.connections ? ' (only the maps the table connects)' : ''}: `
        + 'every pixel is f(Σ W·X + b). The same weights are used at every position, so a map detects one feature wherever it is.';
    case 'pool': {
      const block = `${layer.size}×${layer.size}`;
      return layer.pooling === 'trainable'
        ? `Each ${block} block of a ${belowName} map is summed, multiplied by a trainable coefficient, a bias is added, then the squashing function: the map shrinks to half its size and small shifts matter less.`
        : `Each ${block} block of a ${belowName} map becomes one value (${layer.pooling === 'max' ? 'its maximum' : 'its average'}): the map shrinks to half its size and small shifts matter less.`;
    }
    case 'dense':
      return `Every unit is connected to all ${below?.units ?? ''} units of ${below?.kind === 'input' ? 'the input image' : belowName}: f(Σ w·x + b).`;
    case 'rbf':
      return layer.rbf.kind === 'fixed-bitmaps'
        ? 'Each output unit measures the squared distance between F6 and a fixed 7×12 bitmap of its digit. The smallest distance wins.'
        : 'Each output unit is exp(−‖x − c‖²/2σ²) with a learnable centre c; the largest wins.';
  }
}

/** The view model of every layer of a variant, input first. */
export function layerViewModels(spec: VariantSpec): LayerViewModel[] {
  const out: LayerViewModel[] = [];
  for (const layer of spec.layers) {
    const below = out.at(-1) ?? null;
    const shape = layer.outShape;
    const isMap = shape.length === 3 && shape[0] > 1;
    const inMaps = layer.inShape.length === 3 ? layer.inShape[2] : 1;
    const name = layer.kind === 'input' ? 'INPUT' : layer.isOutput ? 'OUTPUT' : layer.id;
    const stage: Stage | null = layer.kind === 'conv' ? { kernel: layer.kernel, stride: layer.stride }
      : layer.kind === 'pool' ? { kernel: layer.size, stride: layer.stride } : null;
    const vm: LayerViewModel = {
      layer, id: layer.id, index: layer.index, kind: layer.kind, name,
      title: titleOf(layer, inMaps),
      sizeText: layer.kind === 'input' ? `${shape[0]}×${shape[1]}` : isMap ? `${shape[2]}@${shape[0]}×${shape[1]}` : `${unitsOf(shape)}`,
      isMap,
      maps: shape.length === 3 ? shape[2] : 1,
      units: unitsOf(shape),
      inMaps,
      below,
      stage,
      connections: layer.kind === 'conv' ? layer.connections ?? null : null,
      activationLabel: labelOf(layer),
      activationShort: shortOf(layer),
      activation: layerActivation(layer),
      connectionKind: connectionKindOf(layer),
      paramsFormula: paramsFormulaOf(layer, inMaps, unitsOf(layer.inShape)),
      explanation: '',
    };
    vm.explanation = explanationOf(vm, spec);
    out.push(vm);
  }
  return out;
}

/** f(a) = … of a layer's squashing function, or '' when it has none. */
export function formulaOf(vm: LayerViewModel): string {
  return vm.activation ? activationFormulaOf(vm.activation) : '';
}

/** The paper's headline over a layer in Fig. 2: "C1: feature maps", "S2: f. maps", "C5: layer". */
export function headlineOf(vm: LayerViewModel): string {
  if (vm.kind === 'input' || vm.layer.isOutput) return vm.name;
  if (!vm.isMap) return `${vm.id}: layer`;
  return vm.index === 1 ? `${vm.id}: feature maps` : `${vm.id}: f. maps`;
}

/** The first convolution that reads several maps: where a connection table (or its absence) shows. */
export function mixingConvolution(vms: readonly LayerViewModel[]): LayerViewModel | null {
  return vms.find((vm) => vm.kind === 'conv' && vm.inMaps > 1 && vm.isMap) ?? null;
}
