// A tiny MNIST-style dataset folder for tests: the four IDX files, `train` and `test` images of a diagonal
// stroke (image i lights pixel i % 784 of its row-major 28×28), labels i % 10.
import fs from 'node:fs';
import path from 'node:path';

/** An IDX file: magic (0, 0, type 8 = unsigned byte, dimensions), big-endian sizes, then the bytes. */
function idx(dims: number[], bytes: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(bytes)]);
}

export function writeDatasetFolder(dir: string, train: number, test: number): void {
  const images = (n: number) => Uint8Array.from({ length: n * 784 }, (_, i) => (i % 784 === Math.floor(i / 784) % 784 ? 255 : 0));
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 10);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idx([train, 28, 28], images(train)));
  fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([train], labels(train)));
  fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte'), idx([test, 28, 28], images(test)));
  fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte'), idx([test], labels(test)));
}
