// Colour maps for weights and activations.
// Diverging (RdBu-like): negative → blue, zero → pure white, positive → red, on a
// symmetric scale so equal magnitudes get equal saturation whatever their sign.
// Positive: the red half alone, for non-negative layers (ReLU); zero is still white,
// so a student reads every map with the same legend.

export type Rgb = readonly [number, number, number];

/** White → red ramp (ColorBrewer RdBu, red half, without its near-black end). */
const RED_RAMP: readonly Rgb[] = [
  [255, 255, 255],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
];
/** White → blue ramp (ColorBrewer RdBu, blue half). */
const BLUE_RAMP: readonly Rgb[] = [
  [255, 255, 255],
  [209, 229, 240],
  [146, 197, 222],
  [67, 147, 195],
  [33, 102, 172],
];

export const ZERO_COLOR: Rgb = [255, 255, 255];

export type ColorMode = 'diverging' | 'positive';

function rampAt(ramp: readonly Rgb[], t: number): Rgb {
  // t in [0, 1]; piecewise-linear between equally spaced stops.
  const scaled = t * (ramp.length - 1);
  const lower = Math.min(Math.floor(scaled), ramp.length - 2);
  const frac = scaled - lower;
  const a = ramp[lower]!;
  const b = ramp[lower + 1]!;
  return [
    Math.round(a[0] + (b[0] - a[0]) * frac),
    Math.round(a[1] + (b[1] - a[1]) * frac),
    Math.round(a[2] + (b[2] - a[2]) * frac),
  ];
}

/**
 * Colour of `value` on a symmetric scale [-scale, +scale]. Values beyond the scale
 * saturate; NaN shows as mid grey so a broken tensor is visible rather than white.
 */
export function divergingColor(value: number, scale: number): Rgb {
  if (Number.isNaN(value)) return [128, 128, 128];
  const safeScale = scale > 0 && Number.isFinite(scale) ? scale : 1;
  const t = Math.max(-1, Math.min(1, value / safeScale));
  if (t === 0) return ZERO_COLOR;
  return t > 0 ? rampAt(RED_RAMP, t) : rampAt(BLUE_RAMP, -t);
}

/** Colour for non-negative data (negative inputs clamp to white). */
export function positiveColor(value: number, scale: number): Rgb {
  if (Number.isNaN(value)) return [128, 128, 128];
  return divergingColor(Math.max(0, value), scale);
}

export function colorFor(value: number, scale: number, mode: ColorMode): Rgb {
  return mode === 'positive' ? positiveColor(value, scale) : divergingColor(value, scale);
}

/**
 * The largest |value| over `data[start..end)`, the half-width of a symmetric scale.
 * Returns 1 for an all-zero (or empty) range, so dividing by it is always safe and
 * zeros still map to white. Non-finite values are ignored.
 */
export function symmetricScale(data: ArrayLike<number>, start = 0, end = data.length): number {
  let max = 0;
  for (let i = start; i < end; i++) {
    const v = Math.abs(data[i]!);
    if (v > max && Number.isFinite(v)) max = v;
  }
  return max > 0 ? max : 1;
}

/** Largest |value| over several arrays (e.g. every kernel of a layer: the shared scale). */
export function sharedScale(slices: readonly ArrayLike<number>[]): number {
  let max = 0;
  for (const slice of slices) {
    for (let i = 0; i < slice.length; i++) {
      const v = Math.abs(slice[i]!);
      if (v > max && Number.isFinite(v)) max = v;
    }
  }
  return max > 0 ? max : 1;
}

export function rgbCss([r, g, b]: Rgb): string {
  return `rgb(${r} ${g} ${b})`;
}

/** A CSS linear-gradient for a legend bar, left = -scale (or 0 for 'positive'), right = +scale. */
export function legendGradient(mode: ColorMode, steps = 16): string {
  const stops: string[] = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const value = mode === 'positive' ? t : t * 2 - 1;
    stops.push(`${rgbCss(colorFor(value, 1, mode))} ${(t * 100).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** Relative luminance (0..1), to choose black or white text on top of a colour. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/**
 * True when white text reads better than black on `background`. Below a relative luminance of 0.179 white
 * wins; there both black and white reach at least 4.58:1, so every cell's number meets WCAG AA (4.5:1).
 */
export function whiteTextOn(background: Rgb): boolean {
  return luminance(background) < WHITE_TEXT_BELOW;
}
export const WHITE_TEXT_BELOW = 0.179;

// ---------------------------------------------------------------- numbers on legends and read-outs

const MINUS = '\u2212';

/** A weight or activation for read-outs and number grids (columns line up): fixed decimals, a true minus sign, tiny values in e-notation. */
export function formatFixed(value: number, decimals = 3): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : `${MINUS}∞`;
  const magnitude = Math.abs(value);
  let text: string;
  if (magnitude !== 0 && magnitude < 0.5 * 10 ** -decimals) text = magnitude.toExponential(1);
  else if (magnitude >= 1e4) text = magnitude.toExponential(2);
  else text = magnitude.toFixed(decimals);
  // A value that rounds to zero shows without a sign.
  return value < 0 && !/^0\.?0*$/.test(text) ? `${MINUS}${text}` : text;
}
