// Words for a connection table (which input maps each output map reads), grouped the way the 1998
// paper describes LeNet-5's C3: "maps 0–5 read 3 neighbouring S2 maps, 6–11 read 4, ...". Pure.
import type { ConnectionTable } from '../../../common/network/specs.js';
import type { Msg } from './layer-view-model.js';

type Pattern = 'neighbouring' | 'non-neighbouring' | 'all';

/** The input maps output map `o` reads. */
export const readsOf = (table: ConnectionTable, o: number): number[] => table.flatMap((row, i) => (row[o] === 1 ? [i] : []));

/** Whether a set of input maps is one run of neighbours (cyclically: 5 and 0 are neighbours), or all of them. */
function patternOf(reads: readonly number[], inputs: number): Pattern {
  if (reads.length === inputs) return 'all';
  const set = new Set(reads);
  // A cyclic run has exactly one member whose predecessor is missing.
  const starts = reads.filter((i) => !set.has((i - 1 + inputs) % inputs)).length;
  return starts === 1 ? 'neighbouring' : 'non-neighbouring';
}

const range = (from: number, to: number): string => (from === to ? `${from}` : `${from}–${to}`);

/**
 * Consecutive output maps that read the same number of maps in the same pattern, one message each, in English:
 * ['0–5 read 3 neighbouring S2 maps', '6–11 read 4', '12–14 read 4 non-neighbouring ones', '15 reads all 6'].
 * `inputName` qualifies the first phrase ('S2 maps'); without it, just 'maps'.
 */
export function tablePhrases(table: ConnectionTable, inputName?: string): Msg[] {
  const inputs = table.length;
  const outputs = table[0]?.length ?? 0;
  const groups: { from: number; to: number; count: number; pattern: Pattern }[] = [];
  for (let o = 0; o < outputs; o++) {
    const reads = readsOf(table, o);
    const pattern = patternOf(reads, inputs);
    const last = groups.at(-1);
    if (last && last.count === reads.length && last.pattern === pattern) last.to = o;
    else groups.push({ from: o, to: o, count: reads.length, pattern });
  }
  let neighboursNamed = false;
  return groups.map((g) => {
    const pattern = g.pattern === 'all' ? 'all' : g.pattern === 'non-neighbouring' ? 'apart'
      : neighboursNamed ? 'more' : inputName ? 'firstNamed' : 'first';
    if (g.pattern === 'neighbouring') neighboursNamed = true;
    return { key: 'layer.table.phrase', values: { range: range(g.from, g.to), single: g.from === g.to ? 'yes' : 'no', count: g.count, pattern, input: inputName ?? '' } };
  });
}

/** Live links of a table. */
export const tableLinks = (table: ConnectionTable): number => table.flat().filter((v) => v === 1).length;
