// A tiny learnable dataset for the training loop's tests: no MNIST, runs in seconds.
import type { Dataset, DataSplit } from '../../engine/data/dataset.js';

/** `count` 28×28 digits: label k is a bright bar in row band k (learnable, so the loss falls). */
export function barsSplit(count: number, shift: number): DataSplit {
  const images = new Uint8Array(count * 28 * 28);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = (i * 7 + shift) % 10;
    labels[i] = label;
    for (let c = 4; c < 24; c++) images[i * 784 + (2 + label * 2) * 28 + c] = 200 + ((i + c) % 50);
  }
  return { images, labels, count, rows: 28, cols: 28 };
}

/** The bars as a dataset of `train` training and `test` test images. */
export function barsDataset(train: number, test: number): Dataset {
  return { name: 'bars', dir: '', numClasses: 10, train: barsSplit(train, 0), test: barsSplit(test, 3) };
}
