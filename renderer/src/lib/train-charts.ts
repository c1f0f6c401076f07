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
