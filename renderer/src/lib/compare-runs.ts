// Compare runs: the current run and up to three earlier ones overlaid on the loss, accuracy and gradient
// charts. Runs differ in batch size and length, so every series is placed on one comparable x axis, the
// epoch (batch b of epoch e sits at e − 1 + b / batches per epoch). Each run has its own colour AND dash
// AND marker, so the lines stay apart in greyscale on a projector. Pure: tested without a chart.
import type { ModelHistory, ModelSummary } from '../../../common/contract.js';
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';
import type { VariantName } from '../../../common/protocol.js';
import type { ChartPoint, ChartSeries } from './train-charts.js';
import { smoothAlongSteps, smoothingWindow, stepsPerPoint } from './smoothing.js';
import { variantTitle } from './variant-text.js';

/** At most this many earlier runs besides the current one. */
export const MAX_COMPARED = 3;
/** Per-batch series are thinned to at most this many points a run (four runs stay light to draw). */
export const MAX_POINTS_PER_RUN = 400;

export interface RunPoint { step: number; epoch: number; batch: number }
export interface RunHistory {
  /** 'current', 'saved:<dir>' or 'session:<runId>'. */
  id: string;
  /** The model's name ('' for a run not named yet). */
  name: string;
  variant: VariantName;
  /** Per batch (NaN where a value was not finite). */
  batches: readonly (RunPoint & { loss: number; accuracy: number })[];
  /** Per finished epoch. */
  epochs: readonly { epoch: number; trainLoss: number; testLoss: number; testAccuracy: number }[];
  gradientLayers: readonly string[];
  gradients: readonly (RunPoint & { norms: readonly number[] })[];
  /** A run of this session: when it finished. */
  finishedAt?: Date;
}

const nanIfNull = (v: number | null): number => v ?? Number.NaN;

/** A saved model's history (nulls for NaN, as JSON carries them) as a run to compare. */
export function fromModelHistory(id: string, h: ModelHistory): RunHistory {
  return {
    id, name: h.name, variant: h.variant,
    batches: h.batches.map((b) => ({ step: b.step, epoch: b.epoch, batch: b.batch, loss: nanIfNull(b.loss), accuracy: nanIfNull(b.accuracy) })),
    epochs: h.epochs.map((e) => ({ epoch: e.epoch, trainLoss: nanIfNull(e.trainLoss), testLoss: nanIfNull(e.testLoss), testAccuracy: nanIfNull(e.testAccuracy) })),
    gradientLayers: h.gradientLayers,
    gradients: h.gradients.map((g) => ({ step: g.step, epoch: g.epoch, batch: g.batch, norms: g.norms.map(nanIfNull) })),
  };
}

/**
 * Batches per epoch, from the points themselves: steps count batches over the whole run, so any point past the
 * first epoch gives (step − batch) / (epoch − 1) exactly; a one-epoch run gives its largest batch number.
 */
export function batchesPerEpochOf(points: readonly RunPoint[]): number | null {
  let largest = 0;
  for (const p of points) {
    if (p.epoch > 1 && p.step > p.batch) return (p.step - p.batch) / (p.epoch - 1);
    if (p.batch > largest) largest = p.batch;
  }
  return largest > 0 ? largest : null;
}

/** Where a batch sits on the epoch axis: batch 30 of 60 in epoch 2 is 1.5. */
export const epochPosition = (p: RunPoint, batchesPerEpoch: number): number => p.epoch - 1 + p.batch / batchesPerEpoch;

/** Every k-th item so that at most `max` remain, always keeping the first and the last. */
export function downsample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  if (max < 2) return items.slice(-Math.max(0, max));
  const stride = (items.length - 1) / (max - 1);
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round(i * stride)]!);
  return out;
}

export interface RunStyle {
  /** Index into the theme's series colours. */
  color: number;
  /** Canvas line dash (empty: solid). */
  dash: number[];
  /** chart.js point style of the run's markers. */
  marker: 'circle' | 'rect' | 'triangle' | 'crossRot';
}

/** Run 0 is the current run: solid blue circles; then dashed, dotted and dash-dotted, each with its own marker. */
export const RUN_STYLES: readonly RunStyle[] = [
  { color: 0, dash: [], marker: 'circle' },
  { color: 1, dash: [10, 5], marker: 'rect' },
  { color: 2, dash: [2, 4], marker: 'triangle' },
  { color: 3, dash: [12, 4, 2, 4], marker: 'crossRot' },
];
export const runStyle = (index: number): RunStyle => RUN_STYLES[index % RUN_STYLES.length]!;

function series(label: string, index: number, points: ChartPoint[], markers: boolean): ChartSeries {
  const style = runStyle(index);
  return { label, color: style.color, style: markers ? 'points' : 'line', dash: style.dash, marker: style.marker, points };
}

/** The run's per-batch values smoothed along its steps, at their epoch positions, thinned. */
function smoothedBatches(run: RunHistory, value: (b: RunHistory['batches'][number]) => number): ChartPoint[] {
  const perEpoch = batchesPerEpochOf(run.batches);
  if (!perEpoch) return [];
  const steps = run.batches.map((b) => b.step);
  const window = smoothingWindow(steps.at(-1) ?? 0, stepsPerPoint(steps));
  const smooth = smoothAlongSteps(steps, run.batches.map(value), window);
  const points = run.batches
    .map((b, i) => ({ x: epochPosition(b, perEpoch), y: smooth[i]! }))
    .filter((p) => Number.isFinite(p.y));
  return downsample(points, MAX_POINTS_PER_RUN);
}

/** Loss: each run's smoothed per-batch train loss; a run saved with epochs only, its train loss at each epoch's end. */
export function compareLossSeries(runs: readonly RunHistory[], labelOf: (run: RunHistory) => string): ChartSeries[] {
  return runs.map((run, i) => {
    if (run.batches.length > 0) return series(labelOf(run), i, smoothedBatches(run, (b) => b.loss), false);
    return series(labelOf(run), i, run.epochs.filter((e) => Number.isFinite(e.trainLoss)).map((e) => ({ x: e.epoch, y: e.trainLoss })), true);
  });
}

/** Accuracy: each run's test accuracy (percent) at the end of every epoch, which every saved model keeps. */
export function compareAccuracySeries(runs: readonly RunHistory[], labelOf: (run: RunHistory) => string): ChartSeries[] {
  return runs.map((run, i) =>
    series(labelOf(run), i, run.epochs.filter((e) => Number.isFinite(e.testAccuracy)).map((e) => ({ x: e.epoch, y: e.testAccuracy * 100 })), true));
}

/**
 * Gradients: one line a run, the geometric mean of its layers' norms (the typical layer on a log axis).
 * Points where a layer is missing, zero or not finite are left out: the mean would not be of every layer.
 */
export function compareGradientSeries(runs: readonly RunHistory[], labelOf: (run: RunHistory) => string): ChartSeries[] {
  return runs.map((run, i) => {
    const perEpoch = batchesPerEpochOf(run.gradients);
    const layers = run.gradientLayers.length;
    const points: ChartPoint[] = [];
    if (perEpoch && layers > 0) {
      for (const g of run.gradients) {
        if (g.norms.length !== layers || !g.norms.every((n) => Number.isFinite(n) && n > 0)) continue;
        const logMean = g.norms.reduce((sum, n) => sum + Math.log(n), 0) / layers;
        points.push({ x: epochPosition(g, perEpoch), y: Math.exp(logMean) });
      }
    }
    return series(labelOf(run), i, downsample(points, MAX_POINTS_PER_RUN), false);
  });
}

/** A run's final train loss: its last epoch's, else the median of its last ten batches; NaN when it has neither. */
export function finalLoss(run: RunHistory): number {
  const last = run.epochs.at(-1);
  if (last && Number.isFinite(last.trainLoss)) return last.trainLoss;
  const recent = run.batches.slice(-10).map((b) => b.loss).filter(Number.isFinite).sort((a, b) => a - b);
  return recent.length ? recent[Math.floor(recent.length / 2)]! : Number.NaN;
}

/** A run's best test accuracy over its epochs (0..1); NaN without one. */
export function bestAccuracy(run: RunHistory): number {
  let best = Number.NaN;
  for (const e of run.epochs) if (Number.isFinite(e.testAccuracy) && !(e.testAccuracy <= best)) best = e.testAccuracy;
  return best;
}

export interface CompareVerdict {
  /** The run that ended with the lowest train loss, and that loss. */
  lowestLoss: { run: RunHistory; value: number } | null;
  /** The run with the highest test accuracy, and that accuracy. */
  bestAccuracy: { run: RunHistory; value: number } | null;
}

/** What the captions say: which run reached the lowest loss and the best accuracy (the first run wins a tie). */
export function compareVerdict(runs: readonly RunHistory[]): CompareVerdict {
  let lowest: CompareVerdict['lowestLoss'] = null;
  let best: CompareVerdict['bestAccuracy'] = null;
  for (const run of runs) {
    const loss = finalLoss(run);
    if (Number.isFinite(loss) && (!lowest || loss < lowest.value)) lowest = { run, value: loss };
    const accuracy = bestAccuracy(run);
    if (Number.isFinite(accuracy) && (!best || accuracy > best.value)) best = { run, value: accuracy };
  }
  return { lowestLoss: lowest, bestAccuracy: best };
}

/** Toggles `id` in the chosen runs, refusing a fourth (the current run is always shown besides them). */
export function toggleChosen(chosen: readonly string[], id: string): { chosen: string[]; refused: boolean } {
  if (chosen.includes(id)) return { chosen: chosen.filter((c) => c !== id), refused: false };
  if (chosen.length >= MAX_COMPARED) return { chosen: [...chosen], refused: true };
  return { chosen: [...chosen, id], refused: false };
}

type Translate = (id: MessageKey, values?: MessageValues) => string;

/** The legend's words for a run: model name and variant (the current run and unsaved runs say so). */
export function runLabel(run: RunHistory, t: Translate, variant: (name: string) => string, time: (at: Date) => string): string {
  const values = { name: run.name, variant: variant(run.variant) };
  if (run.id === 'current') return run.name ? t('compare.current', values) : t('compare.currentUnnamed', values);
  if (!run.name) return t('compare.sessionRun', { variant: values.variant, time: run.finishedAt ? time(run.finishedAt) : '' });
  return t('compare.run', values);
}

/** "14:05" in the user's language: when a session run finished. */
export const clockTime = (at: Date, locale: string): string => at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });

/** runLabel with the variants' titles and the clock of `locale`: what the legend, captions and picker call a run. */
export const runLabeller = (t: Translate, locale: string) => (run: RunHistory): string =>
  runLabel(run, t, (name) => variantTitle(name, t as (id: MessageKey) => string), (at) => clockTime(at, locale));

export interface CompareCandidate {
  id: string;
  /** The model's name; '' for a session run never saved. */
  name: string;
  variant: VariantName;
  /** Best test accuracy known (0..1), or null. */
  testAccuracy: number | null;
  builtin: boolean;
  /** A session run: when it finished. */
  finishedAt?: Date;
}

/** A run finished earlier in this page; savedDir once it was saved under a name. */
export interface SessionRun { runId: string; run: RunHistory; savedDir?: string }

/**
 * The runs the user may overlay: this session's finished runs, newest first, then the saved models. The
 * current run is never offered (it is always shown), nor a saved model that is a session run listed already.
 */
export function compareCandidates(session: readonly SessionRun[], saved: readonly ModelSummary[], current: { runId: string | null; dir?: string }): CompareCandidate[] {
  const listed = new Set<string>();
  const runs: CompareCandidate[] = [];
  for (const s of session) {
    if (s.savedDir) listed.add(s.savedDir);
    if (s.runId === current.runId) continue;
    const best = bestAccuracy(s.run);
    runs.push({ id: s.run.id, name: s.run.name, variant: s.run.variant, testAccuracy: Number.isFinite(best) ? best : null, builtin: false, finishedAt: s.run.finishedAt });
  }
  const models = saved
    .filter((m) => !listed.has(m.dir) && m.dir !== current.dir)
    .map((m): CompareCandidate => ({ id: `saved:${m.dir}`, name: m.name, variant: m.variant, testAccuracy: m.testAccuracy, builtin: m.builtin }));
  return [...runs.reverse(), ...models];
}
