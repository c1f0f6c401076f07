import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DataSplit } from '../../engine/data/dataset.js';
import { BatchMaker, seededRandom, shuffledIndices } from '../../engine/training/batches.js';

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
