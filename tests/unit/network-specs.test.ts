// The numbers the views show, computed from the layer specs alone (no tf), against literal tables:
// the 1998 paper's for LeNet-5, plain arithmetic written out by hand for the others.
import { describe, expect, it } from 'vitest';
import {
  applyActivationSpec, describeNetwork, inputMapsOf, linkCount, networkTotals, type LayerSpec,
} from '../../common/network/specs.js';
import { VARIANTS } from '../../common/network/variants.js';

const byId = (name: keyof typeof VARIANTS) => Object.fromEntries(VARIANTS[name].layers.map((l) => [l.id, l]));

describe('lenet5 from its specs', () => {
  const l = byId('lenet5');

  it('has the paper\'s trainable parameters per layer: 156, 12, 1,516, 32, 48,120, 10,164 (60,000), and 840 fixed', () => {
    expect([l.C1, l.S2, l.C3, l.S4, l.C5, l.F6].map((x) => x!.trainableParams)).toEqual([156, 12, 1516, 32, 48120, 10164]);
    expect(l.OUT!.params).toBe(840);
    expect(l.OUT!.trainableParams).toBe(0);
    const totals = networkTotals(VARIANTS.lenet5.layers);
    expect(totals.trainableParams).toBe(60000);
    expect(totals.params).toBe(60840);
  });

  it('has the paper\'s connections per layer: 122,304, 5,880, 151,600, 2,000, 48,120, 10,164', () => {
    expect([l.C1, l.S2, l.C3, l.S4, l.C5, l.F6].map((x) => x!.paperConnections)).toEqual([122304, 5880, 151600, 2000, 48120, 10164]);
  });

  it('has the paper\'s output shapes and receptive fields on the 32×32 input', () => {
    expect([l.INPUT, l.C1, l.S2, l.C3, l.S4, l.C5, l.F6, l.OUT].map((x) => x!.outShape)).toEqual([
      [32, 32, 1], [28, 28, 6], [14, 14, 6], [10, 10, 16], [5, 5, 16], [1, 1, 120], [84], [10],
    ]);
    // C1 sees 5×5; S2 6×6 (step 2); C3 6 + 4·2 = 14; S4 16 (step 4); C5 16 + 4·4 = 32: the whole input.
    expect([l.C1, l.S2, l.C3, l.S4, l.C5].map((x) => x!.receptiveField)).toEqual([
      { size: 5, jump: 1 }, { size: 6, jump: 2 }, { size: 14, jump: 2 }, { size: 16, jump: 4 }, { size: 32, jump: 4 },
    ]);
  });

  it('names the tf layer whose output is each map: the activation layer where the squashing is separate', () => {
    expect(VARIANTS.lenet5.layers.map((x) => x.modelLayerName)).toEqual(['input', 'C1_act', 'S2_act', 'C3_act', 'S4_act', 'C5_act', 'F6_act', 'OUT']);
    expect(VARIANTS.modern.layers.map((x) => x.modelLayerName)).toEqual(['input', 'C1', 'S2', 'C3', 'S4', 'C5', 'F6', 'OUT']);
  });
});

describe('the new rows of the 1998 comparison', () => {
  it('linear: 784 × 10 + 10 = 7,850 parameters, the paper\'s count exactly', () => {
    const l = byId('linear');
    expect(l.INPUT!.outShape).toEqual([28, 28, 1]);
    expect(l.OUT!.params).toBe(7850);
    expect(l.OUT!.macs).toBe(7840);
    expect(l.OUT!.receptiveField.size).toBe(28);
  });

  it('lenet1: 4@24×24, 4@12×12, 12@8×8 (24 links), 12@4×4, 10: 104 + 8 + 612 + 24 + 1,930 = 2,678', () => {
    const l = byId('lenet1');
    expect([l.C1, l.S2, l.C3, l.S4, l.OUT].map((x) => x!.outShape)).toEqual([[24, 24, 4], [12, 12, 4], [8, 8, 12], [4, 4, 12], [10]]);
    expect([l.C1, l.S2, l.C3, l.S4, l.OUT].map((x) => x!.params)).toEqual([104, 8, 612, 24, 1930]);
    expect(networkTotals(VARIANTS.lenet1.layers).trainableParams).toBe(2678);
    // Within 3% of the paper's "about 2,600".
    expect(Math.abs(2678 - 2600) / 2600).toBeLessThan(0.031);
    // Every C3 map reads 2 of the 4 S2 maps; each of the 6 pairs twice.
    const pairs = Array.from({ length: 12 }, (_, m) => inputMapsOf(l.C3!, m).join(''));
    expect(pairs).toEqual(['01', '12', '23', '03', '02', '13', '01', '12', '23', '03', '02', '13']);
    expect(l.C3!.macs).toBe(8 * 8 * 24 * 25);
    expect(l.S4!.receptiveField).toEqual({ size: 16, jump: 4 });
  });

  it('lenet4: 4@28×28, 4@14×14, 16@10×10, 16@5×5, 120, 10: 104 + 8 + 1,616 + 32 + 48,120 + 1,210 = 51,090', () => {
    const l = byId('lenet4');
    expect([l.C1, l.S2, l.C3, l.S4, l.C5, l.OUT].map((x) => x!.outShape)).toEqual([[28, 28, 4], [14, 14, 4], [10, 10, 16], [5, 5, 16], [1, 1, 120], [10]]);
    expect([l.C1, l.S2, l.C3, l.S4, l.C5, l.OUT].map((x) => x!.params)).toEqual([104, 8, 1616, 32, 48120, 1210]);
    expect(networkTotals(VARIANTS.lenet4.layers).trainableParams).toBe(51090);
  });

  it('every variant that is a row of the paper says so, with the paper\'s error', () => {
    expect(Object.fromEntries(Object.values(VARIANTS).map((v) => [v.name, v.paper?.errorPercent ?? null]))).toEqual({
      lenet5: 0.95, seed: null, modern: null, linear: 12.0, lenet1: 1.7, lenet4: 1.1,
    });
  });
});

describe('describeNetwork refuses lists that cannot be networks', () => {
  const input: LayerSpec = { kind: 'input', id: 'INPUT', size: 12 };
  const conv = (kernel: number, connections?: number[][]): LayerSpec => ({
    kind: 'conv', id: 'C', maps: 2, kernel, stride: 1, padding: 'valid', activation: { id: 'relu' }, init: 'he-uniform',
    ...(connections ? { connections } : {}),
  });

  it('a window as big as the map fits (1×1 out); one pixel bigger does not', () => {
    expect(describeNetwork([input, conv(12)])[1]!.outShape).toEqual([1, 1, 2]);
    expect(() => describeNetwork([input, conv(13)])).toThrow(/does not fit a 12×12 map/);
  });

  it('the list starts with exactly one input', () => {
    expect(() => describeNetwork([conv(3)])).toThrow(/starts with its input/);
    expect(() => describeNetwork([input, input])).toThrow(/only the first layer is an input/);
  });

  it('a connection table must be input maps × output maps of 0 and 1', () => {
    expect(describeNetwork([input, conv(3, [[1, 0]])])[1]!.params).toBe(9 + 2);
    expect(() => describeNetwork([input, conv(3, [[1, 0], [0, 1]])])).toThrow(/1×2 zeros and ones/);
    expect(() => describeNetwork([input, conv(3, [[1]])])).toThrow(/1×2 zeros and ones/);
    expect(() => describeNetwork([input, conv(3, [[1, 2]])])).toThrow(/zeros and ones/);
  });

  it('a pool needs maps below it', () => {
    const dense: LayerSpec = { kind: 'dense', id: 'F', units: 3, activation: { id: 'none' }, init: 'he-uniform' };
    const pool: LayerSpec = { kind: 'pool', id: 'S', pooling: 'max', size: 2, stride: 2, activation: { id: 'none' } };
    expect(() => describeNetwork([input, dense, pool])).toThrow(/needs maps below it/);
  });

  it('counts live links only', () => {
    expect(linkCount(undefined, 6, 16)).toBe(96);
    expect(linkCount([[1, 0, 1], [0, 0, 1]], 2, 3)).toBe(3);
  });
});

describe('activations by id', () => {
  it('computes each from its id and constants', () => {
    expect(applyActivationSpec({ id: 'scaled-tanh', amplitude: 1.7159, slope: 2 / 3 }, 1.5)).toBeCloseTo(1.7159 * Math.tanh(1), 12);
    expect(applyActivationSpec({ id: 'scaled-tanh', amplitude: 2, slope: 0.5 }, 2)).toBeCloseTo(2 * Math.tanh(1), 12);
    expect(applyActivationSpec({ id: 'relu' }, -1)).toBe(0);
    expect(applyActivationSpec({ id: 'relu' }, 2)).toBe(2);
    expect(applyActivationSpec({ id: 'sigmoid' }, 0)).toBe(0.5);
    expect(applyActivationSpec({ id: 'tanh' }, 0.3)).toBeCloseTo(Math.tanh(0.3), 12);
    expect(applyActivationSpec({ id: 'none' }, -4)).toBe(-4);
  });
});
