// Feature-map pixels by keyboard: where each key moves in a grid, at the edges and corners, and the
// plain numbers a screen reader announces. Expected cells are written out by hand.
import { describe, expect, it } from 'vitest';
import { moveInGrid, pageRows, plainNumber } from '../../renderer/src/lib/grid-keys.js';

const WORDS = { nan: 'not a number', infinity: 'infinity' };

describe('moveInGrid in a 28×28 map', () => {
  const move = (row: number, col: number, key: string, ctrlKey = false) => moveInGrid({ row, col }, { key, ctrlKey }, 28, 28);

  it.each([
    ['ArrowUp', 10, 5, { row: 9, col: 5 }],
    ['ArrowDown', 10, 5, { row: 11, col: 5 }],
    ['ArrowLeft', 10, 5, { row: 10, col: 4 }],
    ['ArrowRight', 10, 5, { row: 10, col: 6 }],
    ['Home', 10, 5, { row: 10, col: 0 }],
    ['End', 10, 5, { row: 10, col: 27 }],
    ['PageUp', 10, 5, { row: 3, col: 5 }],
    ['PageDown', 10, 5, { row: 17, col: 5 }],
  ])('%s from (%i, %i)', (key, row, col, to) => {
    expect(move(row, col, key)).toEqual(to);
  });

  it('stops at every edge instead of wrapping', () => {
    expect(move(0, 5, 'ArrowUp')).toEqual({ row: 0, col: 5 });
    expect(move(27, 5, 'ArrowDown')).toEqual({ row: 27, col: 5 });
    expect(move(4, 0, 'ArrowLeft')).toEqual({ row: 4, col: 0 });
    expect(move(4, 27, 'ArrowRight')).toEqual({ row: 4, col: 27 });
    // One step inside each edge still moves.
    expect(move(1, 5, 'ArrowUp')).toEqual({ row: 0, col: 5 });
    expect(move(26, 5, 'ArrowDown')).toEqual({ row: 27, col: 5 });
    expect(move(4, 1, 'ArrowLeft')).toEqual({ row: 4, col: 0 });
    expect(move(4, 26, 'ArrowRight')).toEqual({ row: 4, col: 27 });
  });

  it('PageUp and PageDown stop at the first and last row', () => {
    expect(move(6, 3, 'PageUp')).toEqual({ row: 0, col: 3 });
    expect(move(7, 3, 'PageUp')).toEqual({ row: 0, col: 3 });
    expect(move(8, 3, 'PageUp')).toEqual({ row: 1, col: 3 });
    expect(move(21, 3, 'PageDown')).toEqual({ row: 27, col: 3 });
    expect(move(20, 3, 'PageDown')).toEqual({ row: 27, col: 3 });
    expect(move(19, 3, 'PageDown')).toEqual({ row: 26, col: 3 });
  });

  it('Ctrl (or Cmd) with Home and End goes to the corners', () => {
    expect(move(10, 5, 'Home', true)).toEqual({ row: 0, col: 0 });
    expect(move(10, 5, 'End', true)).toEqual({ row: 27, col: 27 });
    expect(moveInGrid({ row: 10, col: 5 }, { key: 'End', metaKey: true }, 28, 28)).toEqual({ row: 27, col: 27 });
  });

  it('lets other keys through', () => {
    for (const key of ['Enter', ' ', 'Tab', 'Escape', 'a', 'ArrowUpX']) expect(move(3, 3, key)).toBeNull();
  });
});

describe('moveInGrid in other shapes', () => {
  it('a non-square 5×10 map keeps rows and columns apart', () => {
    expect(moveInGrid({ row: 2, col: 2 }, { key: 'End' }, 5, 10)).toEqual({ row: 2, col: 9 });
    expect(moveInGrid({ row: 2, col: 2 }, { key: 'End', ctrlKey: true }, 5, 10)).toEqual({ row: 4, col: 9 });
    expect(moveInGrid({ row: 2, col: 9 }, { key: 'ArrowRight' }, 5, 10)).toEqual({ row: 2, col: 9 });
    expect(moveInGrid({ row: 4, col: 2 }, { key: 'ArrowDown' }, 5, 10)).toEqual({ row: 4, col: 2 });
  });

  it('a 1×1 map stays on its only pixel', () => {
    for (const key of ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End', 'PageUp', 'PageDown']) {
      expect(moveInGrid({ row: 0, col: 0 }, { key }, 1, 1)).toEqual({ row: 0, col: 0 });
    }
  });

  it('a cell outside the grid (a map that shrank) comes back inside', () => {
    expect(moveInGrid({ row: 27, col: 27 }, { key: 'ArrowLeft' }, 10, 10)).toEqual({ row: 9, col: 8 });
    expect(moveInGrid({ row: -3, col: -1 }, { key: 'ArrowDown' }, 10, 10)).toEqual({ row: 1, col: 0 });
  });

  it('an empty grid has nowhere to go', () => {
    expect(moveInGrid({ row: 0, col: 0 }, { key: 'ArrowDown' }, 0, 5)).toBeNull();
    expect(moveInGrid({ row: 0, col: 0 }, { key: 'ArrowDown' }, 5, 0)).toBeNull();
  });

  it('pageRows is a quarter of the rows, at least one', () => {
    expect([1, 2, 3, 5, 10, 14, 28, 32].map(pageRows)).toEqual([1, 1, 1, 1, 3, 4, 7, 8]);
  });
});

describe('plainNumber', () => {
  it.each([
    [0.43125, 4, '0.4313'],
    [-0.43125, 4, '\u22120.4313'],
    [2.8, 4, '2.8000'],
    [7.4e-9, 4, '0.0000'],
    [-7.4e-9, 4, '0.0000'],
    [-0, 4, '0.0000'],
    [0, 0, '0'],
    [123456.78, 2, '123456.78'],
    [1e21, 1, '1000000000000000000000.0'],
    [-0.00005, 4, '\u22120.0001'],
    [-0.00004, 4, '0.0000'],
  ])('%d with %i decimals reads %s', (value, decimals, text) => {
    expect(plainNumber(value, decimals, WORDS)).toBe(text);
  });

  it('spells what is not a number', () => {
    expect(plainNumber(Number.NaN, 4, WORDS)).toBe('not a number');
    expect(plainNumber(Infinity, 4, WORDS)).toBe('infinity');
    expect(plainNumber(-Infinity, 4, WORDS)).toBe('\u2212infinity');
  });
});
