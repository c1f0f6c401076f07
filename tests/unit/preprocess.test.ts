import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadDataset } from '../../engine/data/dataset.js';
import {
  batchToModelInput, preprocessDrawing, rgbaToGray, toModelInput, type InputNormalisation,
} from '../../common/preprocess.js';

// ---- helpers: MNIST digits redrawn the ways a user might draw them ----

const mnist = loadDataset({ kind: 'mnist' }, { testLimit: 200 });
const SIDE = 28;

/** Test digit `index` as 0..255 (ink 255 on 0). */
const digit = (index: number): Uint8Array => mnist.test.images.subarray(index * 784, (index + 1) * 784);
/** The same digit as 0..1 floats, what preprocessDrawing should give back. */
const expected = (index: number): Float32Array => Float32Array.from(digit(index), (v) => v / 255);

interface Gray { data: Float32Array; width: number; height: number }
const canvas = (width: number, height: number, fill = 0): Gray => ({ data: new Float32Array(width * height).fill(fill), width, height });

/** Enlarges a 28×28 digit k times: nearest neighbour (blocky) or bilinear (smooth, like a real pen). */
function enlarge(src: ArrayLike<number>, k: number, smooth: boolean): Gray {
  const out = canvas(SIDE * k, SIDE * k);
  const at = (x: number, y: number): number =>
    src[Math.min(SIDE - 1, Math.max(0, y)) * SIDE + Math.min(SIDE - 1, Math.max(0, x))]!;
  for (let y = 0; y < out.height; y++) {
    for (let x = 0; x < out.width; x++) {
      if (!smooth) { out.data[y * out.width + x] = at(Math.floor(x / k), Math.floor(y / k)); continue; }
      const sx = (x + 0.5) / k - 0.5, sy = (y + 0.5) / k - 0.5;
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      out.data[y * out.width + x] =
        (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
    }
  }
  return out;
}
const asGray = (src: ArrayLike<number>): Gray => ({ data: Float32Array.from(src), width: SIDE, height: SIDE });

/** Copies `img` into `target` with its top-left at (left, top). */
function paste(target: Gray, img: Gray, left: number, top: number): Gray {
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) target.data[(y + top) * target.width + x + left] = img.data[y * img.width + x]!;
  }
  return target;
}
const map = (img: Gray, f: (v: number) => number): Gray => ({ ...img, data: img.data.map(f) });
const invert = (img: Gray): Gray => map(img, (v) => 255 - v);

/** A square filter over a (2r+1)² window: mean blurs, min thins white-on-black strokes. */
function filter(img: Gray, r: number, reduce: (values: number[]) => number): Gray {
  const out = canvas(img.width, img.height);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const values: number[] = [];
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy, xx = x + dx;
          values.push(yy < 0 || xx < 0 || yy >= img.height || xx >= img.width ? 0 : img.data[yy * img.width + xx]!);
        }
      }
      out.data[y * out.width + x] = reduce(values);
    }
  }
  return out;
}
const blur = (img: Gray, r: number): Gray => filter(img, r, (v) => v.reduce((a, b) => a + b, 0) / v.length);
const erode = (img: Gray, r: number): Gray => filter(img, r, (v) => Math.min(...v));

/** The digit moved one pixel right: how far "off by one pixel" is, the yardstick for redrawn digits. */
function oneShiftDiff(index: number): number {
  const src = expected(index);
  const moved = new Float32Array(784);
  for (let y = 0; y < SIDE; y++) for (let x = 1; x < SIDE; x++) moved[y * SIDE + x] = src[y * SIDE + x - 1]!;
  return meanAbsDiff(src, moved);
}
/**
 * Mean difference allowing the whole-pixel centring shift to differ by one: MNIST rounds the centre of mass to a
 * pixel, so a redrawn digit whose centre lies near a half pixel may legitimately land one pixel over.
 */
function alignedDiff(pixels: ArrayLike<number>, index: number): number {
  const target = expected(index);
  let best = Infinity;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const moved = new Float32Array(784);
      for (let y = 0; y < SIDE; y++) {
        for (let x = 0; x < SIDE; x++) {
          const sx = x - dx, sy = y - dy;
          if (sx >= 0 && sy >= 0 && sx < SIDE && sy < SIDE) moved[y * SIDE + x] = pixels[sy * SIDE + sx]!;
        }
      }
      best = Math.min(best, meanAbsDiff(moved, target));
    }
  }
  return best;
}
const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};
function centreOfMass(pixels: ArrayLike<number>): [number, number] {
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = pixels[y * SIDE + x]!;
      mass += v; mx += v * x; my += v * y;
    }
  }
  return [mx / mass, my / mass];
}
/** Bounding box of pixels above `threshold`: [width, height]. */
function inkBox(pixels: ArrayLike<number>, threshold = 0): [number, number] {
  let x0 = SIDE, x1 = -1, y0 = SIDE, y1 = -1;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      if (pixels[y * SIDE + x]! > threshold) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  return [x1 - x0 + 1, y1 - y0 + 1];
}
function expectCentred(pixels: ArrayLike<number>): void {
  const [cx, cy] = centreOfMass(pixels);
  expect(Math.abs(cx - 14)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(cy - 14)).toBeLessThanOrEqual(0.5);
}

const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 18, 61, 97, 124, 149];

// ---- preprocessDrawing ----

describe('preprocessDrawing', () => {
  it('gives back an MNIST digit drawn anywhere on a bigger canvas', () => {
    fc.assert(fc.property(fc.constantFrom(...DIGITS), fc.integer({ min: 0, max: 52 }), fc.integer({ min: 0, max: 32 }), (index, left, top) => {
      const { pixels, hasInk } = preprocessDrawing(paste(canvas(80, 60), asGray(digit(index)), left, top));
      expect(hasInk).toBe(true);
      expect(meanAbsDiff(pixels, expected(index))).toBeLessThan(0.005);
      expectCentred(pixels);
    }), { numRuns: 60 });
  });

  it('gives back an MNIST digit drawn 2× (blocky) and 3× (smooth) larger in a 100×90 canvas', () => {
    for (const index of DIGITS) {
      const twice = preprocessDrawing(paste(canvas(100, 90), enlarge(digit(index), 2, false), 30, 20)).pixels;
      expect(meanAbsDiff(twice, expected(index))).toBeLessThan(0.005);
      expectCentred(twice);
      const thrice = preprocessDrawing(paste(canvas(100, 90), enlarge(digit(index), 3, true), 9, 3)).pixels;
      // Smooth enlargement thickens the strokes a little, so compare with the digit moved by one pixel.
      expect(alignedDiff(thrice, index)).toBeLessThan(0.75 * oneShiftDiff(index));
      expectCentred(thrice);
    }
  });

  it('treats black ink on white exactly like white ink on black', () => {
    for (const index of DIGITS) {
      const whiteOnBlack = paste(canvas(70, 70), enlarge(digit(index), 2, true), 5, 10);
      const blackOnWhite = invert(whiteOnBlack);
      const a = preprocessDrawing(whiteOnBlack).pixels;
      const b = preprocessDrawing(blackOnWhite).pixels;
      expect(Array.from(b)).toEqual(Array.from(a));
      expect(alignedDiff(b, index)).toBeLessThan(0.75 * oneShiftDiff(index));
    }
  });

  it('keeps blurry and thin drawings close to the digit', () => {
    for (const index of DIGITS) {
      const big = enlarge(digit(index), 4, true);
      const blurry = preprocessDrawing(paste(canvas(140, 140), blur(big, 2), 10, 20)).pixels;
      expect(alignedDiff(blurry, index)).toBeLessThan(0.8 * oneShiftDiff(index));
      expectCentred(blurry);
      // Strokes half a pixel thinner than the original's.
      const thin = preprocessDrawing(invert(paste(canvas(140, 140), erode(big, 1), 10, 20))).pixels;
      expect(alignedDiff(thin, index)).toBeLessThan(0.9 * oneShiftDiff(index));
      expectCentred(thin);
    }
  });

  it('keeps a 1-pixel stroke on a large canvas as antialiased ink', () => {
    const img = canvas(300, 300, 255);
    for (let y = 40; y < 240; y++) img.data[y * 300 + 150] = 0; // a 200-pixel-tall hairline
    const { pixels, hasInk } = preprocessDrawing(img);
    expect(hasInk).toBe(true);
    const [width, height] = inkBox(pixels);
    expect(height).toBe(20);
    expect(width).toBe(1);
    expect(Math.max(...pixels)).toBeCloseTo(1, 5); // faint after shrinking, stretched back to full ink
    expectCentred(pixels);
  });

  it('restores a faint pencil drawing to full-contrast ink', () => {
    for (const index of DIGITS.slice(0, 6)) {
      const pencil = map(paste(canvas(60, 60), asGray(digit(index)), 16, 16), (v) => 230 - (v * 90) / 255); // gray on off-white
      const { pixels } = preprocessDrawing(pencil);
      expect(meanAbsDiff(pixels, expected(index))).toBeLessThan(0.02);
    }
  });

  it('keeps the aspect ratio: a tall thin "1" stays thin', () => {
    const img = canvas(100, 100, 255);
    for (let y = 10; y < 90; y++) for (let x = 47; x < 53; x++) img.data[y * 100 + x] = 0; // 6 wide, 80 tall
    const { pixels } = preprocessDrawing(img);
    const [width, height] = inkBox(pixels);
    expect(height).toBe(20);
    expect(width).toBeLessThanOrEqual(2);
    expectCentred(pixels);
    const dash = canvas(200, 50); // white on black: a wide, flat stroke
    for (let y = 20; y < 30; y++) for (let x = 20; x < 180; x++) dash.data[y * 200 + x] = 255;
    const [dashWidth, dashHeight] = inkBox(preprocessDrawing(dash).pixels);
    expect(dashWidth).toBe(20);
    expect(dashHeight).toBeLessThanOrEqual(2);
  });

  it('finds the background from the border even when strokes touch the edge', () => {
    const img = canvas(40, 40, 255);
    for (let y = 0; y < 40; y++) for (let x = 18; x < 22; x++) img.data[y * 40 + x] = 0; // a bar from top to bottom edge
    const { pixels, hasInk } = preprocessDrawing(img);
    expect(hasInk).toBe(true);
    expect(inkBox(pixels)[1]).toBe(20);
  });

  it('reports no ink for blank and noise-only images', () => {
    const blanks: Gray[] = [canvas(28, 28), canvas(280, 280, 255), canvas(1, 1, 128)];
    const noisy = canvas(120, 80, 245);
    for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = 245 + ((i * 7919) % 21) - 10; // ±10 levels of grain
    blanks.push(noisy);
    for (const img of blanks) {
      const { pixels, hasInk } = preprocessDrawing(img);
      expect(hasInk).toBe(false);
      expect(pixels.length).toBe(784);
      expect(pixels.every((v) => v === 0)).toBe(true);
    }
    expect(preprocessDrawing({ data: [], width: 0, height: 0 }).hasInk).toBe(false);
  });

  it('rejects data shorter than its declared size', () => {
    expect(() => preprocessDrawing({ data: new Uint8Array(10), width: 4, height: 4 })).toThrow(/needs 16 values, got 10/);
  });

  it('always returns 784 values in 0..1 for any image', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer(),
      (width, height, seed) => {
        const data = Array.from({ length: width * height }, (_, i) => Math.abs((seed + i * 2654435761) % 256));
        const { pixels, hasInk } = preprocessDrawing({ data, width, height });
        expect(pixels.length).toBe(784);
        expect(pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
        if (!hasInk) expect(pixels.every((v) => v === 0)).toBe(true);
      }), { numRuns: 200 });
  });
});

// ---- model input ----

const LENET5: InputNormalisation = { size: 32, pad: 2, background: -0.1, ink: 1.175 };
const SEED: InputNormalisation = { size: 32, pad: 2, background: -1, ink: 1 };

describe('toModelInput', () => {
  it('pads to 32×32 with the background and maps 0 → background, 1 → ink linearly', () => {
    const pixels = new Float32Array(784);
    pixels[0] = 1; // top-left of the digit
    pixels[14 * 28 + 14] = 0.5;
    pixels[783] = 0.25;
    const input = toModelInput(pixels, LENET5);
    expect(input.length).toBe(1024);
    for (const border of [0, 1, 31, 32, 33, 2 * 32, 2 * 32 + 1, 2 * 32 + 30, 31 * 32 + 31, 1023]) {
      expect(input[border]).toBeCloseTo(-0.1, 6);
    }
    expect(input[2 * 32 + 2]).toBeCloseTo(1.175, 6);
    expect(input[16 * 32 + 16]).toBeCloseTo(-0.1 + 0.5 * 1.275, 6);
    expect(input[29 * 32 + 29]).toBeCloseTo(-0.1 + 0.25 * 1.275, 6);
    expect(input[2 * 32 + 3]).toBeCloseTo(-0.1, 6); // background inside the digit area too
    const seed = toModelInput(pixels, SEED);
    expect([seed[0], seed[2 * 32 + 2], seed[16 * 32 + 16]]).toEqual([-1, 1, 0]);
  });

  it('rejects a digit that is not 28×28', () => {
    expect(() => toModelInput(new Float32Array(100), LENET5)).toThrow(/expected 784 pixels/);
  });
});

describe('batchToModelInput', () => {
  it('equals toModelInput of each image, written at an offset-free output', () => {
    const count = 50;
    const batch = batchToModelInput(mnist.test.images, count, 28, 28, LENET5);
    expect(batch.length).toBe(count * 1024);
    for (let n = 0; n < count; n++) {
      const one = toModelInput(expected(n), LENET5);
      expect(Array.from(batch.subarray(n * 1024, (n + 1) * 1024))).toEqual(Array.from(one));
    }
  });

  it('fills a given output buffer, padding included, over whatever it held', () => {
    const out = new Float32Array(3 * 1024 + 5).fill(99);
    const result = batchToModelInput(mnist.test.images.subarray(784 * 10), 3, 28, 28, SEED, out);
    expect(result).toBe(out);
    for (let n = 0; n < 3; n++) {
      expect(Array.from(out.subarray(n * 1024, (n + 1) * 1024))).toEqual(Array.from(toModelInput(expected(10 + n), SEED)));
    }
    expect(out[3 * 1024]).toBe(99); // nothing written past the batch
  });

  it('rejects images that are not 28×28 and an output that is too small', () => {
    expect(() => batchToModelInput(new Uint8Array(32 * 32), 1, 32, 32, LENET5)).toThrow(/images are 32×32; the models take 28×28/);
    expect(() => batchToModelInput(mnist.test.images, 2, 28, 28, LENET5, new Float32Array(1024))).toThrow(/output holds 1024 values/);
  });
});

describe('rgbaToGray', () => {
  it('uses luminance and composites transparency over white', () => {
    const rgba = [
      0, 0, 0, 255, // opaque black
      255, 255, 255, 255, // opaque white
      0, 0, 0, 0, // transparent (whatever its colour): blank paper
      0, 0, 0, 128, // half-transparent black
      255, 0, 0, 255, // red
    ];
    expect(Array.from(rgbaToGray(rgba, 5, 1))).toEqual([0, 255, 255, 127, 76]);
  });

  it('makes a transparent canvas with black strokes preprocess like black on white', () => {
    const width = 56, height = 56;
    const rgba = new Uint8ClampedArray(width * height * 4); // fully transparent
    const big = enlarge(digit(0), 2, true);
    for (let i = 0; i < big.data.length; i++) rgba[i * 4 + 3] = big.data[i]!; // black ink, alpha = coverage
    const gray = rgbaToGray(rgba, width, height);
    const { pixels } = preprocessDrawing({ data: gray, width, height });
    expect(meanAbsDiff(pixels, expected(0))).toBeLessThan(0.03);
  });
});
