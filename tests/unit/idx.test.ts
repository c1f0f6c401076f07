import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { isUserError, type UserErrorCode } from '../../common/errors.js';
import { clearDatasetCache, loadDataset, mnistDir, MNIST_DIR_ENV, type LoadDatasetOptions } from '../../engine/data/dataset.js';
import { parseIdx, readIdxFile } from '../../engine/data/idx.js';

// ---- fixtures: valid IDX bytes, then mutations of them ----

const TRAIN_IMAGES = 'train-images-idx3-ubyte';
const TRAIN_LABELS = 'train-labels-idx1-ubyte';
const TEST_IMAGES = 't10k-images-idx3-ubyte';
const TEST_LABELS = 't10k-labels-idx1-ubyte';

/** An IDX file: big-endian magic (0, 0, dtype, ndims), dims, then the payload. */
function idx(dims: number[], payload: Uint8Array, magic = 0x0800 | dims.length): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic >>> 0, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d >>> 0, 4 + 4 * i));
  return Buffer.concat([header, payload]);
}
const pattern = (n: number, mod = 256): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % mod);
const images = (count: number, rows = 28, cols = 28): Uint8Array => idx([count, rows, cols], pattern(count * rows * cols));
const labels = (count: number): Uint8Array => idx([count], pattern(count, 10));
/** Only a header: what a hostile file declares, with `payloadBytes` of actual data after it. */
const header = (dims: number[], payloadBytes = 0, magic?: number): Uint8Array => idx(dims, new Uint8Array(payloadBytes), magic);
const withByte = (bytes: Uint8Array, at: number, value: number): Uint8Array => {
  const copy = Uint8Array.from(bytes);
  copy[at] = value;
  return copy;
};
const gz = (bytes: Uint8Array): Uint8Array => gzipSync(bytes);
/** A valid header for one 28×28 image, followed by megabytes of zeros: tiny compressed, huge inflated. */
const gzipBomb = (megabytes: number): Uint8Array => gz(Buffer.concat([header([1, 28, 28]), Buffer.alloc(megabytes << 20)]));

const VALID: Record<string, Uint8Array> = {
  [TRAIN_IMAGES]: images(5),
  [TRAIN_LABELS]: labels(5),
  [TEST_IMAGES]: images(3),
  [TEST_LABELS]: labels(3),
};

const scratch = mkdtempSync(join(tmpdir(), 'lenet-idx-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
/** A fresh dataset folder: the valid files with `changes` applied (null removes a file; a `.gz` name replaces the plain one). */
function datasetFolder(changes: Record<string, Uint8Array | null> = {}): string {
  const files: Record<string, Uint8Array | null> = { ...VALID };
  for (const [name, bytes] of Object.entries(changes)) {
    if (name.endsWith('.gz')) delete files[name.slice(0, -3)];
    files[name] = bytes;
  }
  const dir = mkdtempSync(join(scratch, 'set-'));
  for (const [name, bytes] of Object.entries(files)) if (bytes) writeFileSync(join(dir, name), bytes);
  return dir;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, but none was thrown');
}

// ---- the hostile-input table: one line per malformed case ----

type Case = {
  name: string;
  files?: Record<string, Uint8Array | null>;
  message: RegExp;
  code?: UserErrorCode;
  options?: LoadDatasetOptions;
  /** Instead of loading the dataset folder. */
  load?: (dir: string) => unknown;
};

const CASES: Case[] = [
  { name: 'wrong magic', files: { [TRAIN_IMAGES]: header([5, 28, 28], 3920, 0x12345678) }, message: /train-images-idx3-ubyte: wrong magic number: found 0x12345678, expected 0x00000803/ },
  { name: 'text file', files: { [TEST_LABELS]: Buffer.from('hello, this is not an IDX file\n') }, message: /t10k-labels-idx1-ubyte: wrong magic number: found 0x68656c6c, expected 0x00000801/ },
  { name: 'labels file where images belong', files: { [TRAIN_IMAGES]: labels(5) }, message: /train-images-idx3-ubyte: wrong number of dimensions: found 1 \(looks like a labels file\), expected 3/ },
  { name: 'wrong dtype (float32)', files: { [TRAIN_IMAGES]: withByte(images(5), 2, 0x0d) }, message: /train-images-idx3-ubyte: unsupported data type 0x0d \(float32\).*only 0x08 \(unsigned byte\)/ },
  { name: 'shorter than a magic number', files: { [TRAIN_LABELS]: new Uint8Array([0, 0, 8]) }, message: /train-labels-idx1-ubyte: file is too short .* 3 bytes, the header alone needs 8/ },
  { name: 'empty file', files: { [TRAIN_LABELS]: new Uint8Array(0) }, message: /train-labels-idx1-ubyte: file is too short .* 0 bytes/ },
  { name: 'truncated header', files: { [TRAIN_IMAGES]: images(5).subarray(0, 10) }, message: /train-images-idx3-ubyte: truncated header: images need a 16-byte header but the file has 10 bytes/ },
  { name: 'truncated payload', files: { [TRAIN_IMAGES]: images(5).subarray(0, 3000) }, message: /train-images-idx3-ubyte: truncated: header declares 5 images of 28×28 \(3936 bytes\) but the file has 3000 bytes/ },
  { name: 'header counts larger than the file', files: { [TRAIN_IMAGES]: header([60000, 28, 28], 1000 - 16) }, message: /train-images-idx3-ubyte: truncated: header declares 60000 images of 28×28 \(47040016 bytes\) but the file has 1000 bytes/ },
  { name: 'label count larger than the file', files: { [TEST_LABELS]: header([10000], 3) }, message: /t10k-labels-idx1-ubyte: truncated: header declares 10000 labels \(10008 bytes\) but the file has 11 bytes/ },
  { name: 'trailing bytes', files: { [TEST_IMAGES]: Buffer.concat([images(3), new Uint8Array(7)]) }, message: /t10k-images-idx3-ubyte: 7 bytes of trailing data: header declares 3 images of 28×28 \(2368 bytes\) but the file has 2375/ },
  { name: '0 images', files: { [TRAIN_IMAGES]: header([0, 28, 28]) }, message: /train-images-idx3-ubyte: the header declares 0 images; expected at least 1/ },
  { name: '0 labels', files: { [TRAIN_LABELS]: header([0]) }, message: /train-labels-idx1-ubyte: the header declares 0 labels/ },
  { name: 'zero rows', files: { [TRAIN_IMAGES]: header([5, 0, 28]) }, message: /train-images-idx3-ubyte: the header declares images of 0×28; expected both sides at least 1/ },
  { name: 'huge declared count', files: { [TRAIN_IMAGES]: header([4_000_000_000, 28, 28], 64) }, message: /train-images-idx3-ubyte: the header declares 4000000000 images, more than the limit of 10000000/ },
  { name: 'huge declared side', files: { [TRAIN_IMAGES]: header([5, 20000, 28], 64) }, message: /train-images-idx3-ubyte: the header declares images of 20000×28, larger than the limit of 1024×1024/ },
  { name: 'huge declared total', files: { [TRAIN_IMAGES]: header([2000, 1024, 1024], 64) }, message: /train-images-idx3-ubyte: the header declares 2000 images of 1024×1024 \(2097152000 bytes\), more than the limit of 1073741824 bytes/ },
  { name: 'label above 9', files: { [TRAIN_LABELS]: withByte(labels(5), 8 + 3, 12) }, message: /train-labels-idx1-ubyte: label 12 at index 3 is out of range; expected 0\.\.9/ },
  { name: 'label 255', files: { [TEST_LABELS]: withByte(labels(3), 8 + 2, 255) }, message: /t10k-labels-idx1-ubyte: label 255 at index 2 is out of range/ },
  { name: 'images and labels disagree', files: { [TRAIN_LABELS]: labels(4) }, message: /images and labels disagree: .*train-images-idx3-ubyte has 5 images but .*train-labels-idx1-ubyte has 4 labels/ },
  { name: 'train and test sizes disagree', files: { [TEST_IMAGES]: images(3, 32, 32) }, message: /training images are 28×28 but test images are 32×32/ },
  { name: 'missing file', files: { [TRAIN_LABELS]: null }, message: /no train-labels-idx1-ubyte \(or train-labels-idx1-ubyte\.gz\) in this dataset folder/, code: 'not-found' },
  { name: 'missing folder', load: (dir) => loadDataset({ kind: 'folder', dir: join(dir, 'absent') }), message: /absent: dataset folder not found/, code: 'not-found' },
  { name: 'missing file (reader)', load: (dir) => readIdxFile(join(dir, 'nope-idx3-ubyte'), 'images'), message: /nope-idx3-ubyte: file not found/, code: 'not-found' },
  { name: 'corrupt gzip', files: { [`${TRAIN_IMAGES}.gz`]: new Uint8Array([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef]) }, message: /train-images-idx3-ubyte\.gz: corrupt or truncated gzip data/ },
  { name: 'truncated gzip', files: { [`${TRAIN_IMAGES}.gz`]: gz(images(5)).subarray(0, 40) }, message: /train-images-idx3-ubyte\.gz: corrupt or truncated gzip data \(unexpected end of file\)/ },
  { name: 'gzip with a truncated payload', files: { [`${TEST_IMAGES}.gz`]: gz(images(3).subarray(0, 2000)) }, message: /t10k-images-idx3-ubyte\.gz: truncated: header declares 3 images of 28×28 \(2368 bytes\) but the file has 2000 bytes/ },
  { name: 'gzip with trailing data', files: { [`${TEST_LABELS}.gz`]: gz(Buffer.concat([labels(3), new Uint8Array(5)])) }, message: /t10k-labels-idx1-ubyte\.gz: gzip data decompresses to more than expected \(the header declares 3 labels \(11 bytes\)\)/ },
  { name: 'gzip bomb behind a valid header (default cap)', files: { [`${TRAIN_IMAGES}.gz`]: gzipBomb(48) }, message: /train-images-idx3-ubyte\.gz: gzip data decompresses to more than expected \(the header declares 1 image of 28×28 \(800 bytes\)\); trailing data or a gzip bomb/ },
  { name: 'gzip bomb of zeros (no header)', files: { [`${TRAIN_IMAGES}.gz`]: gz(Buffer.alloc(16 << 20)) }, message: /train-images-idx3-ubyte\.gz: wrong magic number: found 0x00000000/ },
  { name: 'gzip larger than a small cap', files: { [`${TRAIN_IMAGES}.gz`]: gz(images(5)) }, options: { idx: { maxDecompressedBytes: 1000 } }, message: /train-images-idx3-ubyte\.gz: the header declares 5 images of 28×28 \(3936 bytes\), more than the 1000-byte limit for decompressed gzip data/ },
];

describe('IDX hostile input', () => {
  it.each(CASES)('$name', ({ files, message, code = 'bad-file', options, load }) => {
    const dir = datasetFolder(files);
    const error = thrown(() => (load ? load(dir) : loadDataset({ kind: 'folder', dir }, options)));
    expect(isUserError(error), `expected a UserError, got ${String(error)}`).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as { code: string }).code).toBe(code);
  });
});

// ---- valid files ----

describe('IDX reader', () => {
  it('reads plain and gzip files to the same tensor', () => {
    const plain = images(5, 7, 9);
    const fromPlain = parseIdx(plain, 'plain', 'images');
    const fromGzip = parseIdx(gz(plain), 'gz', 'images');
    expect(fromPlain.dims).toEqual([5, 7, 9]);
    expect(fromGzip.dims).toEqual([5, 7, 9]);
    expect(Buffer.from(fromGzip.data).equals(Buffer.from(fromPlain.data))).toBe(true);
    expect(Array.from(fromPlain.data.subarray(0, 3))).toEqual([3, 10, 17]);
    expect(fromPlain.data.length).toBe(5 * 7 * 9);
    expect(Object.getPrototypeOf(fromGzip.data)).toBe(Uint8Array.prototype); // not a Buffer: slice() copies
  });

  it('loads a folder of .gz files (Fashion-MNIST style) equal to the plain folder', () => {
    const plainDir = datasetFolder();
    const gzDir = datasetFolder(Object.fromEntries(Object.entries(VALID).map(([name, bytes]) => [`${name}.gz`, gz(bytes)])));
    const plain = loadDataset({ kind: 'folder', dir: plainDir });
    const zipped = loadDataset({ kind: 'folder', dir: gzDir });
    for (const split of ['train', 'test'] as const) {
      expect(zipped[split].count).toBe(plain[split].count);
      expect(Buffer.from(zipped[split].images).equals(Buffer.from(plain[split].images))).toBe(true);
      expect(Buffer.from(zipped[split].labels).equals(Buffer.from(plain[split].labels))).toBe(true);
    }
    expect(plain.train).toMatchObject({ count: 5, rows: 28, cols: 28 });
    expect(plain.test.count).toBe(3);
    expect(plain.numClasses).toBe(10);
    expect(zipped.name).toBe(gzDir.split(/[\\/]/).pop());
  });

  it('keeps only the first N items when limited', () => {
    const dir = datasetFolder();
    const limited = loadDataset({ kind: 'folder', dir }, { trainLimit: 2, testLimit: 1 });
    const full = loadDataset({ kind: 'folder', dir });
    expect(limited.train.count).toBe(2);
    expect(limited.train.images.length).toBe(2 * 784);
    expect(Array.from(limited.train.labels)).toEqual(Array.from(full.train.labels.subarray(0, 2)));
    expect(limited.test.count).toBe(1);
    expect(full.train.count).toBe(5); // a limit does not shrink the cached dataset
  });

  it('reads MNIST from LENET_LAB_MNIST_DIR when set', () => {
    const dir = datasetFolder();
    const saved = process.env[MNIST_DIR_ENV];
    process.env[MNIST_DIR_ENV] = dir;
    try {
      expect(mnistDir()).toBe(dir);
      const data = loadDataset({ kind: 'mnist' });
      expect(data.name).toBe('MNIST');
      expect(data.train.count).toBe(5);
    } finally {
      if (saved === undefined) delete process.env[MNIST_DIR_ENV];
      else process.env[MNIST_DIR_ENV] = saved;
    }
  });
});

describe('real MNIST', () => {
  it('loads 60000 train and 10000 test images of 28×28 with labels 0..9', () => {
    clearDatasetCache();
    const mnist = loadDataset({ kind: 'mnist' });
    expect(mnist.name).toBe('MNIST');
    expect(mnist.dir).toBe(mnistDir());
    expect(mnist.train).toMatchObject({ count: 60000, rows: 28, cols: 28 });
    expect(mnist.test).toMatchObject({ count: 10000, rows: 28, cols: 28 });
    expect(mnist.train.images.length).toBe(60000 * 784);
    expect(mnist.test.images.length).toBe(10000 * 784);
    expect(mnist.train.labels[0]).toBe(5);
    expect(mnist.test.labels[0]).toBe(7);
    expect(new Set(mnist.train.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(Math.max(...mnist.test.labels)).toBe(9);
    // Cached: a second load shares the same bytes instead of re-reading 47 MB.
    expect(loadDataset({ kind: 'mnist' }).train.images.buffer).toBe(mnist.train.images.buffer);
  });
});

describe('dataset cache', () => {
  it('is keyed by the real path (links share one copy) and holds at most two datasets', async () => {
    const { mkdirSync, symlinkSync, realpathSync } = await import('node:fs');
    const { cachedDatasetPaths, MAX_CACHED_DATASETS } = await import('../../engine/data/dataset.js');
    expect(MAX_CACHED_DATASETS).toBe(2);
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'lenet-cache-')));
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    const folder = (name: string) => {
      const dir = join(root, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), Buffer.concat([header(0x803, [2, 28, 28]), Buffer.alloc(2 * 784)]));
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Buffer.concat([header(0x801, [2]), Buffer.from([1, 2])]));
      writeFileSync(join(dir, 't10k-images-idx3-ubyte'), Buffer.concat([header(0x803, [1, 28, 28]), Buffer.alloc(784)]));
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), Buffer.concat([header(0x801, [1]), Buffer.from([3])]));
      return dir;
    };
    clearDatasetCache();
    const a = folder('a');
    for (const link of ['link1', 'link2', 'link3']) symlinkSync(a, join(root, link));
    const first = loadDataset({ kind: 'folder', dir: a });
    for (const link of ['link1', 'link2', 'link3']) {
      const viaLink = loadDataset({ kind: 'folder', dir: join(root, link) });
      expect(viaLink.train.images).toBe(first.train.images); // the same bytes, not a second copy
      expect(viaLink.name).toBe(link);
    }
    expect(loadDataset({ kind: 'folder', dir: `${a}/./` }).train.images).toBe(first.train.images);
    expect(cachedDatasetPaths()).toEqual([a]);
    const b = folder('b');
    const c = folder('c');
    loadDataset({ kind: 'folder', dir: b });
    expect(cachedDatasetPaths()).toEqual([a, b]);
    loadDataset({ kind: 'folder', dir: a }); // used again: now the most recent
    loadDataset({ kind: 'folder', dir: c });
    expect(cachedDatasetPaths()).toEqual([a, c]);
    clearDatasetCache();
    rmSync(root, { recursive: true, force: true });
  });
});
