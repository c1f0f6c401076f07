// Training history and evaluation results as CSV, for spreadsheets. Fields are quoted as RFC 4180 says (when
// they hold a comma, a quote or a line break; quotes doubled); rows end in "\n", which every spreadsheet reads.
// A cell that starts with = + - @ (or a tab or carriage return) is prefixed with ' so a spreadsheet shows it
// as text and never runs it as a formula: layer and model names come from files a student may have edited.
import type { EpochRecord } from '../engine/training/trainer.js';
import type { RunRecord } from '../common/run-record.js';

const COLUMNS = ['epoch', 'trainLoss', 'trainAccuracy', 'testLoss', 'testAccuracy', 'seconds', 'imagesPerSecond', 'learningRate'] as const;

/** One CSV field: formula-safe, then quoted per RFC 4180 when it needs to be. */
export function csvCell(value: string | number): string {
  let text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity') : value;
  // Numbers are left as numbers: a negative number is data, not a formula.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

/** One row per epoch. */
export function historyToCsv(history: readonly EpochRecord[]): string {
  return toCsv(COLUMNS, history.map((record) => COLUMNS.map((column) => record[column])));
}

/**
 * One row per recorded batch, with the gradient norm of each layer where one was measured at that step
 * (gradients are measured less often than batches are reported: other rows leave those cells empty).
 */
export function batchesToCsv(run: RunRecord): string {
  const norms = new Map(run.gradients.map((g) => [g.step, g.norms]));
  const steps = [...new Set([...run.batches.map((b) => b.step), ...run.gradients.map((g) => g.step)])].sort((a, b) => a - b);
  const batches = new Map(run.batches.map((b) => [b.step, b]));
  const where = new Map([...run.gradients, ...run.batches].map((p) => [p.step, p]));
  const rows = steps.map((step) => {
    const b = batches.get(step);
    const g = norms.get(step);
    const at = where.get(step)!;
    return [step, at.epoch, at.batch, b ? b.loss : '', b ? b.accuracy : '', ...run.gradientLayers.map((_, i) => (g ? g[i]! : ''))];
  });
  return toCsv(['step', 'epoch', 'batch', 'loss', 'accuracy', ...run.gradientLayers.map((layer) => `gradientNorm ${layer}`)], rows);
}

/** The confusion matrix: one row per true label, one column per predicted label. */
export function confusionToCsv(confusion: readonly (readonly number[])[]): string {
  const classes = confusion.length;
  const header = ['true \\ predicted', ...Array.from({ length: classes }, (_, i) => String(i))];
  return toCsv(header, confusion.map((row, label) => [String(label), ...row]));
}

/** Every misclassified test image: its index in the test set, true label, predicted label and confidence. */
export function mistakesToCsv(mistakes: readonly { index: number; label: number; predicted: number; confidence: number }[]): string {
  return toCsv(['index', 'label', 'predicted', 'confidence'], mistakes.map((m) => [m.index, m.label, m.predicted, m.confidence]));
}
