// One training run, as the CLI and the app start it (engine/training/run.ts), and short runs of the
// 1998 comparison's new rows: each learns well above chance from a few thousand digits.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { MODEL_FORMAT_VERSION, ModelMeta } from '../../engine/io/model-store.js';
import { prepareTrainingRun } from '../../engine/training/run.js';
import { isUserError } from '../../common/errors.js';
import type { TrainerEvent } from '../../common/protocol.js';

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

  it('resolves the variant\'s recipe with the overrides, and keeps a given seed', () => {
    const run = prepareTrainingRun({ variant: 'lenet1', recipe: { epochs: 3 }, seed: 9 });
    expect(run.recipe).toEqual({ ...run.spec.recipe, epochs: 3 });
    expect(run.seed).toBe(9);
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
