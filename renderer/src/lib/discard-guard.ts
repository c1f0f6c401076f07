// Work is never lost: before an action that replaces the model the page holds, ask
// (Save… / Discard / Cancel) when that model is unsaved. Pure: App supplies ask() and save().
import type { RunPhase } from '../../../common/protocol.js';

/** The actions that replace the page's model. */
export type DiscardAction = 'start' | 'open' | 'new' | 'variant' | 'import' | 'restore';
export type DiscardChoice = 'save' | 'discard' | 'cancel';

export interface ModelState {
  summary: { unsaved: boolean } | null;
  phase: RunPhase;
}

/**
 * True when `action` would throw away unsaved work. A run in progress is unsaved work too,
 * except for Start, which then pauses or resumes (nothing is replaced).
 */
export function mustAskBeforeDiscard(action: DiscardAction, { summary, phase }: ModelState): boolean {
  const running = phase !== 'idle';
  if (action === 'start' && running) return false;
  return running || summary?.unsaved === true;
}

/** Closing the window (browser mode): hold it while the model is unsaved or a run is in progress. */
export function mustHoldUnload(state: ModelState): boolean {
  return state.phase !== 'idle' || state.summary?.unsaved === true;
}

export interface DiscardDeps extends ModelState {
  /** Shows the question; resolves with the choice (Esc or the X is 'cancel'). */
  ask(action: DiscardAction): Promise<DiscardChoice>;
  /** Opens the save dialog; resolves true once the model is saved, false if the user gave up. */
  save(): Promise<boolean>;
}

/** Resolves true when `action` may go ahead: nothing to lose, discarded, or saved first. */
export async function confirmDiscard(action: DiscardAction, deps: DiscardDeps): Promise<boolean> {
  if (!mustAskBeforeDiscard(action, deps)) return true;
  const choice = await deps.ask(action);
  if (choice === 'discard') return true;
  if (choice === 'save') return deps.save();
  return false;
}
