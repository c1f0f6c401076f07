// MNIST test error rates from LeCun, Bottou, Bengio & Haffner (1998), Fig. 9 / Table:
// the classifiers the Evaluate view ranks the student's model against.
export interface PaperResult {
  name: string;
  /** Test error in percent. */
  error: number;
  note?: string;
}

export const PAPER_RESULTS: readonly PaperResult[] = [
  { name: 'Linear classifier', error: 12.0 },
  { name: 'k-NN, Euclidean (L2)', error: 5.0 },
  { name: '2-layer NN, 300 hidden units', error: 4.7 },
  { name: 'LeNet-1', error: 1.7 },
  { name: 'LeNet-4', error: 1.1 },
  { name: 'LeNet-5', error: 0.95 },
  { name: 'LeNet-5, with distortions', error: 0.8 },
  { name: 'V-SVM, polynomial degree 9', error: 0.8 },
  { name: 'Boosted LeNet-4', error: 0.7 },
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
