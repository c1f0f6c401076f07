// The Train view's chart series and axis formats, built from the training store's
// histories (pure, so the mapping from events to curves is tested without a chart).
import type { LabIntl } from '../../../common/i18n/index.js';
import { formatValue } from './format.js';

export interface ChartPoint {
  x: number;
  y: number;
}
export interface ChartSeries {
  label: string;
  /** Index into the theme's series colours (0-based). */
  color: number;
  points: ChartPoint[];
  /** line: bold line; faint: thin translucent line (raw values); points: markers joined by a dashed line. */
  style: 'line' | 'faint' | 'points';
  /** Line dash (default: solid lines, dashed 'points'); compared runs each have their own. */
  dash?: number[];
  /** Marker shape of 'points' (default: circle). */
  marker?: 'circle' | 'rect' | 'triangle' | 'crossRot';
}

export interface HistoryLike {
  batches: readonly { step: number; loss: number; accuracy: number }[];
  epochs: readonly { step: number; testLoss: number; testAccuracy: number }[];
  smoothed: { loss: ArrayLike<number>; accuracy: ArrayLike<number> };
  gradients: readonly { step: number; norms: readonly number[] }[];
  gradientLayers: readonly string[];
}

/** Loss per step: every batch (faint), the smoothed train curve, and the test loss at each epoch's end. */
export function lossSeries(h: HistoryLike, lab: LabIntl): ChartSeries[] {
  return [
    { label: lab.t('chart.batch'), color: 7, style: 'faint', points: h.batches.map((b) => ({ x: b.step, y: b.loss })) },
    { label: lab.t('chart.trainSmoothed'), color: 0, style: 'line', points: h.batches.map((b, i) => ({ x: b.step, y: h.smoothed.loss[i]! })) },
    { label: lab.t('chart.testEpoch'), color: 1, style: 'points', points: h.epochs.map((e) => ({ x: e.step, y: e.testLoss })) },
  ];
}

/** The same three curves for accuracy, in percent. */
export function accuracySeries(h: HistoryLike, lab: LabIntl): ChartSeries[] {
  return [
    { label: lab.t('chart.batch'), color: 7, style: 'faint', points: h.batches.map((b) => ({ x: b.step, y: b.accuracy * 100 })) },
    { label: lab.t('chart.trainSmoothed'), color: 2, style: 'line', points: h.batches.map((b, i) => ({ x: b.step, y: h.smoothed.accuracy[i]! * 100 })) },
    { label: lab.t('chart.testEpoch'), color: 1, style: 'points', points: h.epochs.map((e) => ({ x: e.step, y: e.testAccuracy * 100 })) },
  ];
}

/** One line per layer; steps where a layer's norm is missing, zero or not finite are left out (a log axis cannot show them). */
export function gradientSeries(h: HistoryLike): ChartSeries[] {
  return h.gradientLayers.map((layer, i) => ({
    label: layer,
    color: i,
    style: 'line',
    points: h.gradients
      .filter((g) => Number.isFinite(g.norms[i]!) && g.norms[i]! > 0)
      .map((g) => ({ x: g.step, y: g.norms[i]! })),
  }));
}

/** 42% on the accuracy axis. */
export const formatPercentAxis = (value: number): string => `${Math.round(value)}%`;

/** A log axis labels its powers of ten only (1, 0.1, 0.001 …); other ticks stay blank. */
export function formatLogAxis(value: number): string {
  const exponent = Math.log10(value);
  return Math.abs(exponent - Math.round(exponent)) < 1e-6 ? formatValue(10 ** Math.round(exponent), 1) : '';
}

/** A loss with two significant digits. */
export const formatLoss = (value: number): string => formatValue(value, 2);

/** The loss axis spans at least one power of ten, the gradient axis at least two. */
export const LOSS_MIN_RATIO = 10;
export const GRADIENT_MIN_RATIO = 100;

/**
 * Log-axis bounds moved outward to the nearest 1, 2 or 5 × 10^k, so the axis's end ticks are round numbers
 * that sit on its other ticks: the seed run's flat loss once drew an end label "0.73" on top of "0.8".
 */
export function roundLogBounds({ min, max }: { min: number; max: number }): { min: number; max: number } {
  const ROUND = [1, 2, 5, 10];
  /** The nearest round value below (`down`) or above `v`, within a rounding error of `v` itself. */
  const snap = (v: number, down: boolean): number => {
    const decade = 10 ** Math.floor(Math.log10(v));
    const m = v / decade;
    const step = down ? ROUND.findLast((s) => s <= m * (1 + 1e-9)) : ROUND.find((s) => s >= m * (1 - 1e-9));
    return decade * step!;
  };
  return { min: snap(min, true), max: snap(max, false) };
}

/**
 * The y axis bounds for `values`, widened about their middle to at least `minSpan` (linear: max − min;
 * logarithmic: max / min), so a flat curve (the seed run's loss, 2.302585 throughout) draws as a flat line
 * rather than noise blown up to fill the chart. null when there is nothing finite (positive, on a log axis) to show.
 */
export function axisBounds(values: readonly number[], scale: 'linear' | 'logarithmic', minSpan: number): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (scale === 'logarithmic' && v <= 0)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return null;
  if (scale === 'logarithmic') {
    if (max / min >= minSpan) return { min, max };
    const middle = Math.sqrt(min * max);
    const half = Math.sqrt(minSpan);
    return { min: middle / half, max: middle * half };
  }
  if (max - min >= minSpan) return { min, max };
  const middle = (min + max) / 2;
  return { min: middle - minSpan / 2, max: middle + minSpan / 2 };
}

export type GradientVerdict =
  | { kind: 'none' }
  | { kind: 'allNearZero'; largest: number }
  | { kind: 'vanishing'; first: string; last: string; ratio: number }
  | { kind: 'healthy'; decades: number };

/** Below this norm a layer's weights barely move at the usual learning rates. */
export const NEAR_ZERO_NORM = 1e-3;
/** The first layer's norm this many times below the last layer's: a vanishing gradient. */
export const VANISHING_RATIO = 100;

/**
 * What the gradient chart shows for the run on screen, from each layer's latest norms (the median of its last
 * five records, so one odd batch does not decide): no data, every layer near zero, the first layer far below
 * the last (vanishing), or all within a few powers of ten.
 */
export function gradientVerdict(h: Pick<HistoryLike, 'gradients' | 'gradientLayers'>): GradientVerdict {
  const layers = h.gradientLayers.length;
  const recent = h.gradients.slice(-5);
  if (layers < 2 || recent.length === 0) return { kind: 'none' };
  const latest = h.gradientLayers.map((_, i) => {
    const norms = recent.map((g) => g.norms[i]!).filter((n) => Number.isFinite(n)).sort((a, b) => a - b);
    return norms.length === 0 ? NaN : norms[Math.floor(norms.length / 2)]!;
  });
  if (latest.some((n) => Number.isNaN(n))) return { kind: 'none' };
  const largest = Math.max(...latest);
  if (largest < NEAR_ZERO_NORM) return { kind: 'allNearZero', largest };
  const first = latest[0]!;
  const last = latest[layers - 1]!;
  if (first * VANISHING_RATIO <= last) {
    return { kind: 'vanishing', first: h.gradientLayers[0]!, last: h.gradientLayers[layers - 1]!, ratio: first > 0 ? last / first : Infinity };
  }
  const smallest = Math.min(...latest);
  return { kind: 'healthy', decades: smallest > 0 ? Math.round(Math.log10(largest / smallest)) : Infinity };
}
