import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  colorFor, divergingColor, formatFixed, legendGradient, luminance, positiveColor, sharedScale, symmetricScale, whiteTextOn, ZERO_COLOR,
} from '../../renderer/src/lib/colormap.js';

const isReddish = ([r, , b]: readonly number[]) => r! > b!;
const isBluish = ([r, , b]: readonly number[]) => b! > r!;

describe('divergingColor', () => {
  it('maps zero to pure white whatever the scale', () => {
    for (const scale of [1e-6, 0.01, 1, 250]) expect(divergingColor(0, scale)).toEqual([255, 255, 255]);
    expect(divergingColor(-0, 3)).toEqual(ZERO_COLOR);
  });

  it('maps the sign to the hue: positive red, negative blue', () => {
    fc.assert(fc.property(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (v, scale) => {
      if (v / scale < 0.02) return; // colours this close to zero round to white
      expect(isReddish(divergingColor(v, scale))).toBe(true);
      expect(isBluish(divergingColor(-v, scale))).toBe(true);
    }));
  });

  it('is symmetric: equal magnitudes get equal saturation on either side', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 2, noNaN: true }), (t) => {
      const pos = divergingColor(t, 1);
      const neg = divergingColor(-t, 1);
      // distance from white is the same on both sides, to within the ramp's rounding
      const fade = (c: readonly number[]) => 765 - c[0]! - c[1]! - c[2]!;
      // (near white, one unit of rounding on one channel is all that differs: t ≈ 0.002 gives fades 1 and 0)
      expect(Math.abs(fade(pos) - fade(neg))).toBeLessThanOrEqual(3 + 0.3 * Math.max(fade(pos), fade(neg)));
    }));
  });

  it('darkens monotonically with magnitude and saturates beyond the scale', () => {
    let previous = luminance(divergingColor(0, 1));
    for (let t = 0.05; t <= 1.0001; t += 0.05) {
      const l = luminance(divergingColor(t, 1));
      expect(l).toBeLessThan(previous);
      previous = l;
    }
    expect(divergingColor(5, 1)).toEqual(divergingColor(1, 1));
    expect(divergingColor(-5, 1)).toEqual(divergingColor(-1, 1));
    expect(divergingColor(2, 4)).toEqual(divergingColor(0.5, 1));
  });

  it('falls back to a unit scale for zero or broken scales and shows NaN as grey', () => {
    expect(divergingColor(0.5, 0)).toEqual(divergingColor(0.5, 1));
    expect(divergingColor(0.5, Number.NaN)).toEqual(divergingColor(0.5, 1));
    expect(divergingColor(Number.NaN, 1)).toEqual([128, 128, 128]);
  });
});

describe('positiveColor', () => {
  it('is white at zero and for negatives, red for positives', () => {
    expect(positiveColor(0, 1)).toEqual([255, 255, 255]);
    expect(positiveColor(-3, 1)).toEqual([255, 255, 255]);
    expect(isReddish(positiveColor(0.7, 1))).toBe(true);
    expect(colorFor(0.7, 1, 'positive')).toEqual(positiveColor(0.7, 1));
    expect(colorFor(-0.7, 1, 'diverging')).toEqual(divergingColor(-0.7, 1));
  });
});

describe('symmetric scales', () => {
  it('takes the largest magnitude, ignoring the sign', () => {
    expect(symmetricScale([0.1, -0.8, 0.5])).toBeCloseTo(0.8);
    expect(symmetricScale(new Float32Array([3, -1]))).toBe(3);
  });

  it('is 1 for an all-zero or empty range so zeros stay white', () => {
    expect(symmetricScale([0, 0, 0])).toBe(1);
    expect(symmetricScale([])).toBe(1);
  });

  it('honours a sub-range and skips non-finite values', () => {
    expect(symmetricScale([9, 0.2, -0.4, 9], 1, 3)).toBeCloseTo(0.4);
    expect(symmetricScale([Number.POSITIVE_INFINITY, -0.5, Number.NaN])).toBe(0.5);
  });

  it('shares one scale over every slice of a layer', () => {
    expect(sharedScale([[0.1, -0.2], [0.05], [-0.9, 0.3]])).toBeCloseTo(0.9);
    expect(sharedScale([[0, 0], [0]])).toBe(1);
    fc.assert(fc.property(fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1 }), { minLength: 1 }), (slices) => {
      const largest = Math.max(...slices.flat().map(Math.abs));
      expect(sharedScale(slices)).toBe(largest > 0 ? largest : 1);
    }));
  });
});

describe('legendGradient', () => {
  it('runs blue → white → red for the diverging map and white → red for the positive one', () => {
    const diverging = legendGradient('diverging', 4);
    expect(diverging.startsWith('linear-gradient(to right, rgb(33 102 172) 0.0%')).toBe(true);
    expect(diverging).toContain('rgb(255 255 255) 50.0%');
    expect(diverging.endsWith('rgb(178 24 43) 100.0%)')).toBe(true);
    const positive = legendGradient('positive', 4);
    expect(positive.startsWith('linear-gradient(to right, rgb(255 255 255) 0.0%')).toBe(true);
  });
});

describe('formatFixed', () => {
  it('writes read-out numbers with fixed decimals, a true minus sign and no negative zero', () => {
    expect(formatFixed(0.05234)).toBe('0.052');
    expect(formatFixed(-1.5)).toBe('\u22121.500');
    expect(formatFixed(-0.0004)).toBe('\u22124.0e-4');
    expect(formatFixed(-0.0000001)).toBe('\u22121.0e-7');
    expect(formatFixed(-0.00049, 2)).toBe('\u22124.9e-4');
    expect(formatFixed(0)).toBe('0.000');
    expect(formatFixed(12.3456, 2)).toBe('12.35');
    expect(formatFixed(Number.NaN)).toBe('NaN');
  });
});

describe('whiteTextOn: numbers on coloured cells meet WCAG AA', () => {
  const contrast = (a: number, b: number) => (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  it('picks the text colour with at least 4.5:1 on every grey and every colormap colour', () => {
    const backgrounds: [number, number, number][] = [];
    for (let v = 0; v <= 255; v++) backgrounds.push([v, v, v]);
    for (let i = 0; i <= 200; i++) backgrounds.push(divergingColor(-1 + i / 100, 1));
    for (const rgb of backgrounds) {
      const l = luminance(rgb);
      const ratio = whiteTextOn(rgb) ? contrast(1, l) : contrast(0, l);
      expect(ratio, `rgb(${rgb.join(',')})`).toBeGreaterThanOrEqual(4.5);
    }
  });
  it('switches at a luminance of 0.179: white on the darker side of the boundary, black on the lighter', () => {
    expect(whiteTextOn([0, 0, 0])).toBe(true);
    expect(whiteTextOn([255, 255, 255])).toBe(false);
    expect(luminance([117, 117, 117]) < 0.179).toBe(whiteTextOn([117, 117, 117]));
    expect(luminance([119, 119, 119]) < 0.179).toBe(whiteTextOn([119, 119, 119]));
  });
});
