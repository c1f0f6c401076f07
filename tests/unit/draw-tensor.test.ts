import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  activationFormula, applyActivation, cellAt, cellEdges, chainedField, channelSlice, clipField, convDotProduct, hwioIndex, isAllZero,
  kernelSlice, mapGeometry, nhwcIndex, rasterize, receptiveField, tileAt,
} from '../../renderer/src/lib/draw-tensor.js';

/** A tensor whose every element encodes its own coordinates, so slicing mistakes show. */
function codedHwio(kh: number, kw: number, ins: number, outs: number) {
  const data = new Float32Array(kh * kw * ins * outs);
  for (let r = 0; r < kh; r++) for (let c = 0; c < kw; c++) for (let i = 0; i < ins; i++) for (let o = 0; o < outs; o++) {
    data[((r * kw + c) * ins + i) * outs + o] = r * 1000 + c * 100 + i * 10 + o;
  }
  return { shape: [kh, kw, ins, outs], data };
}

function codedNhwc(h: number, w: number, ch: number) {
  const data = new Float32Array(h * w * ch);
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) for (let k = 0; k < ch; k++) data[(r * w + c) * ch + k] = r * 1000 + c * 10 + k;
  return { shape: [1, h, w, ch], data };
}

describe('tensor layouts', () => {
  it('reads map geometry from NHWC, HWC and dense shapes', () => {
    expect(mapGeometry([1, 28, 28, 6])).toEqual({ rows: 28, cols: 28, channels: 6 });
    expect(mapGeometry([10, 10, 16])).toEqual({ rows: 10, cols: 10, channels: 16 });
    expect(mapGeometry([1, 120])).toEqual({ rows: 1, cols: 1, channels: 120 });
    expect(mapGeometry([120])).toEqual({ rows: 1, cols: 1, channels: 120 });
    expect(mapGeometry([1, 1, 1, 120])).toEqual({ rows: 1, cols: 1, channels: 120 });
    expect(mapGeometry([1, 1, 120])).toEqual({ rows: 1, cols: 1, channels: 120 }); // C5 from predict()
    expect(() => mapGeometry([1, 2, 3, 4, 5])).toThrow(/shape/);
    expect(() => mapGeometry([4, 28, 28, 6])).toThrow(/shape/);
  });

  it('indexes HWIO kernels with the output channel fastest', () => {
    const shape = [5, 5, 6, 16];
    expect(hwioIndex(shape, 0, 0, 0, 0)).toBe(0);
    expect(hwioIndex(shape, 0, 0, 0, 1)).toBe(1);
    expect(hwioIndex(shape, 0, 0, 1, 0)).toBe(16);
    expect(hwioIndex(shape, 0, 1, 0, 0)).toBe(96);
    expect(hwioIndex(shape, 1, 0, 0, 0)).toBe(480);
    expect(hwioIndex(shape, 4, 4, 5, 15)).toBe(5 * 5 * 6 * 16 - 1);
    expect(() => hwioIndex(shape, 0, 0, 6, 0)).toThrow(RangeError);
  });

  it('slices the kernel linking one input map to one output map', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 15 }), (input, output) => {
      const slice = kernelSlice(codedHwio(5, 5, 6, 16), input, output);
      expect(slice.length).toBe(25);
      for (let r = 0; r < 5; r++) for (let c = 0; c < 5; c++) {
        expect(slice[r * 5 + c]).toBe(r * 1000 + c * 100 + input * 10 + output);
      }
    }));
  });

  it('slices one channel of an NHWC activation row by row', () => {
    const act = codedNhwc(14, 14, 6);
    const slice = channelSlice(act, 4);
    expect(slice.length).toBe(196);
    expect(slice[0]).toBe(4);
    expect(slice[13]).toBe(13 * 10 + 4);
    expect(slice[14]).toBe(1000 + 4);
    expect(slice[14 * 3 + 7]).toBe(3000 + 70 + 4);
    expect(act.data[nhwcIndex(act.shape, 3, 7, 4)]).toBe(3074);
    expect(() => channelSlice(act, 6)).toThrow(RangeError);
  });

  it('recognises links removed by the C3 table as all-zero kernels', () => {
    expect(isAllZero(new Float32Array(25))).toBe(true);
    const k = new Float32Array(25);
    k[24] = -1e-9;
    expect(isAllZero(k)).toBe(false);
  });
});

describe('rasterize', () => {
  it('gives every cell whole device pixels at fractional zoom', () => {
    const edges = cellEdges(5, 6.25);
    expect([...edges]).toEqual([0, 6, 13, 19, 25, 31]);
  });

  it('paints each cell with the colour of its value', () => {
    const colorOf = (v: number) => [v, 0, 255 - v] as const;
    const { width, height, pixels } = rasterize([10, 20, 30, 40, 50, 60], 2, 3, 2, colorOf);
    expect([width, height]).toEqual([6, 4]);
    const at = (x: number, y: number) => [...pixels.slice((y * width + x) * 4, (y * width + x) * 4 + 4)];
    expect(at(0, 0)).toEqual([10, 0, 245, 255]);
    expect(at(1, 1)).toEqual([10, 0, 245, 255]);
    expect(at(2, 0)).toEqual([20, 0, 235, 255]);
    expect(at(5, 3)).toEqual([60, 0, 195, 255]);
    expect(at(0, 2)).toEqual([40, 0, 215, 255]);
  });
});

describe('hit testing', () => {
  it('finds the cell under a CSS offset and nothing outside the map', () => {
    expect(cellAt(0, 0, 28, 28, 4)).toEqual({ row: 0, col: 0 });
    expect(cellAt(11.9, 4, 28, 28, 4)).toEqual({ row: 1, col: 2 });
    expect(cellAt(111.9, 111.9, 28, 28, 4)).toEqual({ row: 27, col: 27 });
    expect(cellAt(112, 0, 28, 28, 4)).toBeNull();
    expect(cellAt(-1, 0, 28, 28, 4)).toBeNull();
  });

  it('finds the tile under an offset in a strip with gaps', () => {
    expect(tileAt(0, 40, 8, 6)).toBe(0);
    expect(tileAt(41, 40, 8, 6)).toBeNull(); // in the gap
    expect(tileAt(48, 40, 8, 6)).toBe(1);
    expect(tileAt(48 * 6, 40, 8, 6)).toBeNull();
  });
});

describe('receptive fields', () => {
  it('maps a C1 output cell to its 5×5 window of the 32×32 input', () => {
    expect(receptiveField(0, 0, { kernel: 5, stride: 1 })).toEqual({ top: 0, left: 0, height: 5, width: 5 });
    expect(receptiveField(27, 3, { kernel: 5, stride: 1 })).toEqual({ top: 27, left: 3, height: 5, width: 5 });
  });

  it('maps a subsampling cell to its 2×2 block', () => {
    expect(receptiveField(6, 13, { kernel: 2, stride: 2 })).toEqual({ top: 12, left: 26, height: 2, width: 2 });
  });

  it('chains C1 → S2 → C3 so a C3 cell sees a 14×14 window of the input', () => {
    const stages = [{ kernel: 5, stride: 1 }, { kernel: 2, stride: 2 }, { kernel: 5, stride: 1 }];
    expect(chainedField(0, 0, stages)).toEqual({ top: 0, left: 0, height: 14, width: 14 });
    expect(chainedField(9, 9, stages)).toEqual({ top: 18, left: 18, height: 14, width: 14 });
    // the whole LeNet-5 front end: a C5 unit sees all 32×32 input pixels
    const toC5 = [...stages, { kernel: 2, stride: 2 }, { kernel: 5, stride: 1 }];
    expect(chainedField(0, 0, toC5)).toEqual({ top: 0, left: 0, height: 32, width: 32 });
  });

  it('shifts by the padding and clips to the map', () => {
    const field = receptiveField(0, 27, { kernel: 5, stride: 1, padding: 2 });
    expect(field).toEqual({ top: -2, left: 25, height: 5, width: 5 });
    expect(clipField(field, 28, 28)).toEqual({ top: 0, left: 25, height: 3, width: 3 });
  });
});

describe('convDotProduct', () => {
  it('reproduces a direct convolution, bias included', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 1e6 }),
      (row, col, output, seed) => {
        let s = seed;
        const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
        const input = { shape: [1, 10, 10, 2], data: Float32Array.from({ length: 200 }, rand) };
        const kernel = { shape: [5, 5, 2, 3], data: Float32Array.from({ length: 150 }, rand) };
        const bias = [0.1, -0.2, 0.3];
        let expected = bias[output]!;
        for (let m = 0; m < 5; m++) for (let n = 0; n < 5; n++) for (let i = 0; i < 2; i++) {
          expected += kernel.data[((m * 5 + n) * 2 + i) * 3 + output]! * input.data[((row + m) * 10 + col + n) * 2 + i]!;
        }
        const dot = convDotProduct(input, kernel, bias, output, row, col);
        expect(dot.preActivation).toBeCloseTo(expected, 5);
        expect(dot.terms.map((t) => t.input)).toEqual([0, 1]);
        expect(dot.sum + dot.bias).toBeCloseTo(dot.preActivation, 10);
        expect(dot.terms[1]!.patch[0]).toBe(input.data[(row * 10 + col) * 2 + 1]);
        expect(dot.terms[0]!.weights[7]).toBe(kernel.data[((1 * 5 + 2) * 2 + 0) * 3 + output]);
      },
    ));
  });

  it('sums only the connected input maps when told which', () => {
    const input = { shape: [1, 5, 5, 3], data: new Float32Array(75).fill(1) };
    const kernel = { shape: [5, 5, 3, 1], data: new Float32Array(75).fill(1) };
    const dot = convDotProduct(input, kernel, [0.5], 0, 0, 0, { inputs: [0, 2] });
    expect(dot.terms.map((t) => t.input)).toEqual([0, 2]);
    expect(dot.sum).toBe(50);
    expect(dot.preActivation).toBe(50.5);
  });

  it('reads zeros where padding falls outside the input', () => {
    const input = { shape: [1, 3, 3, 1], data: new Float32Array(9).fill(2) };
    const kernel = { shape: [3, 3, 1, 1], data: new Float32Array(9).fill(1) };
    const dot = convDotProduct(input, kernel, null, 0, 0, 0, { padding: 1 });
    expect(dot.sum).toBe(8); // 2×2 of the 3×3 window is inside
    expect(dot.terms[0]!.patch[0]).toBe(0);
  });

  it('rejects a kernel that does not fit the input', () => {
    const input = { shape: [1, 5, 5, 2], data: new Float32Array(50) };
    const kernel = { shape: [5, 5, 3, 1], data: new Float32Array(75) };
    expect(() => convDotProduct(input, kernel, null, 0, 0, 0)).toThrow(/3 input maps/);
  });
});

describe('applyActivation', () => {
  it('knows the squashing function of the 1998 paper and the usual ones', () => {
    expect(applyActivation('scaledTanh', 1)).toBeCloseTo(1.7159 * Math.tanh(2 / 3), 10);
    expect(applyActivation('lecun-tanh', -2)).toBeCloseTo(-1.7159 * Math.tanh(4 / 3), 10);
    expect(applyActivation('tanh', 0.5)).toBeCloseTo(Math.tanh(0.5), 12);
    expect(applyActivation('relu', -3)).toBe(0);
    expect(applyActivation('relu', 3)).toBe(3);
    expect(applyActivation('linear', -3)).toBe(-3);
    expect(applyActivation(undefined, 4)).toBe(4);
    expect(applyActivation('swishy', 1)).toBeNull();
  });

  it('reads the activation names the variant specs use', () => {
    expect(applyActivation('scaled tanh 1.7159·tanh(2a/3)', 1.5)).toBeCloseTo(1.7159 * Math.tanh(1), 10);
    expect(applyActivation('none (softmax in the loss)', -2.5)).toBe(-2.5);
    expect(applyActivation('sigmoid', 0)).toBe(0.5);
    expect(applyActivation('squared distance to each digit bitmap', 1)).toBeNull();
    expect(activationFormula('scaled tanh 1.7159·tanh(2a/3)')).toBe('f(a) = 1.7159·tanh(2a/3)');
    expect(activationFormula('relu')).toBe('f(a) = max(0, a)');
  });
});
