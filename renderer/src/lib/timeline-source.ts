// Which run the Filters timeline replays: the run trained in this page, or the snapshots saved with the
// model that is open. Pure, so the rule "never kernels of one model under another's labels" is tested alone.
import type { MessageKey } from '../../../common/i18n/index.js';
import type { VariantName } from '../../../common/protocol.js';
import type { TensorData } from './wire-tensor.js';

export type TimelineSource = 'run' | 'model';

export interface TimelineInputs {
  /** A run is going (or loading) in this page. */
  trainingActive: boolean;
  /** The open model is the page's last run ('run') or one opened, restored or loaded at launch ('opened'). */
  origin: 'run' | 'opened';
  /** The variant of the page's last run (null: none this session). */
  trainingVariant: VariantName | null;
  /** The variant of the open model. */
  modelVariant: VariantName;
}

/** A run in progress, or the open model when it is that run: the live snapshots; otherwise the open model's saved ones. */
export function timelineSource(inputs: TimelineInputs): TimelineSource {
  if (inputs.trainingActive) return 'run';
  return inputs.origin === 'run' && inputs.trainingVariant === inputs.modelVariant ? 'run' : 'model';
}

/**
 * True when every kernel of a snapshot is a weight of the open model with the same shape: a snapshot of another
 * variant (or a model still loading) is never drawn under this model's layer labels.
 */
export function snapshotFits(snapshot: ReadonlyMap<string, TensorData>, weights: ReadonlyMap<string, TensorData>): boolean {
  if (snapshot.size === 0) return false;
  for (const [name, tensor] of snapshot) {
    const own = weights.get(name);
    if (!own || own.shape.length !== tensor.shape.length || own.shape.some((d, i) => d !== tensor.shape[i])) return false;
  }
  return true;
}

export type TimelineNote = 'live' | 'run' | 'saved' | 'loading' | 'noneSaved' | 'mismatch';

/** What the timeline's caption says about where its snapshots come from. */
export function timelineNote(source: TimelineSource, state: { trainingActive: boolean; loading: boolean; count: number; fits: boolean }): TimelineNote {
  if (source === 'run') return state.trainingActive ? 'live' : 'run';
  if (state.loading) return 'loading';
  if (state.count === 0) return 'noneSaved';
  return state.fits ? 'saved' : 'mismatch';
}

/** The caption of each note (named in full, so the message-key check finds them). */
export const TIMELINE_NOTE_KEYS = {
  live: 'filters.timeline.note.live',
  run: 'filters.timeline.note.run',
  saved: 'filters.timeline.note.saved',
  loading: 'filters.timeline.note.loading',
  noneSaved: 'filters.timeline.note.noneSaved',
  mismatch: 'filters.timeline.note.mismatch',
} as const satisfies Record<TimelineNote, MessageKey>;
