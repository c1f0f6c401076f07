// The Evaluate view's confusion-matrix maths: row totals, cell shading and which
// test images fall in a cell. Pure, over the evaluation result.
import type { EvalResult } from '../../../common/contract.js';
import type { LabIntl } from '../../../common/i18n/index.js';

export type ConfusionSource = Pick<EvalResult, 'confusion' | 'mistakes' | 'predictions'>;

/** Test images per true digit. */
export function rowTotals(confusion: readonly (readonly number[])[]): number[] {
  return confusion.map((row) => row.reduce((sum, count) => sum + count, 0));
}

/** The largest count off the diagonal (at least 1, so shares stay finite). */
export function maxOffDiagonal(confusion: readonly (readonly number[])[]): number {
  return Math.max(1, ...confusion.flatMap((row, r) => row.filter((_, c) => c !== r)));
}

/**
 * A cell's colour: the diagonal in green by the row's share read right (15–85%), mistakes in red by the square
 * root of their count against the largest mistake (12–90%), so small confusions still show. Empty cells stay plain.
 */
export function cellShade(row: number, col: number, count: number, rowTotal: number, maxOff: number):
  { tone: 'success' | 'danger'; percent: number } | null {
  if (count === 0) return null;
  if (row === col) return { tone: 'success', percent: Math.round(15 + 70 * (count / Math.max(1, rowTotal))) };
  return { tone: 'danger', percent: Math.round(12 + 78 * Math.sqrt(count / maxOff)) };
}

/**
 * The CSS of a shade ('' for none): the colour in `--shade` and as the background. The count on it is black or
 * white, whichever reaches AA on that colour in either theme (`.cell.shaded` in ConfusionMatrix.svelte).
 */
export function shadeStyle(shade: ReturnType<typeof cellShade>): string {
  return shade ? `--shade: color-mix(in srgb, var(--${shade.tone}) ${shade.percent}%, var(--surface)); background: var(--shade);` : '';
}

/** Test-image indices whose true label is `row` and predicted class is `col`, in index order for the diagonal. */
export function indicesInCell(result: ConfusionSource, row: number, col: number): number[] {
  if (row !== col) return result.mistakes.filter((m) => m.label === row && m.predicted === col).map((m) => m.index);
  const mistaken = new Set(result.mistakes.map((m) => m.index));
  const out: number[] = [];
  result.predictions.forEach((predicted, index) => {
    if (predicted === row && !mistaken.has(index)) out.push(index);
  });
  return out;
}

/** A test error in percent as the paper prints it: two decimals under 1%, one from 1% up. */
export function formatErrorPercent(error: number, lab: LabIntl): string {
  return lab.percent(error / 100, error < 1 ? 2 : 1);
}
