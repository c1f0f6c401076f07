import { describe, expect, it } from 'vitest';
import { snapshotFits, timelineNote, timelineSource } from '../../renderer/src/lib/timeline-source.js';

const tensor = (...shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, d) => a * d, 1)) });

describe('timelineSource', () => {
  it('a run in progress always shows its own snapshots, whatever is open', () => {
    expect(timelineSource({ trainingActive: true, origin: 'opened', trainingVariant: 'seed', modelVariant: 'lenet5' })).toBe('run');
  });
  it('the finished run of this page, still open, keeps its live snapshots', () => {
    expect(timelineSource({ trainingActive: false, origin: 'run', trainingVariant: 'modern', modelVariant: 'modern' })).toBe('run');
  });
  it('a model opened after the run shows its own saved snapshots, even of the same variant', () => {
    expect(timelineSource({ trainingActive: false, origin: 'opened', trainingVariant: 'lenet5', modelVariant: 'lenet5' })).toBe('model');
  });
  it('a run of another variant than the open model is never replayed under its labels', () => {
    expect(timelineSource({ trainingActive: false, origin: 'run', trainingVariant: 'seed', modelVariant: 'lenet5' })).toBe('model');
    expect(timelineSource({ trainingActive: false, origin: 'run', trainingVariant: null, modelVariant: 'lenet5' })).toBe('model');
  });
});

describe('snapshotFits', () => {
  const weights = new Map([['C1/kernel', tensor(5, 5, 1, 6)], ['C3/kernel', tensor(5, 5, 6, 16)], ['F6/kernel', tensor(120, 84)]]);
  it('accepts kernels the open model has, with the same shapes', () => {
    expect(snapshotFits(new Map([['C1/kernel', tensor(5, 5, 1, 6)], ['C3/kernel', tensor(5, 5, 6, 16)]]), weights)).toBe(true);
  });
  it('refuses a kernel of another shape, another rank, or a layer the model lacks', () => {
    expect(snapshotFits(new Map([['C1/kernel', tensor(5, 5, 1, 4)]]), weights)).toBe(false);
    expect(snapshotFits(new Map([['C1/kernel', tensor(5, 5, 6)]]), weights)).toBe(false);
    expect(snapshotFits(new Map([['C2/kernel', tensor(5, 5, 1, 6)]]), weights)).toBe(false);
  });
  it('refuses an empty snapshot', () => {
    expect(snapshotFits(new Map(), weights)).toBe(false);
  });
});

describe('timelineNote', () => {
  const base = { trainingActive: false, loading: false, count: 3, fits: true };
  it('the page run: live while training, else the run', () => {
    expect(timelineNote('run', { ...base, trainingActive: true })).toBe('live');
    expect(timelineNote('run', base)).toBe('run');
  });
  it('a saved model: loading, none saved, saved, or not matching', () => {
    expect(timelineNote('model', { ...base, loading: true })).toBe('loading');
    expect(timelineNote('model', { ...base, count: 0 })).toBe('noneSaved');
    expect(timelineNote('model', base)).toBe('saved');
    expect(timelineNote('model', { ...base, fits: false })).toBe('mismatch');
  });
});
