import { describe, expect, it } from 'vitest';
import type { TrainerEvent, TrainerEventOf } from '../../common/protocol.js';
import {
  defaultModelName,
  QUIT_PROMPT,
  quitChoice,
  TaskbarProgress,
  UnsavedModelTracker,
} from '../../main/training-monitor.js';

const runId = 'run-1';
const started = (epochs: number, batchesPerEpoch: number, id = runId): TrainerEventOf<'started'> => ({
  type: 'started', runId: id, variant: 'lenet5', backend: 'cpu',
  recipe: { optimizer: 'sgd', learningRate: 0.01, momentum: 0.9, batchSize: 32, epochs, lrDecay: 1 },
  dataset: 'MNIST', trainCount: batchesPerEpoch * 32, testCount: 100, batchesPerEpoch, seed: 1,
});
const batch = (epoch: number, b: number, batchesPerEpoch: number, id = runId): TrainerEventOf<'batch'> => ({
  type: 'batch', runId: id, epoch, batch: b, batchesPerEpoch, loss: 1, accuracy: 0.5, imagesPerSecond: 100, step: b,
});
const epochEnd = (epoch: number, epochs: number): TrainerEventOf<'epoch'> => ({
  type: 'epoch', runId, epoch, epochs, trainLoss: 1, trainAccuracy: 0.5, testLoss: 1, testAccuracy: 0.5, seconds: 1, imagesPerSecond: 100, learningRate: 0.01,
});
const state = (phase: TrainerEventOf<'state'>['phase']): TrainerEvent => ({ type: 'state', runId, phase });
const done = (reason: TrainerEventOf<'done'>['reason'] = 'completed'): TrainerEvent => ({
  type: 'done', runId, reason, message: 'ok', testAccuracy: 0.9, testLoss: 0.3, backend: 'cpu', imagesPerSecond: 100, epochsCompleted: 2, seconds: 3,
});

describe('TaskbarProgress', () => {
  it('follows a run from start to done, then clears the bar', () => {
    const progress = new TaskbarProgress();
    expect(progress.onTrainerEvent(started(2, 10))).toEqual({ fraction: 0, mode: 'normal' });
    expect(progress.onTrainerEvent(batch(1, 5, 10))).toEqual({ fraction: 0.25, mode: 'normal' });
    expect(progress.onTrainerEvent(batch(1, 10, 10))).toEqual({ fraction: 0.5, mode: 'normal' });
    expect(progress.onTrainerEvent(epochEnd(1, 2))).toBeNull(); // same place: no redundant update
    expect(progress.onTrainerEvent(batch(2, 5, 10))).toEqual({ fraction: 0.75, mode: 'normal' });
    expect(progress.onTrainerEvent(epochEnd(2, 2))).toEqual({ fraction: 1, mode: 'normal' });
    expect(progress.onTrainerEvent(done())).toEqual({ fraction: -1, mode: 'none' });
  });

  it('shows pause and resume without moving the bar', () => {
    const progress = new TaskbarProgress();
    progress.onTrainerEvent(started(1, 4));
    progress.onTrainerEvent(batch(1, 1, 4));
    expect(progress.onTrainerEvent(state('paused'))).toEqual({ fraction: 0.25, mode: 'paused' });
    expect(progress.onTrainerEvent(state('running'))).toEqual({ fraction: 0.25, mode: 'normal' });
    expect(progress.onTrainerEvent(state('stopping'))).toBeNull();
  });

  it('turns red on a training error or a trainer crash, and clears on restart', () => {
    const progress = new TaskbarProgress();
    progress.onTrainerEvent(started(1, 4));
    progress.onTrainerEvent(batch(1, 2, 4));
    expect(progress.onTrainerEvent({ type: 'error', runId, message: 'out of memory' })).toEqual({ fraction: 0.5, mode: 'error' });
    progress.onTrainerEvent(started(1, 4, 'run-2'));
    expect(progress.onTrainerCrashed()).toEqual({ fraction: 0.01, mode: 'error' });
    expect(progress.onTrainerRestarted()).toEqual({ fraction: -1, mode: 'none' });
    expect(new TaskbarProgress().onTrainerCrashed()).toBeNull(); // nothing was showing
  });

  it('ignores events of other runs and never leaves [0, 1]', () => {
    const progress = new TaskbarProgress();
    progress.onTrainerEvent(started(1, 4));
    expect(progress.onTrainerEvent(batch(1, 2, 4, 'stale-run'))).toBeNull();
    expect(progress.onTrainerEvent(batch(3, 9, 4))).toEqual({ fraction: 1, mode: 'normal' });
  });
});

describe('UnsavedModelTracker', () => {
  it('a finished run is unsaved until it is saved', () => {
    const tracker = new UnsavedModelTracker();
    tracker.onTrainerEvent(started(1, 1));
    expect(tracker.hasUnsavedModel).toBe(false);
    tracker.onTrainerEvent(done('stopped'));
    expect(tracker.hasUnsavedModel).toBe(true);
    expect(tracker.unsavedVariant).toBe('lenet5');
    tracker.onInvokeResult('saveModel', { ok: false, error: { code: 'bad-file', message: 'disk full' } });
    expect(tracker.hasUnsavedModel).toBe(true); // a failed save keeps the warning
    tracker.onInvokeResult('listModels', { ok: true, value: [] });
    expect(tracker.hasUnsavedModel).toBe(true);
    tracker.onInvokeResult('saveModel', { ok: true, value: {} });
    expect(tracker.hasUnsavedModel).toBe(false);
    expect(tracker.unsavedVariant).toBeNull();
  });

  it.each([
    ['openModel', { ok: true, value: {} }, false],
    ['openModelDialog', { ok: true, value: {} }, false],
    ['openModelDialog', { ok: true, value: null }, true], // cancelled the picker
    ['restartTrainer', { ok: true, value: { phase: 'idle', runId: null } }, false],
    ['train', { ok: true, value: { runId: 'r' } }, true],
  ] as const)('after %s %j: unsaved is %s', (name, result, stillUnsaved) => {
    const tracker = new UnsavedModelTracker();
    tracker.onTrainerEvent(done('diverged'));
    tracker.onInvokeResult(name, result);
    expect(tracker.hasUnsavedModel).toBe(stillUnsaved);
  });

  it('a crashed trainer leaves nothing to save', () => {
    const tracker = new UnsavedModelTracker();
    tracker.onTrainerEvent(done());
    tracker.onTrainerCrashed();
    expect(tracker.hasUnsavedModel).toBe(false);
  });
});

describe('quit prompt and names', () => {
  it('maps the Save / Quit / Cancel buttons', () => {
    expect(QUIT_PROMPT.message).toBe('Quit without saving the trained model?');
    expect(QUIT_PROMPT.buttons.map((_, i) => quitChoice(i))).toEqual(['save', 'quit', 'cancel']);
    expect(quitChoice(QUIT_PROMPT.cancelId)).toBe('cancel');
    expect(quitChoice(-1)).toBe('cancel');
  });

  it('default model names pass the contract name rule', async () => {
    const { invokeChannels } = await import('../../common/contract.js');
    const name = defaultModelName('lenet5', new Date(2025, 2, 7, 14, 5));
    expect(name).toBe('lenet5 2025-03-07 14-05');
    expect(invokeChannels.saveModel.request.safeParse({ name }).success).toBe(true);
    expect(invokeChannels.saveModel.request.safeParse({ name: defaultModelName(null, new Date()) }).success).toBe(true);
  });
});
