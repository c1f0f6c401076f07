// Keyboard movement in a rows×cols grid of pixels (a feature map), as the ARIA grid pattern has it:
// arrows move one cell and stop at the edges, Home/End go to the row's ends, Ctrl+Home/Ctrl+End to the
// first and last cell, PageUp/PageDown move a page of rows. Also the plain number a screen reader reads.

export interface GridCell { row: number; col: number }

export interface GridKey {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
}

/** Rows that PageUp/PageDown move: a quarter of the map, at least one. */
export function pageRows(rows: number): number {
  return Math.max(1, Math.round(rows / 4));
}

/**
 * The cell a key moves to from `at` in a rows×cols grid, or null when the key is not a grid key
 * (so the caller lets it through). A key that would leave the grid keeps the cell where it is.
 */
export function moveInGrid(at: GridCell, event: GridKey, rows: number, cols: number): GridCell | null {
  if (rows < 1 || cols < 1) return null;
  const row = Math.min(rows - 1, Math.max(0, at.row));
  const col = Math.min(cols - 1, Math.max(0, at.col));
  const toCorner = event.ctrlKey === true || event.metaKey === true;
  const clampRow = (r: number) => Math.min(rows - 1, Math.max(0, r));
  const clampCol = (c: number) => Math.min(cols - 1, Math.max(0, c));
  switch (event.key) {
    case 'ArrowUp': return { row: clampRow(row - 1), col };
    case 'ArrowDown': return { row: clampRow(row + 1), col };
    case 'ArrowLeft': return { row, col: clampCol(col - 1) };
    case 'ArrowRight': return { row, col: clampCol(col + 1) };
    case 'Home': return toCorner ? { row: 0, col: 0 } : { row, col: 0 };
    case 'End': return toCorner ? { row: rows - 1, col: cols - 1 } : { row, col: cols - 1 };
    case 'PageUp': return { row: clampRow(row - pageRows(rows)), col };
    case 'PageDown': return { row: clampRow(row + pageRows(rows)), col };
    default: return null;
  }
}

const MINUS = '\u2212';

/**
 * A value as a person reads it aloud: fixed decimals, never an exponent (7.4e-9 reads "0.0000"), no
 * "−0", and "not a number" / infinities spelled by the caller's words.
 */
export function plainNumber(value: number, decimals: number, words: { nan: string; infinity: string }): string {
  if (Number.isNaN(value)) return words.nan;
  if (!Number.isFinite(value)) return value > 0 ? words.infinity : `${MINUS}${words.infinity}`;
  const text = Math.abs(value).toLocaleString('en-US', { useGrouping: false, minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return value < 0 && /[1-9]/.test(text) ? `${MINUS}${text}` : text;
}
