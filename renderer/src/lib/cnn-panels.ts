// The "What CNNs solve" panels without a DOM: a digit swept through shifts, angles or sizes and classified at
// each, where the prediction breaks, and the train/test accuracy curves of the overfitting runs.
import type { ChartSeries } from './train-charts.js';
import type { Translate } from './conv-lab.js';

/** `from`…`to` in steps of `step` (both ends included, rounded so 0.1 steps stay exact). */
export function sweepValues(from: number, to: number, step: number): number[] {
  if (!(step > 0) || to < from) return [];
  const count = Math.floor((to - from) / step + 1e-9) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((from + i * step) * 1e6) / 1e6);
}

export interface SweepPoint {
  /** The shift (px), angle (°) or scale. */
  x: number;
  /** The digit the model predicts. */
  digit: number;
  /** Probability of the true digit. */
  confidence: number;
}

/** Classifies the digit transformed by each value; `predict` gives the probabilities of ten digits (null without a model). */
export function sweep(
  values: readonly number[],
  transform: (value: number) => Float32Array,
  predict: (pixels: Float32Array) => { digit: number; probabilities: readonly number[] } | null,
  label: number,
): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const x of values) {
    const p = predict(transform(x));
    if (!p) return [];
    points.push({ x, digit: p.digit, confidence: p.probabilities[label] ?? 0 });
  }
  return points;
}

export interface Breaks {
  /** The value nearest `neutral` below it where the prediction is no longer the true digit, or null if it holds. */
  below: number | null;
  above: number | null;
}

/** Where the prediction first breaks on each side of the untouched digit (shift 0, angle 0, scale 1). */
export function breaks(points: readonly SweepPoint[], label: number, neutral: number): Breaks {
  const wrong = points.filter((p) => p.digit !== label);
  const below = wrong.filter((p) => p.x < neutral).reduce<number | null>((best, p) => (best === null || p.x > best ? p.x : best), null);
  const above = wrong.filter((p) => p.x > neutral).reduce<number | null>((best, p) => (best === null || p.x < best ? p.x : best), null);
  return { below, above };
}

/** Confidence in the true digit (%) as a line, and the wrong predictions as markers at their confidence. */
export function sweepSeries(points: readonly SweepPoint[], label: number, t: Translate): ChartSeries[] {
  return [
    { label: t('cnn.chart.confidence', { digit: label }), color: 0, style: 'line', points: points.map((p) => ({ x: p.x, y: p.confidence * 100 })) },
    { label: t('cnn.chart.wrong'), color: 1, style: 'points', points: points.filter((p) => p.digit !== label).map((p) => ({ x: p.x, y: p.confidence * 100 })) },
  ];
}

/** Numbered predictions for the row under the chart: the value and the digit predicted there. */
export function predictionRow(points: readonly SweepPoint[], label: number): { x: number; digit: number; wrong: boolean }[] {
  return points.map((p) => ({ x: p.x, digit: p.digit, wrong: p.digit !== label }));
}

export interface OverfitRun {
  runId: string;
  /** Training images. */
  trainCount: number;
  epochs: readonly { epoch: number; trainAccuracy: number; testAccuracy: number }[];
}

/** Train and test accuracy (%) per epoch for each run: solid train, dotted test, one colour pair per run. */
export function overfitSeries(runs: readonly OverfitRun[], t: Translate): ChartSeries[] {
  return runs.flatMap((run, i) => [
    { label: t('cnn.overfit.trainSeries', { count: run.trainCount }), color: 2 * i, style: 'line' as const, points: run.epochs.map((e) => ({ x: e.epoch, y: e.trainAccuracy * 100 })) },
    { label: t('cnn.overfit.testSeries', { count: run.trainCount }), color: 2 * i + 1, style: 'points' as const, points: run.epochs.map((e) => ({ x: e.epoch, y: e.testAccuracy * 100 })) },
  ]);
}

/** Train minus test accuracy at a run's last epoch (the gap that overfitting opens); null before its first epoch. */
export function accuracyGap(run: OverfitRun): number | null {
  const last = run.epochs.at(-1);
  return last ? last.trainAccuracy - last.testAccuracy : null;
}

/** Records a run's epochs: replaces the run with the same id, keeps one run per training-set size (the newest). */
export function recordRun(runs: readonly OverfitRun[], run: OverfitRun): OverfitRun[] {
  const others = runs.filter((r) => r.runId !== run.runId && r.trainCount !== run.trainCount);
  return [...others, run].sort((a, b) => a.trainCount - b.trainCount);
}
