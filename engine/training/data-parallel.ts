// What both ranks of data-parallel training run (Node only: SharedArrayBuffer and Atomics).
//
// Rank 0 is the training loop's own thread and model; rank 1 is one worker thread with a copy.
// A step: rank 0 writes rank 1's half of the batch into the control block and wakes it; each rank
// computes the gradients of its half into its slot; both meet at a barrier; each averages the two
// slots (weighted by the halves' sizes, the same arithmetic in the same order); each updates its half
// of the parameters and publishes it through shared memory, and after a second barrier each copies
// in the other's half. The copies stay bit-identical and the step equals one engine's step on the whole
// batch up to float rounding. Nothing passes through an event loop on the way: a step costs no message.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplit } from '../data/dataset.js';
import type { Recipe } from '../../common/protocol.js';
import type { VariantSpec } from '../../common/network/variants.js';
import { BatchGradients, ModelUpdater, type StepKind, type UpdaterState, type WeightShare } from './step.js';

export const RANKS = 2;

/** Slots in the control block (Int32). */
export const Control = {
  /** Bumped by rank 0 for every command; rank 1 waits on it. */
  Sequence: 0,
  Command: 1,
  /** Rank 1's half of the batch: [start, end) of the order. */
  Start: 2,
  End: 3,
  /** Set by a rank that failed; the other stops waiting. Its message is in `failure`. */
  Failed: 4,
  /** Per rank: the last sequence it reached the barrier with. */
  Barrier: 5,
  /** Per rank: the last sequence whose share of the new weights it published. */
  Exchange: 7,
  Size: 9,
} as const;

/** What rank 0 asks of rank 1: a step, its weights (to compare), or the end of the run. */
export const Command = { Step: 1, Weights: 2, End: 3 } as const;

/** Slots in the numbers block (Float64), before the augmentation draws. */
export const Numbers = { LearningRate: 0, MaxShift: 1, Draws: 2 } as const;

/** Per rank and step parity in the header block (Float64). */
const Header = { Loss: 0, Count: 1, Correct: 2, Tensors: 3, Size: 4 } as const;
type HeaderField = (typeof Header)[keyof typeof Header];

/**
 * What both ranks must agree on: the shared memory's layout (and `version`, bumped when the exchange or the run's setup changes
 * without it). Rank 1 always runs compiled code (dist/), also when rank 0 runs from the sources (tests): a build
 * older than the sources paired two layouts and hung at the first barrier. Rank 1 says its protocol when it
 * starts, and rank 0 refuses another.
 */
export const PROTOCOL = JSON.stringify({ version: 4, ranks: RANKS, Control, Command, Numbers, Header });

/** How long one wait lasts before looking at the failure flag again. */
const POLL_MS = 200;
/** How long a rank waits at the barrier before it gives the other up (a half-step takes well under a second, even on the cpu backend; a machine deep in swap may need far longer). */
const SILENCE_MS = 60_000;

/** Everything the two ranks share: the training images, the epoch's order and the per-step exchange. */
export interface SharedBuffers {
  /** The training images and labels, where the dataset keeps them (byte offsets) or copied here. */
  images: SharedArrayBuffer;
  imagesOffset: number;
  labels: SharedArrayBuffer;
  labelsOffset: number;
  count: number;
  rows: number;
  cols: number;
  order: SharedArrayBuffer;
  /** float32: one gradient slot per rank and step parity (a rank may start the next step while the other still averages). */
  gradients: SharedArrayBuffer;
  header: SharedArrayBuffer;
  control: SharedArrayBuffer;
  numbers: SharedArrayBuffer;
  /** float32: rank 1's weights, on request (to check both copies agree). */
  weights: SharedArrayBuffer;
  /** float32: each step's new weights, each rank writing its share. */
  updated: SharedArrayBuffer;
  failure: SharedArrayBuffer;
}

export function createSharedBuffers(split: DataSplit, count: number, parameters: number, batchSize: number): SharedBuffers {
  const pixels = split.rows * split.cols;
  const images = shared(split.images.subarray(0, count * pixels));
  const labels = shared(split.labels.subarray(0, count));
  return {
    images: images.buffer, imagesOffset: images.byteOffset, labels: labels.buffer, labelsOffset: labels.byteOffset,
    count, rows: split.rows, cols: split.cols,
    order: new SharedArrayBuffer(count * 4),
    gradients: new SharedArrayBuffer(RANKS * 2 * parameters * 4),
    header: new SharedArrayBuffer(RANKS * 2 * Header.Size * 8),
    control: new SharedArrayBuffer(Control.Size * 4),
    numbers: new SharedArrayBuffer((Numbers.Draws + 2 * batchSize) * 8),
    weights: new SharedArrayBuffer(parameters * 4),
    updated: new SharedArrayBuffer(parameters * 4),
    failure: new SharedArrayBuffer(1024),
  };
}

/** `bytes` itself where it already lies in shared memory (the dataset reader puts it there), else a shared copy. */
function shared(bytes: Uint8Array): Uint8Array<SharedArrayBuffer> {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes as Uint8Array<SharedArrayBuffer>;
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.length));
  copy.set(bytes);
  return copy;
}

export const sharedSplit = (b: SharedBuffers): DataSplit => ({
  images: new Uint8Array(b.images, b.imagesOffset, b.count * b.rows * b.cols), labels: new Uint8Array(b.labels, b.labelsOffset, b.count),
  count: b.count, rows: b.rows, cols: b.cols,
});

/**
 * The batch's mean gradient, elements [start, end), from its halves' (each the mean over its `n` images;
 * `total` = both n): the arithmetic both ranks use, and one engine standing in for both (parallel-trainer.ts).
 */
export function meanOfHalves(halves: readonly { n: number; slot: Float32Array }[], total: number, mean: Float32Array, start: number, end: number): void {
  const first = halves[0]!.slot, firstWeight = halves[0]!.n / total;
  const second = halves[1]?.slot, secondWeight = (halves[1]?.n ?? 0) / total;
  // Plain locals in the loop: reading through objects here cost ~1.5 ms per step.
  if (second) for (let j = start; j < end; j++) mean[j] = first[j]! * firstWeight + second[j]! * secondWeight;
  else mean.set(first.subarray(start, end), start);
}

export interface HalfOutcome { loss: number; correct: number; fault: string | null; norms?: number[] }

/** One rank: its model copy, its optimizer, and its side of the exchange. */
export class DataParallelRank {
  readonly updater: ModelUpdater;
  readonly control: Int32Array;
  readonly numbers: Float64Array;
  readonly order: Uint32Array;
  readonly gradients: BatchGradients;
  private readonly slots: Float32Array[];
  private readonly header: Float64Array;
  private readonly mean: Float32Array;
  private readonly other: number;
  private readonly updated: Float32Array;
  /** This rank's share of the parameters (rank 0 the first half, rank 1 the rest; split at a multiple of 4). */
  private readonly share: [number, number];

  /**
   * `continues`, when a run already trained on one engine: rank 0 carries on with that engine's updater and
   * gradients (a LocalStepper's), rank 1 starts its updater from their state (UpdaterState).
   */
  constructor(readonly rank: number, model: tfl.LayersModel, spec: VariantSpec, recipe: Recipe,
    split: DataSplit, numClasses: number, readonly shared: SharedBuffers, kind: StepKind,
    continues?: { updater: ModelUpdater; gradients: BatchGradients } | UpdaterState) {
    if (continues && 'updater' in continues) {
      this.updater = continues.updater;
      this.gradients = continues.gradients;
    } else {
      this.updater = new ModelUpdater(model, recipe, continues);
      this.gradients = new BatchGradients(model, spec, recipe, split, numClasses, this.updater, kind);
    }
    const p = this.updater.size;
    this.slots = Array.from({ length: RANKS * 2 }, (_, i) => new Float32Array(shared.gradients, i * p * 4, p));
    this.header = new Float64Array(shared.header);
    this.control = new Int32Array(shared.control);
    this.numbers = new Float64Array(shared.numbers);
    this.order = new Uint32Array(shared.order);
    this.mean = new Float32Array(p);
    this.other = 1 - rank;
    this.updated = new Float32Array(shared.updated);
    const middle = (p >> 3) << 2;
    this.share = rank === 0 ? [0, middle] : [middle, p];
  }

  private slotOf(rank: number, sequence: number): number {
    return rank * 2 + (sequence & 1);
  }

  private headerAt(rank: number, sequence: number, field: HeaderField): number {
    return this.slotOf(rank, sequence) * Header.Size + field;
  }

  /** This rank's half: images order[start..end) with their shift draws; its gradients go to its slot. */
  computeHalf(sequence: number, start: number, end: number, draws: ArrayLike<number> | null, maxShift: number): void {
    const n = end - start;
    let loss = 0, correct = 0;
    if (n > 0) {
      let next = 0;
      const augment = draws && maxShift > 0 ? { maxShift, random: () => draws[next++]! } : undefined;
      ({ loss, correct } = this.gradients.compute(this.order, start, end, augment, this.slots[this.slotOf(this.rank, sequence)]!));
    }
    this.header[this.headerAt(this.rank, sequence, Header.Loss)] = loss;
    this.header[this.headerAt(this.rank, sequence, Header.Count)] = n;
    this.header[this.headerAt(this.rank, sequence, Header.Correct)] = correct;
  }

  /**
   * Both halves' mean gradient over this rank's share of the parameters, applied by its optimizer; the
   * other share from the other rank; the whole batch's loss and correct count.
   */
  combine(sequence: number, wantNorms: boolean): HalfOutcome {
    const halves = [0, 1]
      .map((r) => ({ loss: this.header[this.headerAt(r, sequence, Header.Loss)]!, n: this.header[this.headerAt(r, sequence, Header.Count)]!, slot: this.slots[this.slotOf(r, sequence)]! }))
      .filter((h) => h.n > 0);
    const total = halves.reduce((sum, h) => sum + h.n, 0);
    const loss = halves.reduce((sum, h) => sum + h.loss * (h.n / total), 0);
    const correct = [0, 1].reduce((sum, r) => sum + this.header[this.headerAt(r, sequence, Header.Correct)]!, 0);
    const mean = this.mean;
    const [from, to] = this.share;
    // The norms need every parameter's gradient; the update only this rank's share.
    meanOfHalves(halves, total, mean, wantNorms ? 0 : from, wantNorms ? mean.length : to);
    const share: WeightShare = { from, to, exchange: (weights) => this.exchange(sequence, weights) };
    const { fault, norms } = this.updater.update(loss, mean, wantNorms, share);
    return { loss, correct, fault, ...(norms ? { norms } : {}) };
  }

  /** Publishes this rank's share of the new weights, waits for the other's, and copies it in. */
  private exchange(sequence: number, weights: Float32Array): void {
    const [from, to] = this.share;
    this.updated.set(weights.subarray(from, to), from);
    this.arrive(sequence, Control.Exchange);
    if (from > 0) weights.set(this.updated.subarray(0, from));
    if (to < weights.length) weights.set(this.updated.subarray(to), to);
  }

  /**
   * Marks this rank as at `sequence` and waits for the other; throws if the other rank failed. `barrier`:
   * the step's first meeting (gradients ready) or its second (new weights published).
   */
  arrive(sequence: number, barrier: typeof Control.Barrier | typeof Control.Exchange = Control.Barrier): void {
    const c = this.control;
    Atomics.store(c, barrier + this.rank, sequence);
    Atomics.notify(c, barrier + this.rank);
    const deadline = performance.now() + SILENCE_MS;
    for (;;) {
      const seen = Atomics.load(c, barrier + this.other);
      if (seen >= sequence) return;
      if (Atomics.load(c, Control.Failed) !== 0) throw new Error(`training thread ${this.other}: ${this.failureMessage()}`);
      // A thread that died without a word (its exit event cannot reach a thread blocked here).
      if (performance.now() > deadline) throw new Error(`training thread ${this.other} stopped answering (no step for ${SILENCE_MS / 1000} s)`);
      Atomics.wait(c, barrier + this.other, seen, POLL_MS);
    }
  }

  /** Records why this rank failed and wakes the other. */
  fail(message: string): void {
    const bytes = new TextEncoder().encode(message).subarray(0, this.shared.failure.byteLength - 1);
    const view = new Uint8Array(this.shared.failure);
    view.fill(0);
    view.set(bytes);
    Atomics.store(this.control, Control.Failed, 1);
    Atomics.notify(this.control, Control.Barrier + this.rank);
    Atomics.notify(this.control, Control.Exchange + this.rank);
    Atomics.notify(this.control, Control.Sequence);
  }

  failureMessage(): string {
    const view = new Uint8Array(this.shared.failure);
    const end = view.indexOf(0);
    return new TextDecoder().decode(view.slice(0, end < 0 ? view.length : end)) || 'failed';
  }

  /** Rank 1's answer to a Weights command: its weights and tensor count, where rank 0 can read them. */
  publishWeights(sequence: number): void {
    new Float32Array(this.shared.weights).set(this.updater.readFlat());
    this.header[this.headerAt(this.rank, sequence, Header.Tensors)] = tf.memory().numTensors;
  }

  /** Rank 1's published weights and tensor count (after it reached the barrier of that command). */
  published(sequence: number): { weights: Float32Array; tensors: number } {
    return { weights: new Float32Array(this.shared.weights), tensors: this.header[this.headerAt(this.other, sequence, Header.Tensors)]! };
  }
}
