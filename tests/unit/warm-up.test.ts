// Warming an engine before its first run (engine/training/warm-up.ts): the promised steps, on each variant at
// the half batch a data-parallel rank trains on, and nothing left behind. The images are synthetic and the
// models thrown away, so what the steps compute is not observable; how many there are and their shape is.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { getVariant } from '../../common/network/variants.js';
import { VARIANT_NAMES } from '../../common/protocol.js';
import { LocalStepper } from '../../engine/training/step.js';
import { WARM_UP_STEPS, warmUpTraining, warmUpTrainingInTurns } from '../../engine/training/warm-up.js';

beforeAll(async () => {
  await initBackend('cpu');
});
afterEach(() => vi.restoreAllMocks());

describe('warmUpTraining', () => {
  it('takes the given steps on each variant at half its batch (rounded up), over images 0..n-1, and leaves no tensor', () => {
    const step = vi.spyOn(LocalStepper.prototype, 'step');
    const before = tf.memory().numTensors;
    warmUpTraining(['linear', 'seed'], 3);
    expect(tf.memory().numTensors).toBe(before);
    const halves = (['linear', 'seed'] as const).map((v) => Math.ceil(getVariant(v).recipe.batchSize / 2));
    expect(step.mock.calls.map(([order, start, end, augment, norms]) => [order.length, Array.from(order).every((v, i) => v === i), start, end, augment, norms])).toEqual([
      ...Array(3).fill([halves[0], true, 0, halves[0], undefined, false]),
      ...Array(3).fill([halves[1], true, 0, halves[1], undefined, false]),
    ]);
  });

  it('afterFirstStep runs once per variant, right after that variant\'s first step (its kernels exist by then)', () => {
    const log: string[] = [];
    vi.spyOn(LocalStepper.prototype, 'step').mockImplementation(() => {
      log.push('step');
      return { loss: 1, correct: 0, fault: null };
    });
    warmUpTraining(['linear', 'seed'], 3, () => log.push('first'));
    expect(log).toEqual(['step', 'first', 'step', 'step', 'step', 'first', 'step', 'step']);
    log.length = 0;
    warmUpTraining(['linear'], 0, () => log.push('first'));
    expect(log).toEqual([]);
  });

  it('by default warms every variant, in order, for 30 steps each', () => {
    expect(WARM_UP_STEPS).toBe(30);
    const seen: number[] = [];
    vi.spyOn(LocalStepper.prototype, 'step').mockImplementation((_order, _start, end) => {
      seen.push(end);
      return { loss: 1, correct: 0, fault: null };
    });
    warmUpTraining();
    const halves = VARIANT_NAMES.map((v) => Math.ceil(getVariant(v).recipe.batchSize / 2));
    expect(seen).toEqual(halves.flatMap((h) => Array(30).fill(h)));
  });
});

describe('warmUpTrainingInTurns (the lab service warming its own engine)', () => {
  /** A turn that records itself; the steps record themselves through the spy. */
  function logged() {
    const log: string[] = [];
    vi.spyOn(LocalStepper.prototype, 'step').mockImplementation(() => {
      log.push('step');
      return { loss: 1, correct: 0, fault: null };
    });
    return { log, turn: () => { log.push('turn'); return Promise.resolve(); } };
  }

  it('takes one step a turn, every step of every variant when nothing stops it, and says how many', async () => {
    const { log, turn } = logged();
    const before = tf.memory().numTensors;
    expect(await warmUpTrainingInTurns(() => false, ['linear', 'seed'], 2, turn)).toBe(4);
    expect(log).toEqual(['turn', 'step', 'turn', 'step', 'turn', 'step', 'turn', 'step', 'turn']);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops before the step at which stop() turns true, and leaves no tensor of the model it was on', async () => {
    const { log, turn } = logged();
    const before = tf.memory().numTensors;
    let turns = 0;
    const taken = await warmUpTrainingInTurns(() => ++turns > 3, ['linear', 'seed'], 2, turn);
    expect(taken).toBe(3); // linear's 2, seed's first
    expect(log.filter((e) => e === 'step')).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes no step, and builds no model, when stopped from the start', async () => {
    const { log, turn } = logged();
    const build = vi.spyOn(getVariant('linear'), 'build');
    expect(await warmUpTrainingInTurns(() => true, ['linear'], 5, turn)).toBe(0);
    expect(log).toEqual(['turn']);
    expect(build).not.toHaveBeenCalled();
  });

  it('waits a real turn of the event loop between steps (a request queued meanwhile is answered in between)', async () => {
    const log: string[] = [];
    vi.spyOn(LocalStepper.prototype, 'step').mockImplementation(() => {
      log.push('step');
      setImmediate(() => log.push('request'));
      return { loss: 1, correct: 0, fault: null };
    });
    await warmUpTrainingInTurns(() => false, ['linear'], 3);
    expect(log).toEqual(['step', 'request', 'step', 'request', 'step', 'request']);
  });
});
