// The per-layer view model the Network, Kernels and Feature maps views share, and the pure maths they
// moved out of their .svelte files: layout, connection tables, kernel statistics, probes.
import { describe, expect, it } from 'vitest';
import { LENET5_C3_CONNECTIONS, LENET1_C3_CONNECTIONS } from '../../common/network/layers.js';
import { VARIANTS } from '../../common/network/variants.js';
import { headlineOf, layerViewModels, mixingConvolution, type Msg } from '../../renderer/src/lib/layer-view-model.js';
import { createLabIntl } from '../../common/i18n/index.js';
import { tablePhrases } from '../../renderer/src/lib/connection-table.js';
import { linkNorms, normRange, unitKernel } from '../../renderer/src/lib/kernel-stats.js';
import { diagramWidth, layoutBlocks, PX, projectionsOf, textScaleFor } from '../../renderer/src/lib/network-layout.js';
import { activationViews, dependenciesOf, explain, mapsPerRow, strongestProbe } from '../../renderer/src/lib/feature-probe.js';
import { activationFormulaOf, slopeText } from '../../renderer/src/lib/draw-tensor.js';

const english = createLabIntl('en');
const chinese = createLabIntl('zh-CN');
/** The view models hold message keys; the English wording is what the diagram always showed. */
const say = (m: Msg): string => english.t(m.key, m.values);

describe('layer view models', () => {
  it('word lenet5\'s layers as the diagram always has', () => {
    const vms = layerViewModels(VARIANTS.lenet5);
    expect(vms.map((v) => say(v.title))).toEqual([
      'Input 32×32', 'C1 convolution 6@5×5', 'S2 trainable subsampling 2×2', 'C3 convolution 16@5×5, partial connections',
      'S4 trainable subsampling 2×2', 'C5 convolution 120@5×5', 'F6 full 84', 'Output RBF 10 (fixed 7×12 bitmaps)',
    ]);
    expect(vms.map((v) => v.name)).toEqual(['INPUT', 'C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'OUTPUT']);
    expect(vms.map((v) => v.sizeText)).toEqual(['32×32', '6@28×28', '6@14×14', '16@10×10', '16@5×5', '120', '84', '10']);
    expect(say(vms[1]!.activationLabel)).toBe('scaled tanh 1.7159·tanh(2a/3)');
    expect(vms.map((v) => say(v.activationShort))).toEqual(['', 'scaled tanh', 'scaled tanh', 'scaled tanh', 'scaled tanh', 'scaled tanh', 'scaled tanh', 'RBF distance']);
    expect(vms.map((v) => say(v.connectionKind))).toEqual(['', 'Convolutions', 'Subsampling', 'Convolutions', 'Subsampling', 'Convolutions', 'Full connection', 'Gaussian connections']);
    expect(say(vms[3]!.paramsFormula)).toBe('60 map pairs × 25 weights + 16 biases');
    expect(say(vms[5]!.paramsFormula)).toBe('5×5×16×120 weights + 120 biases');
    expect(say(vms[7]!.paramsFormula)).toBe('10 × 84 fixed ±1 bitmap values (not trained)');
    expect(vms.map((v) => say(headlineOf(v)))).toEqual(['INPUT', 'C1: feature maps', 'S2: f. maps', 'C3: f. maps', 'S4: f. maps', 'C5: layer', 'F6: layer', 'OUTPUT']);
    expect(vms[3]!.connections).toBe(LENET5_C3_CONNECTIONS);
    expect(say(vms[3]!.explanation)).toMatch(/over S2 \(only the maps the table connects\)/);
  });

  it('word the titles in Chinese from the same spec fields, keeping layer names and formulas', () => {
    const vms = layerViewModels(VARIANTS.lenet5);
    expect(chinese.t(vms[3]!.title.key, vms[3]!.title.values)).toBe('C3 卷积层 16@5×5，部分连接');
    expect(chinese.t(vms[2]!.title.key, vms[2]!.title.values)).toBe('S2 可训练下采样 2×2');
    expect(chinese.t(vms[7]!.title.key, vms[7]!.title.values)).toBe('输出层 RBF 10（固定的 7×12 位图）');
    const modern = layerViewModels(VARIANTS.modern);
    expect(chinese.t(modern[2]!.title.key, modern[2]!.title.values)).toBe('S2 最大池化 2×2');
    expect(chinese.t(modern[1]!.activationLabel.key, modern[1]!.activationLabel.values)).toBe('relu');
  });

  it('word the lesson\'s and the modern variant from their specs', () => {
    const seed = layerViewModels(VARIANTS.seed);
    expect(seed.map((v) => say(v.title)).slice(2, 4)).toEqual(['S2 average pooling 2×2', 'C3 convolution 16@5×5, full']);
    expect(say(seed.at(-1)!.title)).toBe('Output Gaussian RBF 10 (learnable centres, σ = 1)');
    expect(say(seed.at(-1)!.activationLabel)).toBe('exp(−‖x−c‖²/2σ²)');
    expect(say(seed[2]!.activationShort)).toBe('mean of 4');
    const modern = layerViewModels(VARIANTS.modern);
    expect(say(modern[2]!.title)).toBe('S2 max pooling 2×2');
    expect(say(modern[2]!.activationShort)).toBe('max of 4');
    expect(say(modern[2]!.connectionKind)).toBe('Max pooling');
    expect(say(modern.at(-1)!.title)).toBe('Output full 10 (logits)');
    expect(say(modern.at(-1)!.activationLabel)).toBe('none (softmax in the loss)');
    expect(say(modern[1]!.activationLabel)).toBe('relu');
  });

  it('find the convolution whose connection table the Network view shows', () => {
    expect(mixingConvolution(layerViewModels(VARIANTS.lenet5))?.id).toBe('C3');
    expect(mixingConvolution(layerViewModels(VARIANTS.lenet1))?.connections).toBe(LENET1_C3_CONNECTIONS);
    expect(mixingConvolution(layerViewModels(VARIANTS.lenet4))?.connections).toBeNull();
    expect(mixingConvolution(layerViewModels(VARIANTS.linear))).toBeNull();
  });

  it('word activation formulas from the constants', () => {
    expect(activationFormulaOf({ id: 'scaled-tanh', amplitude: 1.7159, slope: 2 / 3 })).toBe('f(a) = 1.7159·tanh(2a/3)');
    expect(slopeText(0.5)).toBe('a/2');
    expect(slopeText(1)).toBe('a');
    expect(slopeText(0.7)).toBe('0.7a');
  });
});

describe('connection tables in words', () => {
  it('group LeNet-5\'s C3 as the paper does', () => {
    expect(tablePhrases(LENET5_C3_CONNECTIONS, 'S2').map(say)).toEqual([
      '0–5 read 3 neighbouring S2 maps', '6–11 read 4', '12–14 read 4 non-neighbouring ones', '15 reads all 6',
    ]);
  });
  it('group LeNet-1\'s pairs', () => {
    expect(tablePhrases(LENET1_C3_CONNECTIONS).map(say)).toEqual([
      '0–3 read 2 neighbouring maps', '4–5 read 2 non-neighbouring ones', '6–9 read 2', '10–11 read 2 non-neighbouring ones',
    ]);
  });
});

describe('the network diagram layout', () => {
  const blocks = layoutBlocks(layerViewModels(VARIANTS.lenet5));
  it('draws maps to scale and keeps layers apart', () => {
    expect(blocks[0]!.plane).toBeCloseTo(32 * PX, 10);
    expect(blocks[1]!.plane).toBeCloseTo(28 * PX, 10);
    expect(blocks[3]!.planes).toBe(16);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.x).toBeGreaterThanOrEqual(blocks[i - 1]!.x + blocks[i - 1]!.w + 44);
    expect(diagramWidth(blocks)).toBe(blocks.at(-1)!.x + blocks.at(-1)!.w + 60);
  });
  it('projects a kernel window from each map layer onto the next (none between vectors)', () => {
    expect(projectionsOf(blocks).map((p) => p.key)).toEqual(['C1', 'S2', 'C3', 'S4', 'C5']);
    expect(projectionsOf(blocks)[0]!.from.size).toBeCloseTo(5 * PX, 10);
  });
  it('grows the text up to 1.3× when the card is narrower than the drawing', () => {
    expect(textScaleFor(1000, 0)).toBe(1);
    expect(textScaleFor(1000, 2000)).toBe(1);
    expect(textScaleFor(1000, 900)).toBeCloseTo(1000 / 868, 10);
    expect(textScaleFor(1000, 500)).toBe(1.3);
  });
});

describe('kernel statistics', () => {
  // [2, 2, 2, 3] HWIO: value = position code, so every kernel is distinct.
  const shape = [2, 2, 2, 3];
  const data = Float32Array.from({ length: 24 }, (_, i) => i - 11);
  const at = (r: number, c: number, i: number, o: number) => data[((r * 2 + c) * 2 + i) * 3 + o]!;

  it('link norms are ‖W‖ of each (input, output) kernel, against a plain loop', () => {
    const norms = linkNorms({ shape, data });
    for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) {
      let sum = 0;
      for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) sum += at(r, c, i, o) ** 2;
      expect(norms[i * 3 + o]).toBeCloseTo(Math.sqrt(sum), 5);
    }
    const range = normRange(Float32Array.from([2, 5, 3]));
    expect([range.min, range.max, Array.from(range.shifted)]).toEqual([2, 5, [0, 3, 1]]);
  });

  it('one unit\'s kernels keep their [kh, kw, in] order', () => {
    const unit = unitKernel({ shape, data }, 2);
    expect(unit.shape).toEqual([2, 2, 2, 1]);
    expect(Array.from(unit.data)).toEqual([at(0, 0, 0, 2), at(0, 0, 1, 2), at(0, 1, 0, 2), at(0, 1, 1, 2), at(1, 0, 0, 2), at(1, 0, 1, 2), at(1, 1, 0, 2), at(1, 1, 1, 2)]);
  });
});

describe('feature-map probes', () => {
  const vms = layerViewModels(VARIANTS.lenet5);
  // Activations whose every value encodes (row, col, channel); C1 has a single large value to find.
  const activations = vms.map((vm) => {
    const shape = vm.layer.outShape.length === 3 ? [...vm.layer.outShape] : [vm.layer.outShape[0]];
    const data = new Float32Array(shape.reduce((a, d) => a * d, 1)).map((_, i) => (i % 7) / 10);
    return { id: vm.id, shape, data };
  });
  activations[1]!.data[(3 * 28 + 4) * 6 + 2] = -9;
  const views = activationViews(vms, activations);

  it('starts on C1\'s strongest response', () => {
    expect(strongestProbe(views)).toEqual({ layer: 'C1', channel: 2, row: 3, col: 4 });
  });

  it('follows a C3 pixel down through S2 and C1 to its 14×14 window of the input, only through the maps the table connects', () => {
    const deps = dependenciesOf({ layer: 'C3', channel: 0, row: 2, col: 3 }, views);
    expect([...deps.keys()]).toEqual(['S2', 'C1', 'INPUT']);
    expect(deps.get('S2')).toEqual({ field: { top: 2, left: 3, height: 5, width: 5 }, channels: new Set([0, 1, 2]), primary: true });
    expect(deps.get('C1')!.field).toEqual({ top: 4, left: 6, height: 10, width: 10 });
    expect(deps.get('INPUT')!.field).toEqual({ top: 4, left: 6, height: 14, width: 14 });
  });

  it('recomputes a trainable-subsampling output by hand', () => {
    const weights: Record<string, { shape: number[]; data: Float32Array }> = {
      coefficient: { shape: [6], data: Float32Array.from([0.5, 0.5, 2, 0.5, 0.5, 0.5]) },
      bias: { shape: [6], data: Float32Array.from([0, 0, 0.1, 0, 0, 0]) },
    };
    const e = explain({ layer: 'S2', channel: 2, row: 1, col: 2 }, views, (_vm, name) => weights[name] ?? null);
    expect(e?.kind).toBe('pool');
    if (e?.kind !== 'pool') return;
    const c1 = activations[1]!.data;
    const block = [[2, 4], [2, 5], [3, 4], [3, 5]].map(([r, c]) => c1[(r! * 28 + c!) * 6 + 2]!);
    expect(e.block).toEqual(block);
    const sum = block.reduce((a, v) => a + v, 0);
    expect(e.pre).toBeCloseTo(2 * sum + 0.1, 6);
    expect(e.computed).toBeCloseTo(1.7159 * Math.tanh((2 / 3) * (2 * sum + 0.1)), 6);
  });

  it('balances maps per row', () => {
    expect(mapsPerRow(16, 50, 300, 8)).toBe(4);
    expect(mapsPerRow(6, 50, 500, 8)).toBe(6);
    expect(mapsPerRow(6, 50, 240, 8)).toBe(3);
  });
});
