// Shift, rotate and scale of a 28×28 digit, against index arithmetic and moments computed here.
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/dataset.js';
import { rotateDigit, scaleDigit, shiftDigit, transformDigit } from '../../common/convolution/index.js';

const test = loadDataset({ kind: 'mnist' }).test;
const digit = (index: number): Float32Array => Float32Array.from(test.images.subarray(index * 784, (index + 1) * 784), (v) => v / 255);

const mass = (p: Float32Array) => p.reduce((a, b) => a + b, 0);
function centre(p: Float32Array): [number, number] {
  let x = 0, y = 0;
  p.forEach((v, i) => { x += v * (i % 28); y += v * Math.floor(i / 28); });
  return [x / mass(p), y / mass(p)];
}
/** Mean squared distance of the ink from the frame's centre (13.5, 13.5). */
function spread(p: Float32Array): number {
  let s = 0;
  p.forEach((v, i) => { s += v * ((i % 28 - 13.5) ** 2 + (Math.floor(i / 28) - 13.5) ** 2); });
  return s / mass(p);
}
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('digit transforms', () => {
  const seven = digit(0);

  it('shift 0, rotate 0 and scale 1 give the digit back exactly', () => {
    expect(shiftDigit(seven, 0, 0)).toEqual(seven);
    expect(rotateDigit(seven, 0)).toEqual(seven);
    expect(scaleDigit(seven, 1)).toEqual(seven);
    expect(transformDigit(seven, {})).toEqual(seven);
  });

  it.each([[3, 0], [-4, 2], [1, -3], [-2, -2]])('a whole-pixel shift by (%i, %i) moves every pixel, keeping the ink that stays in the frame', (dx, dy) => {
    const moved = shiftDigit(seven, dx, dy);
    let kept = 0;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      const sx = x - dx, sy = y - dy;
      const inside = sx >= 0 && sy >= 0 && sx < 28 && sy < 28;
      expect(moved[y * 28 + x]).toBe(inside ? seven[sy * 28 + sx] : 0);
      if (inside) kept += seven[sy * 28 + sx]!;
    }
    // All the ink that stays in the frame, no more, no less.
    expect(mass(moved)).toBeCloseTo(kept, 4);
  });

  it('a half-pixel shift keeps the mass and moves its centre by half a pixel', () => {
    const moved = shiftDigit(seven, 0.5, -0.5);
    expect(mass(moved)).toBeCloseTo(mass(seven), 3);
    const [x0, y0] = centre(seven);
    const [x1, y1] = centre(moved);
    expect(x1 - x0).toBeCloseTo(0.5, 4);
    expect(y1 - y0).toBeCloseTo(-0.5, 4);
  });

  it('the extreme shift of 6 pixels pushes ink out of the frame (it is lost, not wrapped)', () => {
    const moved = shiftDigit(seven, 6, 0);
    expect(Array.from({ length: 6 }, (_, x) => moved.filter((_, i) => i % 28 === x).every((v) => v === 0)).every(Boolean)).toBe(true);
    expect(mass(moved)).toBeLessThanOrEqual(mass(seven) + 1e-4);
  });

  it('rotating by 90° four times gives the digit back; once, a pixel right of centre goes to the top', () => {
    let turned = seven;
    for (let i = 0; i < 4; i++) turned = rotateDigit(turned, 90);
    expect(maxDiff(turned, seven)).toBeLessThan(1e-6);
    const dot = new Float32Array(784);
    dot[14 * 28 + 20] = 1; // row 14, column 20: right of the centre (13.5, 13.5)
    const up = rotateDigit(dot, 90);
    expect(up.indexOf(1)).toBe(7 * 28 + 14); // counter-clockwise on screen: row 7, column 14
    expect(maxDiff(rotateDigit(seven, -90), rotateDigit(rotateDigit(rotateDigit(seven, 90), 90), 90))).toBeLessThan(1e-6);
  });

  it('rotating by 180° flips both axes; 45° keeps the spread about the centre', () => {
    const flipped = rotateDigit(seven, 180);
    for (let i = 0; i < 784; i++) expect(flipped[i]).toBeCloseTo(seven[783 - i]!, 6);
    expect(spread(rotateDigit(seven, 45)) / spread(seven)).toBeCloseTo(1, 1);
  });

  it.each([0.5, 0.75])('scaling the digit by %f scales its spread about the centre by the square', (s) => {
    const scaled = scaleDigit(seven, s);
    expect(spread(scaled) / spread(seven)).toBeCloseTo(s * s, 1);
    // Area grows with s², so the ink does too (bilinear sampling spreads it), within a few percent.
    expect(mass(scaled) / mass(seven)).toBeGreaterThan(s * s * 0.9);
    expect(mass(scaled) / mass(seven)).toBeLessThan(s * s * 1.1);
  });

  it.each([1.25, 1.5])('enlarging by %f scales a centred blob\'s spread by the square (a digit\'s corners would leave the frame)', (s) => {
    const blob = Float32Array.from({ length: 784 }, (_, i) => Math.exp(-((i % 28 - 13.5) ** 2 + (Math.floor(i / 28) - 13.5) ** 2) / 18));
    const scaled = scaleDigit(blob, s);
    expect(spread(scaled) / spread(blob)).toBeCloseTo(s * s, 1);
    expect(centre(scaled)[0]).toBeCloseTo(13.5, 4);
    expect(spread(scaleDigit(seven, s))).toBeGreaterThan(spread(seven));
  });

  it('refuses a wrong-sized image and a non-positive scale', () => {
    expect(() => shiftDigit(new Float32Array(10), 1)).toThrow(/784/);
    expect(() => scaleDigit(seven, 0)).toThrow(/scale > 0/);
    expect(() => rotateDigit(seven, Number.NaN)).toThrow(/finite/);
  });
});
