import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataSplit } from '../../engine/data/dataset.js';
import { BatchMaker, rangeIndices, seededRandom, shuffledIndices } from '../../engine/training/batches.js';

const norm = { size: 32, pad: 2, background: -1, ink: 1 } as const;

/** Two 28×28 images: a single ink pixel at (row 5, col 7), and at (row 20, col 3). */
function split(): DataSplit {
  const images = new Uint8Array(2 * 784);
  images[5 * 28 + 7] = 255;
  images[784 + 20 * 28 + 3] = 255;
  return { images, labels: Uint8Array.from([3, 8]), count: 2, rows: 28, cols: 28 };
}

const inkAt = (x: Float32Array, image: number): [number, number][] => {
  const found: [number, number][] = [];
  for (let i = 0; i < 1024; i++) if (x[image * 1024 + i]! > 0) found.push([Math.floor(i / 32), i % 32]);
  return found;
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('BatchMaker', () => {
  it('pads each digit into the centre of its 32×32 frame with one-hot labels', () => {
    const { x, y, labels } = new BatchMaker(split(), norm, 10, 4).make([0, 1], 0, 2);
    const data = x.dataSync() as Float32Array;
    expect(x.shape).toEqual([2, 32, 32, 1]);
    expect(inkAt(data, 0)).toEqual([[7, 9]]);
    expect(inkAt(data, 1)).toEqual([[22, 5]]);
    expect(data[0]).toBe(-1);
    expect(Array.from(labels)).toEqual([3, 8]);
    expect(Array.from(y.dataSync()).indexOf(1)).toBe(3);
    tf.dispose([x, y]);
  });

  it('shifts digits by at most the requested pixels, reproducibly for a seed', () => {
    const maker = new BatchMaker(split(), norm, 10, 4);
    const positions = new Set<string>();
    for (let trial = 0; trial < 200; trial++) {
      const { x, y } = maker.make([0], 0, 1, { maxShift: 2, random: seededRandom(trial) });
      const [[row, col]] = inkAt(x.dataSync() as Float32Array, 0) as [[number, number]];
      expect(Math.abs(row - 7)).toBeLessThanOrEqual(2);
      expect(Math.abs(col - 9)).toBeLessThanOrEqual(2);
      positions.add(`${row},${col}`);
      tf.dispose([x, y]);
    }
    expect(positions.size).toBe(25); // every shift in [-2, 2]² happens
    const again = (seed: number) => {
      const { x, y } = maker.make([0, 1], 0, 2, { maxShift: 2, random: seededRandom(seed) });
      const data = Array.from(x.dataSync());
      tf.dispose([x, y]);
      return data;
    };
    expect(again(42)).toEqual(again(42));
  });

  it('shuffles every index exactly once, the same way for the same seed', () => {
    const a = shuffledIndices(1000, seededRandom(9));
    expect(Array.from(a).sort((p, q) => p - q)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(shuffledIndices(1000, seededRandom(9)))).toEqual(Array.from(a));
    expect(Array.from(shuffledIndices(1000, seededRandom(10)))).not.toEqual(Array.from(a));
  });
});

describe('BatchMaker and the index helpers against literal answers', () => {
  /** A `random` that returns `values` in turn and counts the calls. */
  const scripted = (values: number[]) => {
    let calls = 0;
    return { random: () => values[calls++ % values.length]!, calls: () => calls };
  };

  it('draws two shifts per image, (dx, dy), each floor(r · (2·max + 1)) − max; none at max 0', () => {
    const maker = new BatchMaker(split(), norm, 10, 4);
    // Image 0: r = 0 → dx −2, r = 0.999 → dy +2. Image 1: r = 0.5 → 0, r = 0.39 → floor(1.95) − 2 = −1.
    const draws = scripted([0, 0.999, 0.5, 0.39]);
    const { input } = maker.fill([0, 1], 0, 2, { maxShift: 2, random: draws.random });
    expect(draws.calls()).toBe(4);
    expect(inkAt(input, 0)).toEqual([[7 + 2, 9 - 2]]);
    expect(inkAt(input, 1)).toEqual([[22 - 1, 5]]);
    const none = scripted([0]);
    expect(inkAt(maker.fill([0], 0, 1, { maxShift: 0, random: none.random }).input, 0)).toEqual([[7, 9]]);
    expect(none.calls()).toBe(0);
  });

  it('takes images indices[start..end) (not from 0), and each call\'s one-hot rows hold only that call\'s labels', () => {
    const maker = new BatchMaker(split(), norm, 10, 4);
    maker.fill([1, 0, 1], 0, 3); // rows 8, 3, 8: none where the next call puts its ones
    const { input, oneHot, labels } = maker.fill([1, 0, 1], 1, 3);
    expect(Array.from(labels)).toEqual([3, 8]);
    expect(inkAt(input, 0)).toEqual([[7, 9]]);
    expect(inkAt(input, 1)).toEqual([[22, 5]]);
    expect(oneHot).toHaveLength(20);
    const ones = Array.from(oneHot).flatMap((v, i) => (v === 1 ? [i] : []));
    expect(ones).toEqual([3, 18]);
    expect(Array.from(oneHot).every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('make gives the same batch as tensors of [n, 32, 32, 1] and [n, 10]', () => {
    const maker = new BatchMaker(split(), norm, 10, 4);
    const { x, y, labels } = maker.make([1, 0, 1], 1, 3);
    expect(x.shape).toEqual([2, 32, 32, 1]);
    expect(y.shape).toEqual([2, 10]);
    expect(Array.from(labels)).toEqual([3, 8]);
    expect(Array.from(y.dataSync()).flatMap((v, i) => (v === 1 ? [i] : []))).toEqual([3, 18]);
    expect(inkAt(x.dataSync() as Float32Array, 1)).toEqual([[22, 5]]);
    tf.dispose([x, y]);
  });

  it('shuffledIndices is Fisher–Yates from the end: j = floor(r · (i + 1)) swapped with i, for i = n−1 down to 1', () => {
    // n = 5, r = 0.5, 0.1, 0.9, 0.3: i=4 j=2 → [0,1,4,3,2]; i=3 j=0 → [3,1,4,0,2]; i=2 j=2 → same; i=1 j=0 → [1,3,4,0,2].
    const draws = scripted([0.5, 0.1, 0.9, 0.3]);
    expect(Array.from(shuffledIndices(5, draws.random))).toEqual([1, 3, 4, 0, 2]);
    expect(draws.calls()).toBe(4);
    expect(Array.from(shuffledIndices(1, () => 0.7))).toEqual([0]);
    expect(Array.from(shuffledIndices(0, () => 0.7))).toEqual([]);
  });

  it('rangeIndices is 0..n−1 in order', () => {
    expect(Array.from(rangeIndices(5))).toEqual([0, 1, 2, 3, 4]);
    expect(rangeIndices(0)).toHaveLength(0);
  });
});
