// Compare runs: which earlier runs the Train view's charts overlay on the current one. Candidates are the
// saved models (their history is kept with them) and the runs finished earlier in this session; at most
// three are chosen. Saved histories are fetched once and kept.
import type { LabApi, ModelSummary } from '../../../common/contract.js';
import {
  compareCandidates, fromModelHistory, toggleChosen, type CompareCandidate, type RunHistory, type SessionRun,
} from '../lib/compare-runs.js';
import type { ModelStore } from './model.svelte.js';
import type { TrainingStore } from './training.svelte.js';

/** The training store's run, as a run to compare. */
function runOfTraining(training: TrainingStore, id: string, name: string): RunHistory | null {
  if (!training.variant || (training.batches.length === 0 && training.epochs.length === 0)) return null;
  return {
    id, name, variant: training.variant,
    batches: training.batches, epochs: training.epochs, gradientLayers: training.gradientLayers, gradients: training.gradients,
  };
}

export class CompareStore {
  /** Ids of the chosen runs, in the order chosen (that order gives their styles). */
  chosen = $state.raw<string[]>([]);
  saved = $state.raw<ModelSummary[]>([]);
  /** The last choice refused because three were chosen already. */
  refused = $state(false);
  loadingList = $state(false);
  private sessionRuns = $state.raw<SessionRun[]>([]);
  private fetched = $state.raw<Map<string, RunHistory>>(new Map());

  constructor(private readonly lab: LabApi, private readonly training: TrainingStore, private readonly model: ModelStore) {
    lab.onTrainerEvent((event) => {
      // The training store has handled 'done' by now (it subscribed first): keep the finished run.
      if (event.type === 'done') queueMicrotask(() => this.keepFinishedRun(event.runId));
    });
    lab.onModelChanged((summary) => {
      // The page's run saved under a name: its session entry takes the name and stands for the saved copy.
      if (this.model.origin !== 'run' || summary.unsaved || summary.dir === '') return;
      const runId = this.training.runId;
      this.sessionRuns = this.sessionRuns.map((s) => (s.runId === runId ? { ...s, run: { ...s.run, name: summary.name }, savedDir: summary.dir } : s));
    });
  }

  private keepFinishedRun(runId: string): void {
    const run = runOfTraining(this.training, `session:${runId}`, '');
    if (!run || this.sessionRuns.some((s) => s.runId === runId)) return;
    this.sessionRuns = [...this.sessionRuns, { runId, run: { ...run, finishedAt: new Date() } }];
  }

  /** The current run: the page's run (live, or its last one). */
  current = $derived.by((): RunHistory | null =>
    runOfTraining(this.training, 'current', this.model.origin === 'run' ? (this.model.summary?.name ?? '') : ''));

  /** Earlier runs that may be chosen: this session's, then the saved models (lib/compare-runs.ts). */
  candidates = $derived.by((): CompareCandidate[] => compareCandidates(this.sessionRuns, this.saved, {
    runId: this.training.runId,
    // The current run once saved is the current run, not an earlier one.
    dir: this.model.origin === 'run' ? this.model.summary?.dir : undefined,
  }));

  /** The chosen runs whose histories are here, in the order chosen. */
  runs = $derived.by((): RunHistory[] => this.chosen.flatMap((id) => {
    const session = this.sessionRuns.find((s) => s.run.id === id);
    if (session) return [session.run];
    const fetched = this.fetched.get(id);
    return fetched ? [fetched] : [];
  }));

  /** What the charts overlay, in legend order: the current run (when there is one), then the chosen runs. */
  shown = $derived.by((): RunHistory[] => (this.current ? [this.current, ...this.runs] : this.runs));

  /** Lists the saved models (when the picker opens). */
  async refreshList(): Promise<void> {
    this.loadingList = true;
    try {
      const result = await this.lab.listModels({});
      if (result.ok) this.saved = result.value;
    } finally {
      this.loadingList = false;
    }
  }

  /** Chooses or un-chooses a run; a saved model's history is fetched the first time. */
  async toggle(id: string): Promise<{ ok: boolean; message?: string }> {
    const next = toggleChosen(this.chosen, id);
    this.refused = next.refused;
    if (next.refused) return { ok: false };
    this.chosen = next.chosen;
    if (!id.startsWith('saved:') || this.fetched.has(id) || !next.chosen.includes(id)) return { ok: true };
    const result = await this.lab.modelHistory({ dir: id.slice('saved:'.length) });
    if (!result.ok) {
      this.chosen = this.chosen.filter((c) => c !== id);
      return { ok: false, message: result.error.message };
    }
    this.fetched = new Map(this.fetched).set(id, fromModelHistory(id, result.value));
    return { ok: true };
  }

  clear(): void {
    this.chosen = [];
    this.refused = false;
  }
}
