// MNIST test error rates from LeCun, Bottou, Bengio & Haffner (1998), Fig. 9 / Table:
// the classifiers the Evaluate view ranks the student's model against.
import type { MessageKey } from '../../../common/i18n/index.js';

export interface PaperResult {
  name: string;
  /** The row's name in the user's language (the student's own row has none: its name is already worded). */
  key?: MessageKey;
  /** Test error in percent. */
  error: number;
  note?: string;
}

export const PAPER_RESULTS: readonly PaperResult[] = [
  { name: 'Linear classifier', key: 'paper.linear', error: 12.0 },
  { name: 'k-NN, Euclidean (L2)', key: 'paper.knn', error: 5.0 },
  { name: '2-layer NN, 300 hidden units', key: 'paper.nn300', error: 4.7 },
  { name: 'LeNet-1', key: 'paper.lenet1', error: 1.7 },
  { name: 'LeNet-4', key: 'paper.lenet4', error: 1.1 },
  { name: 'LeNet-5', key: 'paper.lenet5', error: 0.95 },
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
