// What the main process follows of a training run: the taskbar/dock progress
// and whether a trained model would be lost on quit. Pure state machines fed
// with the worker's events and the results of the renderer's requests.
import type { InvokeName, Result } from '../common/contract.js';
import type { TrainerEvent, VariantName } from '../common/protocol.js';
import { createLabIntl, type LabIntl } from '../common/i18n/index.js';

export type ProgressMode = 'none' | 'normal' | 'indeterminate' | 'error' | 'paused';
/** Arguments for BrowserWindow.setProgressBar: fraction in [0, 1], or −1 to remove the bar. */
export interface ProgressUpdate { fraction: number; mode: ProgressMode }

const CLEAR: ProgressUpdate = { fraction: -1, mode: 'none' };

/** Follows one run at a time; returns a new taskbar state when it changes. */
export class TaskbarProgress {
  private runId: string | null = null;
  private epochs = 1;
  private batchesPerEpoch = 1;
  private fraction = 0;
  private last: ProgressUpdate = CLEAR;

  onTrainerEvent(event: TrainerEvent): ProgressUpdate | null {
    switch (event.type) {
      case 'started':
        this.runId = event.runId;
        this.epochs = Math.max(1, event.recipe.epochs);
        this.batchesPerEpoch = Math.max(1, event.batchesPerEpoch);
        this.fraction = 0;
        return this.set({ fraction: 0, mode: 'normal' });
      case 'batch': {
        if (event.runId !== this.runId) return null;
        const perEpoch = Math.max(1, event.batchesPerEpoch || this.batchesPerEpoch);
        // epoch and batch count from 1
        this.fraction = clamp01(((event.epoch - 1) * perEpoch + event.batch) / (this.epochs * perEpoch));
        return this.set({ fraction: this.fraction, mode: this.last.mode === 'paused' ? 'paused' : 'normal' });
      }
      case 'epoch':
        if (event.runId !== this.runId) return null;
        this.epochs = Math.max(1, event.epochs);
        this.fraction = clamp01(event.epoch / this.epochs);
        return this.set({ fraction: this.fraction, mode: this.last.mode === 'paused' ? 'paused' : 'normal' });
      case 'state':
        if (event.runId !== this.runId) return null;
        if (event.phase === 'paused') return this.set({ fraction: this.fraction, mode: 'paused' });
        if (event.phase === 'running') return this.set({ fraction: this.fraction, mode: 'normal' });
        if (event.phase === 'loading') return this.set({ fraction: 0, mode: 'indeterminate' });
        return null; // 'stopping' keeps the bar; 'idle' follows 'done' or 'error'
      case 'done':
        if (event.runId !== this.runId) return null;
        this.runId = null;
        return this.set(CLEAR);
      case 'error':
        if (event.runId !== this.runId) return null;
        this.runId = null;
        return this.set({ fraction: Math.max(this.fraction, 0.01), mode: 'error' });
      default:
        return null;
    }
  }

  /** The trainer process died: show the bar red until the next run starts. */
  onTrainerCrashed(): ProgressUpdate | null {
    if (this.runId === null && this.last.mode === 'none') return null;
    this.runId = null;
    return this.set({ fraction: Math.max(this.fraction, 0.01), mode: 'error' });
  }

  /** A fresh trainer after a restart: nothing is running. */
  onTrainerRestarted(): ProgressUpdate | null {
    this.runId = null;
    return this.set(CLEAR);
  }

  private set(next: ProgressUpdate): ProgressUpdate | null {
    if (next.fraction === this.last.fraction && next.mode === this.last.mode) return null;
    this.last = next;
    return next;
  }
}

const clamp01 = (value: number): number => (Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0);

/**
 * Is there a trained model the user has not saved? A finished run (completed,
 * stopped or diverged: all keep weights worth saving) makes it so; saving or
 * opening a model, or losing the trainer, makes it not.
 */
export class UnsavedModelTracker {
  private unsaved = false;
  private variant: VariantName | null = null;

  get hasUnsavedModel(): boolean {
    return this.unsaved;
  }

  /** The variant of the run that produced the unsaved model (for the default save name). */
  get unsavedVariant(): VariantName | null {
    return this.unsaved ? this.variant : null;
  }

  onTrainerEvent(event: TrainerEvent): void {
    if (event.type === 'started') this.variant = event.variant;
    if (event.type === 'done') this.unsaved = true;
  }

  onInvokeResult(name: InvokeName, result: Result<unknown>): void {
    if (!result.ok) return;
    if (name === 'saveModel' || name === 'openModel') this.unsaved = false;
    if (name === 'openModelDialog' && result.value !== null) this.unsaved = false;
    if (name === 'restartTrainer') this.unsaved = false; // the new trainer starts without the old model
    if (name === 'restoreRecovery') {
      // The recovered run is open again, unsaved: quitting asks, as after the run itself.
      this.unsaved = true;
      this.variant = (result.value as { variant: VariantName }).variant;
    }
  }

  /** The trainer process died and took its model with it: there is nothing left to save. */
  onTrainerCrashed(): void {
    this.unsaved = false;
  }
}

/** The quit question, in the menu's language; the button order is quitChoice's. */
export const quitPrompt = (lab: LabIntl) => ({
  type: 'warning' as const,
  message: lab.t('main.quit.message'),
  detail: lab.t('main.quit.detail'),
  buttons: [lab.t('main.quit.save'), lab.t('main.quit.quit'), lab.t('common.cancel')],
  defaultId: 0,
  cancelId: 2,
});
export const QUIT_PROMPT = quitPrompt(createLabIntl('en'));
export type QuitChoice = 'save' | 'quit' | 'cancel';
export const quitChoice = (buttonIndex: number): QuitChoice => (buttonIndex === 0 ? 'save' : buttonIndex === 1 ? 'quit' : 'cancel');

/** A model name that passes the contract's name rule: "lenet5 2025-03-07 14-05". */
export function defaultModelName(variant: VariantName | null, now: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}-${pad(now.getMinutes())}`;
  return `${variant ?? 'model'} ${stamp}`;
}
