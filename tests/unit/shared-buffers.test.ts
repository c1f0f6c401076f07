// The training images both ranks read (engine/training/data-parallel.ts createSharedBuffers): where the dataset
// already keeps them in shared memory (the IDX reader puts a plain file there), the run uses them in place, so
// starting two engines copies nothing; elsewhere (a gzip file, a test's array) it copies them once.
import { describe, expect, it } from 'vitest';
import { createSharedBuffers, sharedSplit } from '../../engine/training/data-parallel.js';
import type { DataSplit } from '../../engine/data/dataset.js';

function split(images: Uint8Array, labels: Uint8Array, count: number): DataSplit {
  return { images, labels, count, rows: 2, cols: 3 };
}

describe('createSharedBuffers: the training images', () => {
  const pixels = Uint8Array.from({ length: 5 * 6 }, (_, i) => i + 1);
  const labelValues = Uint8Array.from([3, 1, 4, 1, 5]);

  it('in shared memory already: the same buffer at the same offsets, no copy', () => {
    const images = new Uint8Array(new SharedArrayBuffer(8 + pixels.length), 8);
    images.set(pixels);
    const labels = new Uint8Array(new SharedArrayBuffer(3 + labelValues.length), 3);
    labels.set(labelValues);
    const shared = createSharedBuffers(split(images, labels, 5), 4, 10, 2);
    expect(shared.images).toBe(images.buffer);
    expect(shared.imagesOffset).toBe(8);
    expect(shared.labels).toBe(labels.buffer);
    expect(shared.labelsOffset).toBe(3);
    const seen = sharedSplit(shared);
    // The first `count` (4) images only, the bytes the dataset holds
    expect(Array.from(seen.images)).toEqual(Array.from(pixels.subarray(0, 24)));
    expect(Array.from(seen.labels)).toEqual([3, 1, 4, 1]);
    images[0] = 99; // the same memory
    expect(seen.images[0]).toBe(99);
  });

  it('in ordinary memory: copied once into shared memory, the same bytes', () => {
    const shared = createSharedBuffers(split(pixels.slice(), labelValues.slice(), 5), 5, 10, 2);
    expect(shared.images).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.imagesOffset).toBe(0);
    expect(shared.images.byteLength).toBe(30);
    const seen = sharedSplit(shared);
    expect(Array.from(seen.images)).toEqual(Array.from(pixels));
    expect(Array.from(seen.labels)).toEqual(Array.from(labelValues));
  });
});
