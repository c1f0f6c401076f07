// Sentences about the run and the model that more than one component shows,
// worded through the active language (pure: the intl object is passed in).
import type { LabIntl } from '../../../common/i18n/index.js';
import type { RunPhase } from '../../../common/protocol.js';

export interface ProgressLike {
  epoch: number;
  epochs: number;
  fraction: number;
  etaSeconds: number | null;
}

/** The top bar's progress line: loading, paused at an epoch, or epoch · percent · ETA. */
export function trainingProgressText(phase: RunPhase, p: ProgressLike, lab: LabIntl): string {
  if (phase === 'loading') return lab.t('progress.loading');
  if (phase === 'paused') return lab.t('progress.paused', { epoch: p.epoch, epochs: p.epochs });
  return lab.t('progress.running', { epoch: p.epoch, epochs: p.epochs, percent: lab.percent(p.fraction, 0), eta: lab.clock(p.etaSeconds) });
}

/** Where the top bar's test accuracy comes from: an evaluation (of all or the first N images) or the model's own figure. */
export function accuracySource(evaluated: { count: number } | null, testCount: number, lab: LabIntl): string {
  if (!evaluated) return lab.t('topbar.accuracyFromModel');
  return lab.t('topbar.accuracyFromEvaluation', { all: evaluated.count === testCount ? 'yes' : 'no', count: evaluated.count });
}
