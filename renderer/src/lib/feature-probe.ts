// The Feature maps view's arithmetic: each layer's activations as drawable maps, what one probed value
// depends on in the layers below (windows and maps), and the by-hand recomputation of that value. Pure.
import type { Activation } from '../../../common/network/predict.js';
import { applyActivationSpec, inputMapsOf } from '../../../common/network/specs.js';
import { symmetricScale, type ColorMode } from './colormap.js';
import { chainedField, channelSlice, convDotProduct, mapGeometry, type DotProduct, type Field, type MapGeometry, type Stage, type TensorLike } from './draw-tensor.js';
import type { LayerViewModel } from './layer-view-model.js';

export interface ActivationView {
  vm: LayerViewModel;
  activation: Activation;
  geometry: MapGeometry;
  /** Spatial maps (rows > 1) or a vector of units. */
  isMap: boolean;
  maps: Float32Array[];
  scale: number;
  mode: ColorMode;
  zoom: number;
}

/** CSS px per cell: big maps small, small maps big, so every row of maps has a similar height. */
export function zoomFor(rows: number): number {
  if (rows >= 32) return 5;
  if (rows >= 28) return 4;
  if (rows >= 14) return 5;
  if (rows >= 10) return 6;
  if (rows >= 5) return 8;
  return 10;
}

/** Maps per row: as many as fit in `width`, then balanced so rows are even (6 → 3 + 3, 16 → 8 + 8). */
export function mapsPerRow(count: number, mapWidth: number, width: number, gap: number): number {
  const fit = Math.max(1, Math.floor((width + gap) / (mapWidth + gap)));
  const rows = Math.ceil(count / fit);
  return Math.ceil(count / rows);
}

/** Each layer's activation, ready to draw (layers without an activation in the prediction are left out). */
export function activationViews(vms: readonly LayerViewModel[], activations: readonly Activation[]): ActivationView[] {
  const out: ActivationView[] = [];
  for (const vm of vms) {
    const id = vm.id.toLowerCase();
    const activation = activations.find((a) => a.id.toLowerCase() === id);
    if (!activation) continue;
    const geometry = mapGeometry(activation.shape);
    const isMap = geometry.rows > 1;
    let min = Infinity;
    for (const v of activation.data) if (v < min) min = v;
    out.push({
      vm, activation, geometry, isMap,
      mode: min >= 0 && vm.kind !== 'input' ? 'positive' : 'diverging',
      maps: isMap ? Array.from({ length: geometry.channels }, (_, c) => channelSlice(activation, c)) : [],
      scale: symmetricScale(activation.data),
      zoom: zoomFor(geometry.rows),
    });
  }
  return out;
}

export interface Probe { layer: string; channel: number; row: number; col: number }

/** The value a probe points at, or undefined outside the layer. */
export function valueAt(view: ActivationView, probe: Probe): number | undefined {
  const { rows, cols, channels } = view.geometry;
  if (probe.row >= rows || probe.col >= cols || probe.channel >= channels) return undefined;
  return view.activation.data[(probe.row * cols + probe.col) * channels + probe.channel];
}

/** The strongest response (largest |value|) of the first convolution with maps: what to explain first. */
export function strongestProbe(views: readonly ActivationView[]): Probe | null {
  const first = views.find((v) => v.vm.kind === 'conv' && v.isMap);
  if (!first) return null;
  const { rows, cols, channels } = first.geometry;
  const data = first.activation.data;
  let best = 0;
  for (let i = 1; i < data.length; i++) if (Math.abs(data[i]!) > Math.abs(data[best]!)) best = i;
  const cell = Math.floor(best / channels);
  return { layer: first.vm.id, channel: best % channels, row: Math.floor(cell / cols) % rows, col: cell % cols };
}

export interface Dependency { field: Field; channels: Set<number>; primary: boolean }

/** For every map layer below the probe: the window and the maps the probed value depends on. */
export function dependenciesOf(probe: Probe | null, views: readonly ActivationView[]): Map<string, Dependency> {
  const deps = new Map<string, Dependency>();
  if (!probe) return deps;
  const top = views.findIndex((v) => v.vm.id === probe.layer);
  if (top <= 0) return deps;
  const stages: Stage[] = [];
  let channels = new Set([probe.channel]);
  for (let i = top; i > 0; i--) {
    const vm = views[i]!.vm;
    const below = views[i - 1]!;
    if (!vm.stage || !below.isMap || below.vm !== vm.below) break;
    stages.unshift(vm.stage);
    const next = new Set<number>();
    for (const c of channels) for (const j of inputMapsOf(vm.layer, c)) next.add(j);
    channels = next;
    deps.set(below.vm.id, { field: chainedField(probe.row, probe.col, stages), channels, primary: i === top });
  }
  return deps;
}

export type PoolHow = 'trainable' | 'max' | 'average';

export type Explanation =
  | { kind: 'conv'; view: ActivationView; below: ActivationView; dot: DotProduct; actual: number }
  | { kind: 'pool'; view: ActivationView; below: ActivationView; block: number[]; field: Field; actual: number;
      how: PoolHow; coefficient: number; bias: number; pre: number; computed: number | null }
  | { kind: 'value'; view: ActivationView; actual: number };

/** A layer's weight by name ('kernel', 'bias', 'coefficient'), or null. */
export type WeightLookup = (vm: LayerViewModel, name: string) => TensorLike | null;

/** The window of the map below that a pool output reads, and the values in it. */
function poolBlock(below: ActivationView, stage: Stage, probe: Probe): { field: Field; block: number[] } {
  const k = stage.kernel;
  const field: Field = { top: probe.row * stage.stride, left: probe.col * stage.stride, height: k, width: k };
  const block: number[] = [];
  const g = below.geometry;
  for (let m = 0; m < k; m++) for (let n = 0; n < k; n++) {
    block.push(below.activation.data[((field.top + m) * g.cols + field.left + n) * g.channels + probe.channel]!);
  }
  return { field, block };
}

/** How the probed value was computed, recomputed by hand from the layer below and the weights. */
export function explain(probe: Probe | null, views: readonly ActivationView[], weightOf: WeightLookup): Explanation | null {
  if (!probe) return null;
  const view = views.find((v) => v.vm.id === probe.layer);
  if (!view) return null;
  const actual = valueAt(view, probe);
  if (actual === undefined) return null;
  const below = views.find((v) => v.vm === view.vm.below);
  const { vm } = view;
  const layer = vm.layer;
  if (layer.kind === 'conv' && below) {
    const kernel = weightOf(vm, 'kernel');
    if (!kernel || kernel.shape.length !== 4) return { kind: 'value', view, actual };
    const bias = weightOf(vm, 'bias');
    const dot = convDotProduct(below.activation, kernel, bias?.data ?? null, probe.channel, probe.row, probe.col, {
      stride: layer.stride, inputs: inputMapsOf(layer, probe.channel),
    });
    return { kind: 'conv', view, below, dot, actual };
  }
  if (layer.kind === 'pool' && below?.isMap && vm.stage) {
    const { field, block } = poolBlock(below, vm.stage, probe);
    const sum = block.reduce((a, v) => a + v, 0);
    const activate = (pre: number) => applyActivationSpec(layer.activation, pre);
    if (layer.pooling === 'trainable') {
      const coefficient = weightOf(vm, 'coefficient')?.data[probe.channel] ?? 0;
      const bias = weightOf(vm, 'bias')?.data[probe.channel] ?? 0;
      const pre = coefficient * sum + bias;
      return { kind: 'pool', view, below, block, field, actual, how: 'trainable', coefficient, bias, pre, computed: activate(pre) };
    }
    const pre = layer.pooling === 'max' ? Math.max(...block) : sum / block.length;
    return { kind: 'pool', view, below, block, field, actual, how: layer.pooling, coefficient: 1, bias: 0, pre, computed: activate(pre) };
  }
  return { kind: 'value', view, actual };
}

/** A recomputed value agrees with the network's when they differ by float rounding only. */
export function agrees(computed: number | null, actual: number): boolean {
  return computed !== null && Math.abs(computed - actual) <= 1e-4 * Math.max(1, Math.abs(actual));
}
