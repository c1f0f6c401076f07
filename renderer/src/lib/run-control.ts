// Start, pause or resume from anywhere (Space, the menu's Start / Pause): what the
// Train view's buttons do, decided by the run's phase.
import type { LabError, Result } from '../../../common/contract.js';
import type { MessageKey } from '../../../common/i18n/index.js';
import type { RunPhase, TrainConfig } from '../../../common/protocol.js';

export interface RunControlDeps {
  training: {
    phase: RunPhase;
    pause(): Promise<LabError | null>;
    resume(): Promise<LabError | null>;
    start(config: TrainConfig): Promise<Result<{ runId: string }>>;
  };
  trainForm: { config: TrainConfig | null };
  app: {
    fail(title: string, error: LabError): void;
    notify(kind: 'error', title: string, message: string): void;
  };
  nav: { go(view: 'train'): void };
  t(id: MessageKey): string;
  /** Asks before a new run replaces an unsaved model; false = the user kept it. */
  confirmDiscard(action: 'start'): Promise<boolean>;
}

/** Starts a run with the Train form, or pauses / resumes the current one; 'loading' and 'stopping' do nothing. */
export async function startOrPause({ training, trainForm, app, nav, t, confirmDiscard }: RunControlDeps): Promise<void> {
  switch (training.phase) {
    case 'running': {
      const error = await training.pause();
      if (error) app.fail(t('train.error.pause'), error);
      return;
    }
    case 'paused': {
      const error = await training.resume();
      if (error) app.fail(t('train.error.resume'), error);
      return;
    }
    case 'idle': {
      const config = trainForm.config;
      if (!config) {
        nav.go('train');
        app.notify('error', t('train.error.checkRecipe'), t('train.error.checkRecipeDetail'));
        return;
      }
      if (!(await confirmDiscard('start')) || training.phase !== 'idle') return;
      const result = await training.start(config);
      if (!result.ok) app.fail(t('train.error.start'), result.error);
      return;
    }
    default:
      return;
  }
}
