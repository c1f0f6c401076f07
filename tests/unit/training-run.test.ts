// One training run, as the CLI and the app start it (engine/training/run.ts), and short runs of the
// 1998 comparison's new rows: each learns well above chance from a few thousand digits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { MODEL_FORMAT_VERSION, ModelMeta } from '../../engine/io/model-store.js';
import { prepareTrainingRun } from '../../engine/training/run.js';
import { resolveRecipe, trainingCount } from '../../engine/training/recipe.js';
import { getVariant } from '../../common/network/variants.js';
import { writeDatasetFolder } from './dataset-folder.js';
import { isUserError } from '../../common/errors.js';
import { Recipe, type TrainerEvent } from '../../common/protocol.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('prepareTrainingRun', () => {
  it('refuses a batch larger than the training images before any tensor exists; a batch of all of them is fine', () => {
    let error: unknown;
    try {
      prepareTrainingRun({ variant: 'linear', limit: 63, recipe: { batchSize: 64 } });
    } catch (e) {
      error = e;
    }
    expect(isUserError(error)).toBe(true);
    expect(String((error as Error).message)).toMatch(/batch size 64 is larger than the 63 training images/);
    expect(prepareTrainingRun({ variant: 'linear', limit: 64, recipe: { batchSize: 64 } }).trainCount).toBe(64);
    expect(prepareTrainingRun({ variant: 'linear', limit: 60_001 }).trainCount).toBe(60_000);
  });

  it('draws a whole seed below 2^31 when none is given', () => {
    const seeds = Array.from({ length: 20 }, () => prepareTrainingRun({ variant: 'linear', limit: 100 }).seed);
    for (const seed of seeds) {
      expect(Number.isInteger(seed)).toBe(true);
      expect(seed).toBeGreaterThanOrEqual(0);
      expect(seed).toBeLessThan(2 ** 31);
    }
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });

  it('resolves the variant\'s recipe with the overrides, and keeps a given seed', () => {
    const run = prepareTrainingRun({ variant: 'lenet1', recipe: { epochs: 3 }, seed: 9 });
    expect(run.recipe).toEqual({ ...run.spec.recipe, epochs: 3 });
    expect(run.seed).toBe(9);
  });
});

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-run-folder-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

describe('a run on a dataset folder, and its engines', () => {
  it('trains on the folder, records the folder by its absolute path, and keeps to one engine when asked', async () => {
    writeDatasetFolder(folder, 20, 10);
    const relative = path.relative(process.cwd(), folder);
    expect(path.isAbsolute(relative)).toBe(false);
    const run = prepareTrainingRun({ variant: 'linear', dataset: { kind: 'folder', dir: relative }, recipe: { epochs: 1, batchSize: 4 }, seed: 2 });
    expect(run.trainCount).toBe(20);
    const events: TrainerEvent[] = [];
    const { model, meta } = await run.start({ runId: 'f', backend: 'wasm', emit: (e) => events.push(e), workers: 1, throttle: { batch: 0 } }).finish('folder-run');
    model.dispose();
    expect(meta.datasetSource).toEqual({ kind: 'folder', dir: folder });
    const started = events.find((e) => e.type === 'started');
    expect(started).toMatchObject({ engines: 1, trainCount: 20, testCount: 10, batchesPerEpoch: 5 });
    expect(started && 'enginesNote' in started).toBe(false);
    // The throttle is passed on: none for batches, so every batch is reported (the default would keep about one in 150 ms).
    expect(events.filter((e) => e.type === 'batch').map((e) => (e as { batch: number }).batch)).toEqual([1, 2, 3, 4, 5]);
    // MNIST, named by kind only.
    expect(prepareTrainingRun({ variant: 'linear', limit: 100 }).dataset.train.count).toBe(60_000);
  });
});

describe('a recipe and its training count (engine/training/recipe.ts)', () => {
  const refusal = (f: () => unknown): { code: string; message: string } => {
    try {
      f();
    } catch (e) {
      expect(isUserError(e)).toBe(true);
      return e as { code: string; message: string };
    }
    throw new Error('not refused');
  };

  it('names the field and the rule of a bad override, as an invalid request', () => {
    const e = refusal(() => resolveRecipe(getVariant('linear'), { batchSize: 0 }));
    expect(e.code).toBe('invalid-request');
    expect(e.message).toMatch(/^invalid recipe: batchSize: \S/);
  });

  it('a shift past the border names the network, and a spec without a title says "this network"', () => {
    const e = refusal(() => resolveRecipe({ recipe: getVariant('linear').recipe, input: getVariant('linear').input }, { augmentShift: 1 }));
    expect(e.code).toBe('invalid-request');
    expect(e.message).toBe('invalid recipe: augmentShift: this network reads the digit with a 0-pixel border, so it can be shifted by at most 0 px');
    // No input at all (a recipe checked on its own): no border to check.
    expect(resolveRecipe({ recipe: getVariant('linear').recipe }, { augmentShift: 2 }).augmentShift).toBe(2);
  });

  it('refuses a batch one larger than the images, with the numbers, and takes the limit or the images', () => {
    const recipe = Recipe.parse({ ...getVariant('linear').recipe, batchSize: 101 });
    const e = refusal(() => trainingCount(recipe, 100));
    expect(e.code).toBe('invalid-request');
    expect(e.message).toBe('batch size 101 is larger than the 100 training images; choose a batch of at most 100');
    expect(trainingCount(recipe, 101)).toBe(101);
    expect(trainingCount(recipe, 500, 101)).toBe(101);
    expect(trainingCount(recipe, 101, 500)).toBe(101);
  });
});

describe.each([
  // Chance is 10%. Measured here with these settings (seed 1, wasm): linear 74.6% (47 Adam steps at its gentle
  // learning rate); the convolutional nets more. The shipped models' full runs are in assets/models/README.md.
  ['linear', 0.7],
  ['lenet1', 0.75],
  ['lenet4', 0.7],
] as const)('a short %s run', (variant, floor) => {
  it(`reaches more than ${floor * 100}% on 500 test digits after one pass over 3,000, and saves valid metadata`, async () => {
    const events: TrainerEvent[] = [];
    const run = prepareTrainingRun({ variant, recipe: { epochs: 1 }, limit: 3000, testLimit: 500, seed: 1 });
    const { model, meta, done } = await run.start({ runId: 't', backend: 'wasm', emit: (e) => events.push(e), workers: 1 }).finish(`${variant}-test`);
    model.dispose();
    expect(done.reason).toBe('completed');
    expect(done.testAccuracy).toBeGreaterThan(floor);
    expect(meta).toMatchObject({ formatVersion: MODEL_FORMAT_VERSION, name: `${variant}-test`, variant, dataset: 'MNIST', seed: 1, testAccuracy: done.testAccuracy });
    expect(meta.history.epochs).toHaveLength(1);
    expect(ModelMeta.safeParse(meta).success).toBe(true);
  });
});

describe('random shifts need a border', () => {
  it('a 28×28 variant refuses a shift of 1 px and takes 0; a 32×32 one takes the most, 2 px', () => {
    expect(() => prepareTrainingRun({ variant: 'lenet1', recipe: { augmentShift: 1 } }))
      .toThrow(/augmentShift: LeNet-1 \(1989\) reads the digit with a 0-pixel border, so it can be shifted by at most 0 px/);
    expect(() => prepareTrainingRun({ variant: 'linear', recipe: { augmentShift: 2 } })).toThrow(/at most 0 px/);
    expect(prepareTrainingRun({ variant: 'lenet1', recipe: { augmentShift: 0 } }).recipe.augmentShift).toBe(0);
    expect(prepareTrainingRun({ variant: 'lenet4', recipe: { augmentShift: 2 } }).recipe.augmentShift).toBe(2);
  });
});
