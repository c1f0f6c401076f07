// The lab service warming its own engine (hosts/lab-service.ts, `warmUp`): after the second engine's warm-up, one
// throwaway step a turn of the event loop, every variant's when nothing else happens, and none once a run starts.
// Off unless asked. The steps on this thread go through LocalStepper.step (rank 1's are on its own thread).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLabService } from '../../hosts/lab-service.js';
import { VARIANT_NAMES } from '../../common/names.js';
import type { TrainerEvent } from '../../common/protocol.js';
import { LocalStepper } from '../../engine/training/step.js';
import { WARM_UP_STEPS } from '../../engine/training/warm-up.js';
import { endParallelThreads, parallelEngineReady } from '../../engine/training/parallel-trainer.js';

const ASSETS = fileURLToPath(new URL('../../assets', import.meta.url));
const service = (warmUp: boolean | undefined, emit: (name: string, payload: unknown) => void = () => undefined) => createLabService({
  modelsDir: fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-warm-')), assetsDir: ASSETS, transport: 'browser', appVersion: '9.9.9',
  backend: 'wasm', ...(warmUp === undefined ? {} : { warmUp }), emit,
});

afterEach(() => vi.restoreAllMocks());

describe("the lab service's own engine warm-up", () => {
  it('is off unless asked', async () => {
    const step = vi.spyOn(LocalStepper.prototype, 'step');
    const lab = await service(undefined);
    expect(await lab.ownEngineWarm).toBe(0);
    expect(step).not.toHaveBeenCalled();
  });

  it('asked, takes every variant\'s warm-up steps on this thread and leaves no tensor', async () => {
    const step = vi.spyOn(LocalStepper.prototype, 'step').mockImplementation(() => ({ loss: 1, correct: 0, fault: null }));
    const lab = await service(true);
    const before = tf.memory().numTensors; // the service's own (its current model), before its warm-up steps
    expect(step).not.toHaveBeenCalled(); // its steps come in later turns of the event loop
    expect(await lab.ownEngineWarm).toBe(VARIANT_NAMES.length * WARM_UP_STEPS);
    expect(step).toHaveBeenCalledTimes(VARIANT_NAMES.length * WARM_UP_STEPS);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(os.availableParallelism() < 2)('begins once the second engine is warm, not beside its warm-up', async () => {
    await endParallelThreads(); // the second engine must start again with this service
    let readyAtFirstStep: boolean | null = null;
    vi.spyOn(LocalStepper.prototype, 'step').mockImplementation(() => {
      readyAtFirstStep ??= parallelEngineReady('wasm');
      return { loss: 1, correct: 0, fault: null };
    });
    const lab = await service(true);
    expect(parallelEngineReady('wasm')).toBe(false); // still warming
    await lab.ownEngineWarm;
    expect(readyAtFirstStep).toBe(true);
  });

  it('that fails ends quietly: 0 steps said, and the service answers on', async () => {
    vi.spyOn(LocalStepper.prototype, 'step').mockImplementation(() => { throw new Error('a kernel failed'); });
    const lab = await service(true);
    expect(await lab.ownEngineWarm).toBe(0);
    expect(await lab.handle('info', {})).toMatchObject({ ok: true });
  });

  it('ends when a run starts, and the run trains as usual', async () => {
    const step = vi.spyOn(LocalStepper.prototype, 'step');
    const events: TrainerEvent[] = [];
    const lab = await service(true, (name, payload) => { if (name === 'trainerEvent') events.push(payload as TrainerEvent); });
    const end = Date.now() + 60_000;
    while (step.mock.calls.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 5)); // under way
    expect(step.mock.calls.length).toBeGreaterThanOrEqual(3);
    const answer = await lab.handle('train', { variant: 'modern', recipe: { epochs: 1, batchSize: 32 }, limit: 128, testLimit: 50, seed: 2 });
    expect(answer.ok).toBe(true);
    const taken = await lab.ownEngineWarm;
    expect(taken).toBeGreaterThanOrEqual(3);
    expect(taken).toBeLessThan(VARIANT_NAMES.length * WARM_UP_STEPS);
    while (!events.some((e) => e.type === 'done') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(events.find((e) => e.type === 'done')).toMatchObject({ reason: 'completed' });
  });
});
