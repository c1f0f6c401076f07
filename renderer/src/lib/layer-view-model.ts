// One view model per layer, built from the variant's layer specs: the Network, Kernels and Feature maps
// views all read their names, sizes, labels and explanations from here. Pure: no DOM, no stores.
import type { ActivationSpec, ConnectionTable, NetworkLayer } from '../../../common/network/specs.js';
import type { VariantSpec } from '../../../common/network/variants.js';
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';
import { activationFormulaOf, slopeText, type Stage } from './draw-tensor.js';

export interface LayerViewModel {
  layer: NetworkLayer;
  id: string;
  index: number;
  kind: NetworkLayer['kind'];
  /** 'INPUT', 'OUTPUT' or the paper's id ('C1', 'S2', ...). */
  name: string;
  /** One line: 'C1 convolution 6@5×5', 'S2 trainable subsampling 2×2', 'Output full 10 (logits)'. */
  title: Msg;
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
  activationLabel: Msg;
  /** Under the diagram: 'scaled tanh', 'max of 4', 'RBF distance'. */
  activationShort: Msg;
  /** The squashing function the layer applies after its sum, or null for pools and RBF outputs without one. */
  activation: ActivationSpec | null;
  /** The kind of connection from the layer below, as Fig. 2 of the paper words it. */
  connectionKind: Msg;
  /** How the parameters add up: '5×5×1×6 weights + 6 biases'. */
  paramsFormula: Msg;
  /** What the layer computes, in a sentence or two. */
  explanation: Msg;
}

const unitsOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** A sentence in the user's language: its message key and the values it words; the component calls t(). */
export interface Msg {
  key: MessageKey;
  values?: MessageValues;
}

const msg = (key: MessageKey, values?: MessageValues): Msg => (values ? { key, values } : { key });

export function activationLabel(activation: ActivationSpec, isOutput: boolean): Msg {
  switch (activation.id) {
    case 'scaled-tanh': return msg('layer.activation.scaledTanh', { formula: `${activation.amplitude}·tanh(${slopeText(activation.slope)})` });
    case 'none': return msg(isOutput ? 'layer.activation.noneSoftmax' : 'layer.activation.none');
    default: return msg('layer.verbatim', { text: activation.id });
  }
}

function layerActivation(layer: NetworkLayer): ActivationSpec | null {
  return layer.kind === 'conv' || layer.kind === 'pool' || layer.kind === 'dense' ? layer.activation : null;
}

function labelOf(layer: NetworkLayer): Msg {
  if (layer.kind === 'input') return msg('layer.activation.none');
  if (layer.kind === 'rbf') return layer.rbf.kind === 'fixed-bitmaps' ? msg('layer.activation.bitmapDistance') : msg('layer.verbatim', { text: 'exp(−‖x−c‖²/2σ²)' });
  return activationLabel(layer.activation, layer.isOutput);
}

function shortOf(layer: NetworkLayer): Msg {
  switch (layer.kind) {
    case 'input': return msg('layer.verbatim', { text: '' });
    case 'rbf': return msg(layer.rbf.kind === 'fixed-bitmaps' ? 'layer.short.rbfDistance' : 'layer.short.gaussianRbf');
    case 'pool':
      if (layer.activation.id === 'none') return msg(layer.pooling === 'max' ? 'layer.short.maxOf' : 'layer.short.meanOf', { count: layer.size * layer.size });
      break;
    default:
      break;
  }
  const activation = layer.activation;
  if (activation.id === 'scaled-tanh') return msg('layer.short.scaledTanh');
  return activation.id === 'none' ? msg('layer.short.linear') : msg('layer.verbatim', { text: activation.id });
}

function titleOf(layer: NetworkLayer, inMaps: number): Msg {
  const name = layer.id;
  const output = layer.isOutput ? 'yes' : 'no';
  switch (layer.kind) {
    case 'input': return msg('layer.title.input', { size: `${layer.size}×${layer.size}` });
    case 'conv': {
      const spatial = layer.outShape.length === 3 && layer.outShape[0] > 1;
      const links = layer.connections ? 'partial' : inMaps > 1 && spatial ? 'full' : 'none';
      return msg('layer.title.conv', { name, output, maps: layer.maps, kernel: `${layer.kernel}×${layer.kernel}`, links });
    }
    case 'pool': return msg('layer.title.pool', { name, output, pooling: layer.pooling, size: `${layer.size}×${layer.size}` });
    case 'dense': return msg('layer.title.dense', { name, output, units: layer.units, logits: layer.isOutput && layer.activation.id === 'none' ? 'yes' : 'no' });
    case 'rbf':
      return layer.rbf.kind === 'fixed-bitmaps'
        ? msg('layer.title.rbfFixed', { name, output, units: layer.units })
        : msg('layer.title.rbfGaussian', { name, output, units: layer.units, sigma: layer.rbf.sigma });
  }
}

function connectionKindOf(layer: NetworkLayer): Msg {
  switch (layer.kind) {
    case 'conv': return msg('layer.connection.conv');
    case 'pool': return msg(layer.pooling === 'max' ? 'layer.connection.max' : layer.pooling === 'average' ? 'layer.connection.average' : 'layer.connection.subsampling');
    case 'dense': return msg('layer.connection.full');
    case 'rbf': return msg('layer.connection.gaussian');
    case 'input': return msg('layer.verbatim', { text: '' });
  }
}

function paramsFormulaOf(layer: NetworkLayer, inMaps: number, inputs: number): Msg {
  switch (layer.kind) {
    case 'conv': {
      const k = layer.kernel;
      if (!layer.connections) return msg('layer.params.conv', { shape: `${k}×${k}×${inMaps}×${layer.maps}`, biases: layer.maps });
      return msg('layer.params.convTable', { pairs: (layer.params - layer.maps) / (k * k), weights: k * k, biases: layer.maps });
    }
    case 'pool': return layer.params > 0 ? msg('layer.params.poolTrainable', { maps: inMaps }) : msg('layer.params.none');
    case 'dense': return msg('layer.params.dense', { shape: `${inputs}×${layer.units}`, biases: layer.units });
    case 'rbf':
      return layer.rbf.kind === 'fixed-bitmaps' ? msg('layer.params.rbfFixed', { units: layer.units, inputs }) : msg('layer.params.rbfGaussian', { units: layer.units, inputs });
    case 'input': return msg('layer.params.input');
  }
}

function explanationOf(vm: LayerViewModel, spec: VariantSpec): Msg {
  const { layer, below } = vm;
  // The layer below by its paper name (S2), or worded as the input image in the user's language.
  const belowName = below?.name ?? '';
  const fromInput = below === null || below.kind === 'input' ? 'yes' : 'no';
  switch (layer.kind) {
    case 'input':
      return msg(spec.input.pad > 0 ? 'layer.explain.inputPadded' : 'layer.explain.input', {
        size: `${layer.size}×${layer.size}`, pad: spec.input.pad, background: spec.input.background, ink: spec.input.ink,
      });
    case 'conv':
      return msg('layer.explain.conv', {
        maps: vm.maps, kernel: `${layer.kernel}×${layer.kernel}`, inMaps: vm.inMaps, below: belowName, fromInput, table: layer.connections ? 'yes' : 'no',
      });
    case 'pool': {
      const block = `${layer.size}×${layer.size}`;
      return layer.pooling === 'trainable'
        ? msg('layer.explain.poolTrainable', { block, below: belowName, fromInput })
        : msg('layer.explain.pool', { block, below: belowName, fromInput, pooling: layer.pooling === 'max' ? 'max' : 'average' });
    }
    case 'dense':
      return below?.kind === 'input'
        ? msg('layer.explain.denseFromInput', { units: below.units })
        : msg('layer.explain.dense', { units: below?.units ?? 0, below: belowName });
    case 'rbf':
      return msg(layer.rbf.kind === 'fixed-bitmaps' ? 'layer.explain.rbfFixed' : 'layer.explain.rbfGaussian');
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
      explanation: msg('layer.verbatim', { text: '' }),
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
export function headlineOf(vm: LayerViewModel): Msg {
  if (vm.kind === 'input' || vm.layer.isOutput) return msg(vm.kind === 'input' ? 'layer.name.input' : 'layer.name.output');
  if (!vm.isMap) return msg('layer.headline.layer', { id: vm.id });
  return msg(vm.index === 1 ? 'layer.headline.featureMaps' : 'layer.headline.fMaps', { id: vm.id });
}

/** The name shown for a layer: INPUT and OUTPUT in the user's language, the paper's ids (C1, S2…) as they are. */
export function displayNameOf(vm: LayerViewModel): Msg {
  if (vm.kind === 'input') return msg('layer.name.input');
  return vm.layer.isOutput ? msg('layer.name.output') : msg('layer.verbatim', { text: vm.name });
}

/** The first convolution that reads several maps: where a connection table (or its absence) shows. */
export function mixingConvolution(vms: readonly LayerViewModel[]): LayerViewModel | null {
  return vms.find((vm) => vm.kind === 'conv' && vm.inMaps > 1 && vm.isMap) ?? null;
}
