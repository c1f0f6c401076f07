// Preprocessing at the edges of what users hand it: strokes through each border and each corner (where a
// background read from one corner pixel would invert the image), photos with dark corners (vignetting, a
// shadow), and thin faint pencil strokes. Each is compared with the same digit drawn away from the edges,
// on flat paper, in bold: the digit the model sees must not depend on where or how lightly it was drawn.
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/dataset.js';
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
    const mnist = loadDataset({ kind: 'mnist' }, { testLimit: 20 });
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
  const seven: Shape = (x, y) => {
    // A pen "7": a top bar and a slanted stem, 12 px wide.
    const bar = y >= 30 && y < 42 && x >= 50 && x < 150 ? 1 : 0;
    const stemX = 150 - ((y - 30) * 70) / 100;
    const stem = y >= 30 && y < 130 && Math.abs(x - stemX) < 6 ? 1 : 0;
    return Math.max(bar, stem);
  };
  /** A photo of ink on paper under `light(x, y)` (1 = full light): the paper and the ink both darken. */
  const photo = (light: (x: number, y: number) => number): Img => {
    const img = blank(W, H, 0);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) img.data[y * W + x] = light(x, y) * (235 - 200 * seven(x, y));
    return img;
  };
  const flat = run(photo(() => 1)).pixels;
  const radius = (x: number, y: number): number => Math.hypot((x - (W - 1) / 2) / ((W - 1) / 2), (y - (H - 1) / 2) / ((H - 1) / 2)) / Math.SQRT2;

  it.each([0.3, 0.5, 0.6])('vignetting that darkens the corners by %s reads as the flat-lit digit', (strength) => {
    const result = run(photo((x, y) => 1 - strength * radius(x, y) ** 4));
    expect(result.hasInk).toBe(true);
    expect(meanAbsDiff(result.pixels, flat)).toBeLessThan(0.01);
  });

  it('a soft shadow over one corner reads as the flat-lit digit', () => {
    for (const [cx, cy] of [[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]]) {
      const shadow = (x: number, y: number): number => 1 - 0.45 * Math.max(0, 1 - Math.hypot(x - cx!, y - cy!) / 90);
      expect(meanAbsDiff(run(photo(shadow)).pixels, flat), `shadow at ${cx},${cy}`).toBeLessThan(0.01);
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

  it('are not lost on a photo with dark corners', () => {
    const middle = run(pencil(seven(3))).pixels;
    const vignetted = pencil(seven(3));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const r = Math.hypot(x - 111.5, y - 111.5) / Math.hypot(111.5, 111.5);
        vignetted.data[y * W + x]! *= 1 - 0.3 * r ** 4;
      }
    }
    expect(meanAbsDiff(run(vignetted).pixels, middle)).toBeLessThan(0.02);
  });
});
