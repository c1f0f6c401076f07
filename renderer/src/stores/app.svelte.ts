// App-wide state that is not about training or the model: host info, toasts for
// failed requests, the trainer-crash banner, and the dialogs menu commands open.
import type { LabApi, LabError, LabInfo, Result } from '../../../common/contract.js';
import type { LocaleStore } from './locale.svelte.js';
import type { DiscardAction, DiscardChoice } from '../lib/discard-guard.js';

export interface Toast {
  id: number;
  kind: 'error' | 'info' | 'success';
  title: string;
  message: string;
}

export interface CrashNotice {
  message: string;
  exitCode: number | null;
}

export type DialogName = 'save' | 'open' | 'about' | 'glossary';

const TOAST_SECONDS = { error: 12, info: 5, success: 4 } as const;

export class AppStore {
  info = $state.raw<LabInfo | null>(null);
  toasts = $state.raw<Toast[]>([]);
  crash = $state.raw<CrashNotice | null>(null);
  /** Browser mode: the WebSocket to the host closed; only a reload helps. */
  connectionLost = $state<string | null>(null);
  /** The dialog on screen (one at a time), or null. */
  dialog = $state<DialogName | null>(null);
  restarting = $state(false);
  /** The action waiting on the "unsaved model" question, or null. */
  discardQuestion = $state<DiscardAction | null>(null);
  private answerDiscardQuestion: ((choice: DiscardChoice) => void) | null = null;
  private afterSaveDialog: (() => void) | null = null;
  private nextToastId = 1;
  private restartListeners = new Set<() => void>();

  constructor(private readonly lab: LabApi, private readonly i18n: LocaleStore) {
    lab.onTrainerCrashed((payload) => {
      this.crash = { message: payload.message, exitCode: payload.exitCode };
    });
  }

  async init(): Promise<void> {
    const info = await this.lab.info({});
    if (info.ok) this.info = info.value;
    else this.fail(this.i18n.t('app.error.reach'), info.error);
  }

  showDialog(name: DialogName): void {
    this.dialog = name;
  }

  /** Closes `name` (if it is still the one on screen: a dialog that replaced it stays). */
  closeDialog(name: DialogName | null = this.dialog): void {
    if (name !== this.dialog) return;
    const closed = this.dialog;
    this.dialog = null;
    if (closed === 'save' && this.afterSaveDialog) {
      const after = this.afterSaveDialog;
      this.afterSaveDialog = null;
      after();
    }
  }

  /** Asks whether to save, discard or keep the unsaved model before `action`. */
  askDiscard(action: DiscardAction): Promise<DiscardChoice> {
    this.answerDiscardQuestion?.('cancel');
    this.discardQuestion = action;
    return new Promise((resolve) => (this.answerDiscardQuestion = resolve));
  }

  answerDiscard(choice: DiscardChoice): void {
    const answer = this.answerDiscardQuestion;
    this.answerDiscardQuestion = null;
    this.discardQuestion = null;
    answer?.(choice);
  }

  /** Opens the save dialog; resolves once it closes (saved or not). */
  saveDialogClosed(): Promise<void> {
    this.showDialog('save');
    return new Promise((resolve) => (this.afterSaveDialog = resolve));
  }

  /** Browser mode: the WebSocket to the host closed. */
  loseConnection(reason: string): void {
    this.connectionLost = reason;
  }

  notify(kind: Toast['kind'], title: string, message = ''): void {
    const toast: Toast = { id: this.nextToastId++, kind, title, message };
    this.toasts = [...this.toasts.slice(-4), toast];
    setTimeout(() => this.dismiss(toast.id), TOAST_SECONDS[kind] * 1000);
  }

  /** Shows a failed request as a toast naming what failed and why. */
  fail(title: string, error: LabError): void {
    this.notify('error', title, this.i18n.error(error));
    // A request that found the trainer dead: offer the restart even if the crash event came before this page.
    if (error.code === 'crashed' && this.connectionLost === null && this.crash === null) this.crash = { message: error.message, exitCode: null };
  }

  /** The value of a Result, or null after showing its error. */
  unwrap<T>(result: Result<T>, title: string): T | null {
    if (result.ok) return result.value;
    this.fail(title, result.error);
    return null;
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((toast) => toast.id !== id);
  }

  /** Called after the trainer was restarted (a fresh worker: fresh model and status). */
  onRestarted(listener: () => void): () => void {
    this.restartListeners.add(listener);
    return () => this.restartListeners.delete(listener);
  }

  async restartTrainer(): Promise<void> {
    this.restarting = true;
    try {
      const result = await this.lab.restartTrainer({});
      if (this.unwrap(result, this.i18n.t('app.error.restart')) !== null) {
        this.crash = null;
        this.notify('success', this.i18n.t('app.restarted'));
        for (const listener of this.restartListeners) listener();
      }
    } finally {
      this.restarting = false;
    }
  }
}
