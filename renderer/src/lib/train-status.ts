// The Train view's status words: the phase badge, the one-line status, the end-of-run
// note. Pure: the run's figures and the intl object come in, strings go out.
import type { LabIntl, MessageKey } from '../../../common/i18n/index.js';
import type { RunPhase } from '../../../common/protocol.js';

export type DoneReason = 'completed' | 'stopped' | 'diverged';

const PHASE_KEYS: Record<RunPhase, MessageKey> = {
  idle: 'train.phase.idle',
  loading: 'train.phase.loading',
  running: 'train.phase.running',
  paused: 'train.phase.paused',
  stopping: 'train.phase.stopping',
};
const DONE_PHASE_KEYS: Record<DoneReason, MessageKey> = {
  completed: 'train.phase.finished',
  stopped: 'train.phase.stopped',
  diverged: 'train.phase.diverged',
};
const DONE_HEADING_KEYS: Record<DoneReason, MessageKey> = {
  completed: 'train.done.completed',
  stopped: 'train.done.stopped',
  diverged: 'train.done.diverged',
};

/** The badge next to "Progress": the phase, or how the last run ended once idle. */
export function phaseLabel(phase: RunPhase, done: { reason: DoneReason } | null, lab: LabIntl): string {
  return lab.t(phase === 'idle' && done ? DONE_PHASE_KEYS[done.reason] : PHASE_KEYS[phase]);
}

/** The end-of-run note's first words. */
export function doneHeading(reason: DoneReason, lab: LabIntl): string {
  return lab.t(DONE_HEADING_KEYS[reason]);
}

/**
 * The end-of-run sentence from the event's figures (the trainer's own message is English, for logs):
 * how many epochs ran and the test accuracy, or, when the loss blew up, what to try instead.
 */
export function doneSummary(done: { reason: DoneReason; epochsCompleted: number; testAccuracy: number }, learningRate: number | undefined, lab: LabIntl): string {
  const values = { epochs: done.epochsCompleted, accuracy: lab.percent(done.testAccuracy, 2) };
  if (done.reason === 'diverged') return lab.t('train.done.summary.diverged', { lr: learningRate === undefined ? '—' : lab.decimal(learningRate, 6) });
  return lab.t(done.reason === 'stopped' ? 'train.done.summary.stopped' : 'train.done.summary.completed', values);
}

/** "wasm", or "wasm on 2 cores" when two data-parallel engines train. */
export function backendText(backend: string | null, engines: number | undefined, lab: LabIntl): string {
  return engines === 2 ? lab.t('train.backendTwoCores', { backend: backend ?? '—' }) : (backend ?? '—');
}

/**
 * The run's engines after an `engines` event: a run that began on one engine while the second started
 * has two from the step it joined, or stays on one with the reason.
 */
export function withEngines<T extends { engines?: 1 | 2; enginesNote?: string }>(started: T, event: { engines: 1 | 2; enginesNote?: string }): T {
  return { ...started, engines: event.engines, ...(event.enginesNote !== undefined ? { enginesNote: event.enginesNote } : {}) };
}

export interface StatusFigures {
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  imagesPerSecond: number;
  etaSeconds: number | null;
}

/** "epoch 1/3 · batch 40/94 · 1,234 img/s · ETA 0:42 · wasm on 2 cores", or "Not started" before the first batch. */
export function statusLine(phase: RunPhase, hasBatches: boolean, p: StatusFigures, backend: string, lab: LabIntl): string {
  if (!hasBatches && phase === 'idle') return lab.t('train.notStarted');
  return lab.t('train.status', {
    epoch: p.epoch,
    epochs: p.epochs,
    batch: lab.count(p.batch),
    batches: lab.count(p.batchesPerEpoch),
    speed: lab.count(p.imagesPerSecond),
    eta: lab.clock(phase === 'idle' ? 0 : p.etaSeconds),
    backend,
  });
}
