// The app's diverging colour map (ColorBrewer RdBu): negative blue, zero white, positive red, on a symmetric
// scale. Isomorphic, so the CLI's PNG sheets match the renderer's maps (renderer/src/lib/colormap.ts holds the
// same ramps; it can import these at the next pass over the renderer).

export type Rgb = readonly [number, number, number];

const RED_RAMP: readonly Rgb[] = [[255, 255, 255], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43]];
const BLUE_RAMP: readonly Rgb[] = [[255, 255, 255], [209, 229, 240], [146, 197, 222], [67, 147, 195], [33, 102, 172]];

/** Colour of `value` on [−scale, +scale]: white at zero, saturating beyond the scale, grey for NaN. */
export function divergingRgb(value: number, scale: number): Rgb {
  if (Number.isNaN(value)) return [128, 128, 128];
  const t = Math.max(-1, Math.min(1, value / (scale > 0 && Number.isFinite(scale) ? scale : 1)));
  const ramp = t >= 0 ? RED_RAMP : BLUE_RAMP;
  const scaled = Math.abs(t) * (ramp.length - 1);
  const lower = Math.min(Math.floor(scaled), ramp.length - 2);
  const a = ramp[lower]!;
  const b = ramp[lower + 1]!;
  const frac = scaled - lower;
  return [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * frac)) as unknown as Rgb;
}
