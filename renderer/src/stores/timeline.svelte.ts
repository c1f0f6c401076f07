// The Filters timeline of the model that is open: the page's run (live snapshots from the training store),
// or the snapshots saved with the model opened (fetched once per open, kept across view changes).
import type { LabApi } from '../../../common/contract.js';
import type { VariantName } from '../../../common/protocol.js';
import { decodeWireTensors } from '../lib/wire-tensor.js';
import { snapshotFits, timelineNote, timelineSource, type TimelineNote, type TimelineSource } from '../lib/timeline-source.js';
import type { ModelStore } from './model.svelte.js';
import type { TrainingStore, WeightSnapshot } from './training.svelte.js';

interface SavedTimeline {
  openSeq: number;
  name: string;
  variant: VariantName;
  snapshots: WeightSnapshot[];
}

export class TimelineStore {
  private saved = $state.raw<SavedTimeline | null>(null);
  private pending: number | null = null;

  source = $derived.by((): TimelineSource => timelineSource({
    trainingActive: this.training.active,
    origin: this.model.origin,
    trainingVariant: this.training.variant,
    modelVariant: this.model.variant,
  }));

  /** The saved snapshots, only while they belong to the open model (same open, same variant, same kernel shapes). */
  private savedForModel = $derived.by((): SavedTimeline | null => {
    const saved = this.saved;
    if (!saved || saved.openSeq !== this.model.openSeq) return null;
    return saved;
  });

  private fits = $derived.by(() => {
    const saved = this.savedForModel;
    if (!saved || saved.variant !== this.model.variant) return false;
    const weights = this.model.weights;
    return saved.snapshots.every((s) => snapshotFits(s.tensors, weights));
  });

  /** The snapshots the timeline scrubs through. */
  snapshots = $derived.by((): readonly WeightSnapshot[] => {
    if (this.source === 'run') return this.training.snapshots;
    return this.fits ? this.savedForModel!.snapshots : [];
  });

  /** Where they come from, for the caption. */
  note = $derived.by((): TimelineNote => timelineNote(this.source, {
    trainingActive: this.training.active,
    loading: this.source === 'model' && this.savedForModel === null,
    count: this.savedForModel?.snapshots.length ?? 0,
    fits: this.fits,
  }));

  /** The model the timeline belongs to: its name ('' for a run not yet named) and variant. */
  owner = $derived.by((): { name: string; variant: VariantName } => {
    if (this.source === 'model' && this.savedForModel) return { name: this.savedForModel.name, variant: this.savedForModel.variant };
    return { name: this.model.summary?.name ?? '', variant: this.source === 'run' ? (this.training.variant ?? this.model.variant) : this.model.variant };
  });

  constructor(private readonly lab: LabApi, private readonly model: ModelStore, private readonly training: TrainingStore) {}

  /** Fetches the open model's saved snapshots when it is not the page's run (once per open). */
  async refresh(): Promise<void> {
    const openSeq = this.model.openSeq;
    if (this.source !== 'model' || this.saved?.openSeq === openSeq || this.pending === openSeq) return;
    this.pending = openSeq;
    try {
      const result = await this.lab.modelSnapshots({});
      if (openSeq !== this.model.openSeq) return;
      this.saved = result.ok
        ? {
          openSeq, name: result.value.name, variant: result.value.variant,
          snapshots: result.value.snapshots.map((s) => ({ step: s.step, epoch: s.epoch, batch: s.batch, tensors: decodeWireTensors(s.tensors) })),
        }
        : { openSeq, name: this.model.summary?.name ?? '', variant: this.model.variant, snapshots: [] };
    } finally {
      if (this.pending === openSeq) this.pending = null;
    }
  }
}
