// Preprocessing at the edges of what users hand it: strokes through each border and each corner (where a
// background read from one corner pixel would invert the image), photos with dark corners (vignetting, a
// shadow), and thin faint pencil strokes. Each is compared with the same digit drawn away from the edges,
// on flat paper, in bold: the digit the model sees must not depend on where or how lightly it was drawn.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/dataset.js';
import { initBackend } from '../../engine/backends/ladder.js';
import { loadModel } from '../../engine/io/model-store.js';
import { createPredictor, type Predictor } from '../../common/network/predict.js';
import { getVariant } from '../../common/network/variants.js';
import { preprocessDrawing } from '../../common/preprocess.js';

interface Img { data: Float32Array; width: number; height: number }
const blank = (width: number, height: number, value: number): Img => ({ data: new Float32Array(width * height).fill(value), width, height });
/** A `w`×`h` image whose pixels are `paper` except where `ink(x, y)` says how much ink (0..1) lies. */
function drawn(w: number, h: number, paper: number, inkValue: number, ink: (x: number, y: number) => number): Img {
  const img = blank(w, h, paper);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.data[y * w + x] = paper + (inkValue - paper) * ink(x, y);
  return img;
}
const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};
const run = (img: Img) => preprocessDrawing(img);

// The shipped models (the pad's and `predict`'s): a reading close to the reference's must also get its answers.
const shipped: Predictor[] = [];
const disposers: Array<() => void> = [];
beforeAll(async () => {
  await initBackend('wasm');
  for (const name of ['modern', 'lenet5']) {
    const { model, meta } = await loadModel(`assets/models/${name}`);
    const predictor = createPredictor(model, getVariant(meta.variant));
    shipped.push(predictor);
    disposers.push(() => { predictor.dispose(); model.dispose(); });
  }
});
afterAll(() => disposers.forEach((dispose) => dispose()));
const answers = (pixels: Float32Array): number[] => shipped.map((p) => p.predict(pixels).digit);
const mnist = loadDataset({ kind: 'mnist' }, { testLimit: 40 });
/** MNIST test digit `index` as ink 0..1, `scale`× larger, smooth (bilinear) or blocky, its top-left at (left, top). */
const mnistShape = (index: number, scale: number, left: number, top: number, smooth = true): Shape => (x, y) => {
  if (!smooth) {
    const i = Math.floor((x - left) / scale), j = Math.floor((y - top) / scale);
    return i >= 0 && j >= 0 && i < 28 && j < 28 ? mnist.test.images[index * 784 + j * 28 + i]! / 255 : 0;
  }
  const u = (x - left) / scale - 0.5, v = (y - top) / scale - 0.5;
  const i0 = Math.floor(u), j0 = Math.floor(v), fu = u - i0, fv = v - j0;
  const at = (i: number, j: number): number => (i >= 0 && j >= 0 && i < 28 && j < 28 ? mnist.test.images[index * 784 + j * 28 + i]! / 255 : 0);
  return at(i0, j0) * (1 - fu) * (1 - fv) + at(i0 + 1, j0) * fu * (1 - fv) + at(i0, j0 + 1) * (1 - fu) * fv + at(i0 + 1, j0 + 1) * fu * fv;
};

/** Ink masks of a shape `size` pixels square placed with its top-left at (left, top). */
type Shape = (x: number, y: number) => number;
const rect = (x0: number, y0: number, x1: number, y1: number): Shape => (x, y) => (x >= x0 && x < x1 && y >= y0 && y < y1 ? 1 : 0);
const union = (...shapes: Shape[]): Shape => (x, y) => Math.max(...shapes.map((s) => s(x, y)));
const moved = (shape: Shape, left: number, top: number): Shape => (x, y) => shape(x - left, y - top);
const SIZE = 60, BAR = 10;
/** A square-cornered "7" (ink in its top-left, top-right and bottom-right corners) and an "L" (top-left, bottom-left, bottom-right). */
const SHAPES: Record<string, Shape> = {
  seven: union(rect(0, 0, SIZE, BAR), rect(SIZE - BAR, 0, SIZE, SIZE)),
  ell: union(rect(0, 0, BAR, SIZE), rect(0, SIZE - BAR, SIZE, SIZE)),
};
const POLARITIES = [{ name: 'dark ink on white', paper: 255, ink: 0 }, { name: 'white chalk on a dark board', paper: 0, ink: 255 }];

describe('strokes through each corner and along each border', () => {
  const W = 130, H = 110;
  const corners: Record<string, [number, number]> = {
    'top-left': [0, 0], 'top-right': [W - SIZE, 0], 'bottom-left': [0, H - SIZE], 'bottom-right': [W - SIZE, H - SIZE],
    top: [(W - SIZE) >> 1, 0], bottom: [(W - SIZE) >> 1, H - SIZE], left: [0, (H - SIZE) >> 1], right: [W - SIZE, (H - SIZE) >> 1],
  };
  for (const polarity of POLARITIES) {
    for (const [shapeName, shape] of Object.entries(SHAPES)) {
      it(`${shapeName}, ${polarity.name}: the same digit wherever it touches the edge`, () => {
        const centred = run(drawn(W, H, polarity.paper, polarity.ink, moved(shape, 35, 25)));
        expect(centred.hasInk).toBe(true);
        for (const [where, [left, top]] of Object.entries(corners)) {
          const img = drawn(W, H, polarity.paper, polarity.ink, moved(shape, left, top));
          const result = run(img);
          expect(result.hasInk, where).toBe(true);
          expect(meanAbsDiff(result.pixels, centred.pixels), where).toBe(0);
        }
      });
    }
  }

  it('MNIST digits touching each border come out as the same digit as when drawn in the middle', () => {
    for (const index of [0, 1, 2, 3, 4, 7]) {
      const src = mnist.test.images.subarray(index * 784, (index + 1) * 784);
      // The digit's own ink box, 3× larger (blocky).
      let x0 = 28, x1 = -1, y0 = 28, y1 = -1;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if (src[y * 28 + x]! > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
      const w = (x1 - x0 + 1) * 3, h = (y1 - y0 + 1) * 3;
      const digit: Shape = (x, y) => (x >= 0 && y >= 0 && x < w && y < h ? src[(y0 + Math.floor(y / 3)) * 28 + x0 + Math.floor(x / 3)]! / 255 : 0);
      const W2 = 150, H2 = 150;
      for (const polarity of POLARITIES) {
        const centred = run(drawn(W2, H2, polarity.paper, polarity.ink, moved(digit, (W2 - w) >> 1, (H2 - h) >> 1))).pixels;
        for (const [left, top] of [[0, 0], [W2 - w, 0], [0, H2 - h], [W2 - w, H2 - h], [(W2 - w) >> 1, 0], [0, (H2 - h) >> 1]] as const) {
          const at = run(drawn(W2, H2, polarity.paper, polarity.ink, moved(digit, left, top))).pixels;
          expect(meanAbsDiff(at, centred), `digit ${index} at ${left},${top}, ${polarity.name}`).toBe(0);
        }
      }
    }
  });
});

// The paper's level is a smooth surface fitted to the paper (common/preprocess.ts, fitPaperSurface): dark corners
// are paper, so the digit keeps its size, while a stroke along the edge is still ink (the tests above).
describe('photos with dark corners', () => {
  const W = 200, H = 160;
  /** A pen "7": a top bar and a slanted stem, 12 px wide, moved by (dx, dy) from the middle. */
  const sevenAt = (dx: number, dy: number): Shape => (x, y) => {
    x -= dx; y -= dy;
    const bar = y >= 30 && y < 42 && x >= 50 && x < 150 ? 1 : 0;
    const stemX = 150 - ((y - 30) * 70) / 100;
    const stem = y >= 30 && y < 130 && Math.abs(x - stemX) < 6 ? 1 : 0;
    return Math.max(bar, stem);
  };
  const seven = sevenAt(0, 0);
  /** A photo of `shape` under `light(x, y)` (1 = full light): the paper and the ink both darken. */
  const photo = (light: (x: number, y: number) => number, shape: Shape = seven, paper = 235, ink = 35): Img => {
    const img = blank(W, H, 0);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.data[y * W + x] = light(x, y) * (paper + (ink - paper) * shape(x, y));
    return img;
  };
  const flatResult = run(photo(() => 1));
  const flat = flatResult.pixels;
  const radius = (x: number, y: number): number => Math.hypot((x - (W - 1) / 2) / ((W - 1) / 2), (y - (H - 1) / 2) / ((H - 1) / 2)) / Math.SQRT2;
  const vignetting = (strength: number) => (x: number, y: number): number => 1 - strength * radius(x, y) ** 4;
  /** A soft shadow darkening by `depth` at (cx, cy), fading out 90 px away. */
  const shadowAt = (cx: number, cy: number, depth = 0.45) => (x: number, y: number): number => 1 - depth * Math.max(0, 1 - Math.hypot(x - cx, y - cy) / 90);
  /** Where the "7" touches each corner and border: its shift from the middle, and the point of the image there. */
  const PLACES: Record<string, { shift: [number, number]; at: [number, number] }> = {
    'top-left': { shift: [-50, -30], at: [0, 0] }, 'top-right': { shift: [44, -30], at: [W - 1, 0] },
    'bottom-left': { shift: [-50, 30], at: [0, H - 1] }, 'bottom-right': { shift: [44, 30], at: [W - 1, H - 1] },
    top: { shift: [0, -30], at: [100, 0] }, bottom: { shift: [0, 30], at: [100, H - 1] },
    left: { shift: [-50, 0], at: [0, 80] }, right: { shift: [44, 0], at: [W - 1, 80] },
  };

  it('the reference: the flat-lit "7" in the middle, and where it touches each edge, is the same digit', () => {
    expect(flatResult.hasInk).toBe(true);
    for (const [where, { shift }] of Object.entries(PLACES)) {
      expect(meanAbsDiff(run(photo(() => 1, sevenAt(...shift))).pixels, flat), where).toBe(0);
    }
  });

  it.each([0.3, 0.5, 0.6, 0.8])('vignetting that darkens the corners by %s reads as the flat-lit digit', (strength) => {
    const result = run(photo(vignetting(strength)));
    expect(result.hasInk).toBe(true);
    expect(meanAbsDiff(result.pixels, flat)).toBeLessThan(0.01);
    expect(answers(result.pixels)).toEqual(answers(flat));
  });

  it('a soft shadow over one corner, or from the middle of one edge, reads as the flat-lit digit', () => {
    for (const { at: [cx, cy] } of Object.values(PLACES)) {
      for (const depth of [0.45, 0.6]) {
        const pixels = run(photo(shadowAt(cx, cy, depth))).pixels;
        expect(meanAbsDiff(pixels, flat), `shadow ${depth} at ${cx},${cy}`).toBeLessThan(0.01);
        expect(answers(pixels), `shadow ${depth} at ${cx},${cy}`).toEqual(answers(flat));
      }
    }
  });

  it('a "7" touching each corner and border of a vignetted or shadowed photo reads as the flat-lit digit', () => {
    for (const [where, { shift, at: [cx, cy] }] of Object.entries(PLACES)) {
      for (const [light, name] of [[vignetting(0.5), 'vignetting 0.5'], [shadowAt(cx, cy), 'a shadow there']] as const) {
        const result = run(photo(light, sevenAt(...shift)));
        expect(meanAbsDiff(result.pixels, flat), `${where}, ${name}`).toBeLessThan(0.01);
        expect(answers(result.pixels), `${where}, ${name}`).toEqual(answers(flat));
      }
    }
  });

  it('chalk on a vignetted board, in the middle and touching each corner and border, reads as on an evenly lit one', () => {
    const board = run(photo(() => 1, seven, 40, 230)).pixels;
    expect(meanAbsDiff(board, flat)).toBeLessThan(1e-6); // white on black reads like black on white
    for (const [where, { shift }] of Object.entries({ middle: { shift: [0, 0] as [number, number] }, ...PLACES })) {
      const pixels = run(photo(vignetting(0.5), sevenAt(...shift), 40, 230)).pixels;
      expect(meanAbsDiff(pixels, board), where).toBeLessThan(0.015);
      expect(answers(pixels), where).toEqual(answers(board));
    }
  });

  it('MNIST digits on a vignetted photo, touching each corner, read as the same digits flat-lit in the middle', () => {
    const scale = 4;
    for (const index of [0, 1, 2, 3, 4, 7]) {
      // The digit's ink box inside its 28×28 frame, so that the ink itself (not the frame) touches the corner.
      let x0 = 28, x1 = -1, y0 = 28, y1 = -1;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if (mnist.test.images[index * 784 + y * 28 + x]! > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
      const inkW = (x1 - x0 + 1) * scale, inkH = (y1 - y0 + 1) * scale;
      const at = (left: number, top: number): Shape => mnistShape(index, scale, left - x0 * scale, top - y0 * scale, false);
      const middle = run(photo(() => 1, at((W - inkW) >> 1, (H - inkH) >> 1))).pixels;
      for (const [left, top] of [[0, 0], [W - inkW, 0], [0, H - inkH], [W - inkW, H - inkH]] as const) {
        const pixels = run(photo(vignetting(0.5), at(left, top))).pixels;
        expect(meanAbsDiff(pixels, middle), `digit ${index} at ${left},${top}`).toBeLessThan(0.03);
        expect(answers(pixels), `digit ${index} at ${left},${top}`).toEqual(answers(middle));
      }
    }
  });
});

describe('thin faint pencil strokes', () => {
  const W = 224, H = 224;
  /** A "7" of strokes `width` pixels wide, with its top-left at (left, top). */
  const seven = (width: number, left = 40, top = 40): Shape => (x, y) => {
    const bar = y >= top && y < top + width && x >= left && x < left + 140 ? 1 : 0;
    const stemX = left + 140 - ((y - top) * 90) / 160;
    const stem = y >= top && y < top + 160 && Math.abs(x - stemX) < width / 2 ? 1 : 0;
    return Math.max(bar, stem);
  };
  const pencil = (shape: Shape): Img => drawn(W, H, 235, 195, shape); // light gray on off-white: 17% contrast
  const inkBox = (pixels: Float32Array): [number, number] => {
    let x0 = 28, x1 = -1, y0 = 28, y1 = -1;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) if (pixels[y * 28 + x]! > 0.05) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    return [x1 - x0 + 1, y1 - y0 + 1];
  };

  it('come out as full-contrast ink with the shape and place of the same digit drawn bold', () => {
    const bold = run(drawn(W, H, 255, 0, seven(16))).pixels;
    const thin = run(pencil(seven(3))).pixels;
    expect(Math.max(...thin)).toBe(1);
    const [thinW, thinH] = inkBox(thin), [boldW, boldH] = inkBox(bold);
    expect(Math.abs(thinW - boldW)).toBeLessThanOrEqual(1);
    expect(thinH).toBe(boldH);
    // Every pixel of the thin digit lies on the bold one.
    for (let i = 0; i < 784; i++) if (thin[i]! > 0.3) expect(bold[i], `pixel ${i}`).toBeGreaterThan(0);
    // Strokes shrunk to a fraction of a pixel still carry clear ink: at least half the mass of a 1-pixel line.
    expect(thin.reduce((a, b) => a + b, 0)).toBeGreaterThan(0.5 * 20 * 2);
  });

  it('read the same touching the edges as away from them', () => {
    const middle = run(pencil(seven(3))).pixels;
    for (const [left, top] of [[0, 0], [W - 143, 0], [0, H - 161], [W - 143, H - 161]]) {
      expect(meanAbsDiff(run(pencil(seven(3, left, top))).pixels, middle), `at ${left},${top}`).toBe(0);
    }
  });

  it('are not lost on a photo with dark corners, in the middle or touching each corner', () => {
    const middle = run(pencil(seven(3))).pixels;
    for (const [left, top] of [[40, 40], [0, 0], [W - 143, 0], [0, H - 161], [W - 143, H - 161]]) {
      const vignetted = pencil(seven(3, left, top));
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const r = Math.hypot(x - 111.5, y - 111.5) / Math.hypot(111.5, 111.5);
          vignetted.data[y * W + x]! *= 1 - 0.3 * r ** 4;
        }
      }
      const pixels = run(vignetted).pixels;
      expect(meanAbsDiff(pixels, middle), `at ${left},${top}`).toBeLessThan(0.02);
      expect(answers(pixels), `at ${left},${top}`).toEqual(answers(middle));
    }
  });
});

describe("the drawing pad's clean canvas", () => {
  const S = 280;
  /** MNIST test digit `index` as the pad draws it: bold anti-aliased black strokes on white, 280×280. */
  const padDrawing = (index: number, scale: number, left: number, top: number): Img => {
    const stroke = mnistShape(index, scale, left, top);
    return drawn(S, S, 255, 0, (x, y) => Math.min(1, Math.max(0, (stroke(x, y) - 0.35) * 5)));
  };

  it('reads as one level: the same drawing anywhere on the pad gives the same digit exactly', () => {
    for (const index of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const home = run(padDrawing(index, 9, 14, 14)).pixels;
      // Shifts that are not whole cells, and one whose frame reaches past the pad's edges.
      for (const [left, top] of [[3, 29], [24, 1], [-20, -20]] as const) {
        expect(meanAbsDiff(run(padDrawing(index, 9, left, top)).pixels, home), `digit ${index} at ${left},${top}`).toBe(0);
      }
    }
  });

  it("the shipped models' answers for the test digits drawn on the pad (as before the paper surface)", () => {
    const drawnAnswers = Array.from({ length: 20 }, (_, index) => answers(run(padDrawing(index, 8 + (index % 3), 10 + 3 * index, 6 + 2 * index)).pixels));
    // Recorded with the flat border-median background (commit e08c99b), identical since: modern, lenet5. Test
    // digit 18 (a 3) drawn this way is a 5 to lenet5, then as now.
    expect(drawnAnswers).toEqual(PAD_ANSWERS);
  });
});

/** The shipped models' answers (modern, lenet5) for MNIST test digits 0…19 drawn on the pad, recorded before. */
const PAD_ANSWERS: number[][] = [
  [7, 7], [2, 2], [1, 1], [0, 0], [4, 4], [1, 1], [4, 4], [9, 9], [5, 5], [9, 9],
  [0, 0], [6, 6], [9, 9], [0, 0], [1, 1], [5, 5], [9, 9], [7, 7], [3, 5], [4, 4],
];
