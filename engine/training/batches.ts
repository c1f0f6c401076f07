// Turning uint8 dataset images into model-ready batches, without ever holding
// the whole normalised dataset in memory: one batch buffer is reused.
import * as tf from '@tensorflow/tfjs-core';
import { batchToModelInput, type InputNormalisation } from '../../common/preprocess.js';
import type { DataSplit } from '../data/dataset.js';

export { seededRandom } from '../../common/random.js';

/** Fisher–Yates over 0..n-1. */
export function shuffledIndices(n: number, random: () => number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

export class BatchMaker {
  private readonly pixels: number;
  private readonly imageBuffer: Uint8Array;
  private readonly inputBuffer: Float32Array;
  private readonly labelBuffer: Float32Array;
  private readonly shiftBuffer: Int8Array;
  readonly size: number;

  constructor(private readonly split: DataSplit, private readonly norm: InputNormalisation, private readonly numClasses: number, maxBatch: number) {
    this.pixels = split.rows * split.cols;
    this.size = norm.size;
    this.imageBuffer = new Uint8Array(maxBatch * this.pixels);
    this.inputBuffer = new Float32Array(maxBatch * norm.size * norm.size);
    this.labelBuffer = new Float32Array(maxBatch * numClasses);
    this.shiftBuffer = new Int8Array(maxBatch * 2);
  }

  /**
   * Images `indices[start..end)` as x [n,32,32,1] and one-hot y [n,classes]; caller disposes.
   * With `augment`, each digit is shifted by up to `augment.maxShift` pixels, drawn from `augment.random`.
   */
  make(indices: ArrayLike<number>, start: number, end: number, augment?: { maxShift: number; random: () => number }): { x: tf.Tensor4D; y: tf.Tensor2D; labels: Uint8Array } {
    const n = end - start;
    const { images } = this.split;
    const labels = new Uint8Array(n);
    this.labelBuffer.fill(0, 0, n * this.numClasses);
    for (let i = 0; i < n; i++) {
      const index = indices[start + i]!;
      this.imageBuffer.set(images.subarray(index * this.pixels, (index + 1) * this.pixels), i * this.pixels);
      const label = this.split.labels[index]!;
      labels[i] = label;
      this.labelBuffer[i * this.numClasses + label] = 1;
    }
    const side = this.size * this.size;
    let shifts: Int8Array | undefined;
    if (augment && augment.maxShift > 0) {
      shifts = this.shiftBuffer.subarray(0, 2 * n);
      const span = 2 * augment.maxShift + 1;
      for (let i = 0; i < 2 * n; i++) shifts[i] = Math.floor(augment.random() * span) - augment.maxShift;
    }
    const input = batchToModelInput(this.imageBuffer.subarray(0, n * this.pixels), n, this.split.rows, this.split.cols, this.norm, this.inputBuffer.subarray(0, n * side), shifts);
    // tf.tensor copies the typed array, so the buffers can be reused at once.
    return {
      x: tf.tensor4d(input, [n, this.size, this.size, 1]),
      y: tf.tensor2d(this.labelBuffer.subarray(0, n * this.numClasses), [n, this.numClasses]),
      labels,
    };
  }
}

export const rangeIndices = (n: number): Uint32Array => {
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  return all;
};
