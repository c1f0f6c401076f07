// MNIST test error rates from LeCun, Bottou, Bengio & Haffner (1998), Fig. 9 / Table:
// the classifiers the Evaluate view ranks the student's model against, and the lab's own
// measured error beside each row it can train.
import type { MessageKey } from '../../../common/i18n/index.js';
import type { ModelSummary } from '../../../common/contract.js';

export interface PaperResult {
  name: string;
  /** The row's name in the user's language (the student's own row has none: its name is already worded). */
  key?: MessageKey;
  /** Test error in percent. */
  error: number;
  /** The lab's variant that trains this row (LeCun et al. 1998, Section III.C); none = paper only. */
  variant?: string;
}

export const PAPER_RESULTS: readonly PaperResult[] = [
  { name: 'Linear classifier', key: 'paper.linear', error: 12.0, variant: 'linear' },
  { name: 'k-NN, Euclidean (L2)', key: 'paper.knn', error: 5.0 },
  { name: '2-layer NN, 300 hidden units', key: 'paper.nn300', error: 4.7 },
  { name: 'LeNet-1', key: 'paper.lenet1', error: 1.7, variant: 'lenet1' },
  { name: 'LeNet-4', key: 'paper.lenet4', error: 1.1, variant: 'lenet4' },
  { name: 'LeNet-5', key: 'paper.lenet5', error: 0.95, variant: 'lenet5' },
  { name: 'LeNet-5, with distortions', key: 'paper.lenet5Distortions', error: 0.8 },
  { name: 'V-SVM, polynomial degree 9', key: 'paper.svm', error: 0.8 },
  { name: 'Boosted LeNet-4', key: 'paper.boostedLenet4', error: 0.7 },
];

export interface RankedResult extends PaperResult {
  mine: boolean;
}

/** The paper's rows and "your model", sorted from the highest error to the lowest. */
export function rankWithPaper(myError: number, myName = 'Your model'): RankedResult[] {
  const rows: RankedResult[] = PAPER_RESULTS.map((row) => ({ ...row, mine: false }));
  rows.push({ name: myName, error: myError, mine: true });
  // Stable sort: on a tie the paper's row stays above the student's.
  return rows.sort((a, b) => b.error - a.error || Number(a.mine) - Number(b.mine));
}

/** Where a measured number comes from: a model shipped with the app, or one of the user's saved runs. */
export type MeasuredSource = 'shipped' | 'saved';

export interface Measurement {
  /** Test error in percent. */
  error: number;
  source: MeasuredSource;
  model: ModelSummary;
}

/**
 * One row of the measured table. `paper-only`: the lab has no variant for it (or the variant is
 * missing in this build); `untrained`: the lab can train it but no model of it carries a test accuracy.
 */
export interface MeasuredRow extends PaperResult {
  status: 'measured' | 'untrained' | 'paper-only';
  measured: Measurement | null;
}

/** The best (lowest-error) model of a variant that has a test accuracy; a shipped model wins a tie. */
export function bestMeasurement(variant: string, models: readonly ModelSummary[]): Measurement | null {
  let best: Measurement | null = null;
  for (const model of models) {
    if (model.variant !== variant || model.testAccuracy === null || !Number.isFinite(model.testAccuracy)) continue;
    const error = (1 - model.testAccuracy) * 100;
    const source: MeasuredSource = model.builtin ? 'shipped' : 'saved';
    if (!best || error < best.error || (error === best.error && source === 'shipped' && best.source === 'saved')) {
      best = { error, source, model };
    }
  }
  return best;
}

/** The paper's table with the lab's measured error beside each row whose variant exists at run time. */
export function measurePaperTable(
  models: readonly ModelSummary[],
  variantExists: (variant: string) => boolean,
  rows: readonly PaperResult[] = PAPER_RESULTS,
): MeasuredRow[] {
  return rows.map((row) => {
    if (!row.variant || !variantExists(row.variant)) return { ...row, status: 'paper-only', measured: null };
    const measured = bestMeasurement(row.variant, models);
    return { ...row, status: measured ? 'measured' : 'untrained', measured };
  });
}
