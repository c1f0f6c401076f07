// Test-set evaluation against plain loops: a stand-in model answers each batch with rows of a literal-seeded
// probability table (in index order, as evaluate promises), and the expected loss, accuracy, confusion
// matrix, predictions, confidences and mistakes are recomputed here without tfjs or the code under test.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import type { DataSplit } from '../../engine/data/dataset.js';
import { getVariant, type VariantSpec } from '../../common/network/variants.js';
import { evaluate, mistakesOf } from '../../engine/training/evaluate.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const COUNT = 23;
const LABELS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6];

/** Row i: probabilities over 10 classes (summing to 1), from a fixed integer pattern. */
function table(): number[][] {
  const rows: number[][] = [];
  let x = 7;
  for (let i = 0; i < COUNT; i++) {
    const raw = Array.from({ length: 10 }, () => (x = (x * 1103515245 + 12345) % 2147483648) % 97 + 1);
    // Half the rows lean on the true label, so some are right and some wrong.
    if (i % 2 === 0) raw[LABELS[i]!] = 400;
    const sum = raw.reduce((a, b) => a + b, 0);
    rows.push(raw.map((v) => v / sum));
  }
  // Row 5: a tie between classes 2 and 7 for the largest: the first (2) is the prediction.
  rows[5] = [0.05, 0.05, 0.3, 0.05, 0.05, 0.05, 0.05, 0.3, 0.05, 0.05];
  // Row 6: the largest in the last class (a loop stopping one class short would miss it).
  rows[6] = [0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.55];
  // Row 7: the largest in the first class, and above row 6's largest (a loop reading one class past the row would take it).
  rows[7] = [0.64, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04, 0.04];
  return rows;
}
const ROWS = table();

const split: DataSplit = { images: new Uint8Array(COUNT * 784), labels: Uint8Array.from(LABELS), count: COUNT, rows: 28, cols: 28 };
// The linear variant's input; outputs read as probabilities (softmax-ce), so the table is what evaluate sees.
const spec = { ...getVariant('linear'), loss: 'softmax-ce' } as VariantSpec;

/** A model whose answers are ROWS in order; it records each batch's size. */
function standIn(): { model: tfl.LayersModel; batches: number[] } {
  const batches: number[] = [];
  let offset = 0;
  const model = {
    predict: (x: tf.Tensor) => {
      const n = x.shape[0]!;
      batches.push(n);
      const rows = ROWS.slice(offset, offset + n);
      offset += n;
      return tf.tensor2d(rows.flat(), [n, 10]);
    },
  } as unknown as tfl.LayersModel;
  return { model, batches };
}

/** The expected evaluation of the first `count` rows, by plain loops. */
function expected(count: number) {
  const confusion = Array.from({ length: 10 }, () => Array<number>(10).fill(0));
  const predictions: number[] = [];
  const confidences: number[] = [];
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < count; i++) {
    const row = ROWS[i]!;
    let best = 0;
    for (let c = 0; c < 10; c++) if (row[c]! > row[best]!) best = c;
    predictions.push(best);
    confidences.push(Math.fround(row[best]!));
    confusion[LABELS[i]!]![best]!++;
    if (best === LABELS[i]) correct++;
    loss -= Math.log(Math.max(row[LABELS[i]!]!, 1e-7));
  }
  return { count, accuracy: correct / count, loss: loss / count, confusion, predictions, confidences };
}

describe('evaluate', () => {
  it('matches plain loops over every image, batch by batch with an odd last batch', () => {
    const { model, batches } = standIn();
    const result = evaluate(model, spec, split, 10, undefined, 5);
    const want = expected(COUNT);
    expect(batches).toEqual([5, 5, 5, 5, 3]);
    expect(result.count).toBe(COUNT);
    expect(Array.from(result.predictions)).toEqual(want.predictions);
    expect(Array.from(result.confidences)).toEqual(want.confidences);
    expect(result.confusion).toEqual(want.confusion);
    expect(result.accuracy).toBe(want.accuracy);
    expect(result.loss).toBeCloseTo(want.loss, 5);
    // The table's own facts, so the oracle is not vacuous.
    expect(want.predictions.slice(5, 8)).toEqual([2, 9, 0]);
    expect(want.accuracy).toBeGreaterThan(0);
    expect(want.accuracy).toBeLessThan(1);
  });

  it('takes the first `limit` images; a limit past the set takes the set', () => {
    const first = standIn();
    const limited = evaluate(first.model, spec, split, 10, 7, 5);
    const want = expected(7);
    expect(first.batches).toEqual([5, 2]);
    expect(limited.count).toBe(7);
    expect(limited.predictions).toHaveLength(7);
    expect(limited.confusion).toEqual(want.confusion);
    expect(limited.accuracy).toBe(want.accuracy);
    expect(limited.loss).toBeCloseTo(want.loss, 5);

    // A count that is a whole number of batches: no empty batch after the last.
    const whole = standIn();
    const twenty = evaluate(whole.model, spec, split, 10, 20, 5);
    expect(whole.batches).toEqual([5, 5, 5, 5]);
    expect(twenty.loss).toBeCloseTo(expected(20).loss, 5);

    const past = standIn();
    expect(evaluate(past.model, spec, split, 10, 1000, 500).count).toBe(COUNT);
    expect(past.batches).toEqual([COUNT]);
  });

  it('lists the mistakes only, most confident first, with index, label, prediction and confidence', () => {
    const result = evaluate(standIn().model, spec, split, 10, undefined, 500);
    const want = expected(COUNT);
    const mistakes = [];
    for (let i = 0; i < COUNT; i++) {
      if (want.predictions[i] !== LABELS[i]) mistakes.push({ index: i, label: LABELS[i], predicted: want.predictions[i], confidence: want.confidences[i] });
    }
    mistakes.sort((a, b) => b.confidence! - a.confidence!);
    const got = mistakesOf(result, split.labels);
    expect(got).toEqual(mistakes);
    expect(got.length).toBeGreaterThan(2);
    expect(got[0]!.confidence).toBeGreaterThan(got.at(-1)!.confidence);
    // Of a limited evaluation: only its own images, though the labels go on.
    const limited = mistakesOf(evaluate(standIn().model, spec, split, 10, 7, 500), split.labels);
    expect(limited).toEqual(mistakes.filter((m) => m.index < 7));
    expect(limited.length).toBeGreaterThan(0);
  });

  it('leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    evaluate(standIn().model, spec, split, 10, undefined, 5);
    expect(tf.memory().numTensors).toBe(before);
  });
});
