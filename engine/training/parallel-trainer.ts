// Synchronous data-parallel training on both cores (Node only). One tfjs-wasm engine uses one core,
// so the training loop's own thread (rank 0, with the caller's model) computes the gradients of one
// half of every batch while one worker thread (rank 1, with a copy of the model) computes the other.
// They meet through shared memory only (data-parallel.ts), so a step costs no message and no extra
// thread: the two cores run two engines and nothing else. Both apply the same averaged gradient, so
// the copies stay bit-identical and the run equals one engine's run up to float rounding, with the
// same shuffled order and augmentation draws.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplit } from '../data/dataset.js';
import type { BackendName, Recipe } from '../protocol.js';
import type { VariantSpec } from '../models/variants.js';
import { getVariant } from '../models/variants.js';
import { errorMessage } from '../errors.js';
import { Command, Control, DataParallelRank, Numbers, createSharedBuffers } from './data-parallel.js';
import { trainableVariables, type Augment, type StepOutcome, type Stepper } from './step.js';
import type { ToCoordinator, WorkerSetup } from './parallel-worker.js';

export const PARALLEL_WORKERS = 2;

/** Cores this process may use. */
export const availableCores = (): number => os.availableParallelism?.() ?? os.cpus().length;

/**
 * The compiled thread entry. Next to this module once compiled (dist/engine/training/); when this
 * module runs from the TypeScript sources (tests), the build's copy under dist/.
 */
export function parallelWorkerUrl(): URL {
  const sibling = new URL('./parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const built = new URL('../../dist/engine/training/parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error(`parallel training needs the compiled worker ${fileURLToPath(built)}: run npm run build:node`);
}

export interface ParallelStepperOptions {
  /** The training loop's model: rank 0 trains it in place; rank 1 starts from its weights. */
  model: tfl.LayersModel;
  spec: VariantSpec;
  recipe: Recipe;
  split: DataSplit;
  /** Train on the first `count` images of `split`. */
  count: number;
  numClasses: number;
  backend: BackendName;
  /** Filled in as the run goes: both ranks' tensor counts at each sync(), and whether both copies matched every time. */
  report?: { workerTensorCounts: number[][]; copiesIdentical: boolean | null };
}

let liveThreads = 0;
/** Training threads started and not yet exited (0 whenever no parallel run is in progress). */
export const liveParallelThreads = (): number => liveThreads;

/** Starts rank 1 and resolves once it holds the model (or rejects with why it could not start). */
function startHelper(setup: WorkerSetup): Promise<{ worker: Worker; exited: Promise<void> }> {
  const worker = new Worker(parallelWorkerUrl(), { workerData: setup });
  liveThreads++;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => { liveThreads--; resolve(); }));
  return new Promise((resolve, reject) => {
    // Rejects once the thread is gone, so that a failed start leaves no thread behind.
    const failed = (message: string): void => {
      void worker.terminate().finally(() => exited.then(() => reject(new Error(`training thread 1: ${message}`))));
    };
    worker.once('message', (m: ToCoordinator) => (m.type === 'ready' ? resolve({ worker, exited }) : failed(m.message)));
    worker.once('error', (e) => failed(errorMessage(e)));
    void exited.then(() => failed('exited before it was ready'));
  });
}

/** The Trainer's step on both cores: this thread takes the first half of each batch, a worker thread the rest. */
export class ParallelStepper implements Stepper {
  readonly layerNames: string[];
  private sentOrder: Uint32Array | null = null;
  private sequence = 0;
  private syncedAt = -1;
  private learningRate: number;

  private constructor(private readonly rank: DataParallelRank, private readonly helper: { worker: Worker; exited: Promise<void> },
    private readonly options: ParallelStepperOptions) {
    this.layerNames = rank.updater.layerNames;
    this.learningRate = options.recipe.learningRate;
  }

  static async start(options: ParallelStepperOptions): Promise<ParallelStepper> {
    const { model, spec, recipe, split, count, numClasses, backend } = options;
    if (getVariant(spec.name) !== spec) throw new Error(`parallel training needs a registered variant; '${spec.name}' was changed after registration`);
    const variables = trainableVariables(model);
    const parameters = variables.reduce((sum, v) => sum + v.size, 0);
    const shared = createSharedBuffers(split, count, parameters, recipe.batchSize);
    const helper = await startHelper({
      variant: spec.name, recipe, backend, numClasses, shared,
      weights: variables.map((v) => Float32Array.from(v.dataSync())),
    });
    const rank = new DataParallelRank(0, model, spec, recipe, split, numClasses, shared);
    return new ParallelStepper(rank, helper, options);
  }

  /** Publishes a command for rank 1 and wakes it. */
  private command(command: number): number {
    const { control } = this.rank;
    const sequence = ++this.sequence;
    control[Control.Command] = command;
    Atomics.store(control, Control.Sequence, sequence);
    Atomics.notify(control, Control.Sequence);
    return sequence;
  }

  step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): StepOutcome {
    const { rank } = this;
    if (order !== this.sentOrder) {
      rank.order.set(order.subarray(0, rank.order.length));
      this.sentOrder = order;
    }
    const n = end - start;
    // The same draws, in the same order, as BatchMaker.make on the whole batch: two per image.
    const draws = augment ? Float64Array.from({ length: 2 * n }, () => augment.random()) : null;
    const firstHalf = Math.ceil(n / 2);
    const { control, numbers } = rank;
    control[Control.Start] = start + firstHalf;
    control[Control.End] = end;
    numbers[Numbers.LearningRate] = this.learningRate;
    numbers[Numbers.MaxShift] = augment?.maxShift ?? 0;
    if (draws) numbers.set(draws.subarray(2 * firstHalf), Numbers.Draws);
    const sequence = this.command(Command.Step);
    try {
      rank.computeHalf(sequence, start, start + firstHalf, draws, augment?.maxShift ?? 0);
    } catch (e) {
      rank.fail(errorMessage(e));
      throw e;
    }
    rank.arrive(sequence);
    const { loss, correct, fault, norms } = rank.combine(sequence, wantNorms);
    return { loss, correct, fault, ...(norms ? { norms } : {}) };
  }

  /** The model is trained in place; this checks (and reports) that rank 1's copy still equals it. */
  sync(): void {
    if (this.syncedAt === this.sequence) return;
    const sequence = this.command(Command.Weights);
    this.syncedAt = sequence;
    this.rank.arrive(sequence);
    const theirs = this.rank.published(sequence);
    const report = this.options.report;
    if (report) {
      report.workerTensorCounts.push([tf.memory().numTensors, theirs.tensors]);
      report.copiesIdentical = (report.copiesIdentical ?? true) && bitEqual(this.rank.updater.readFlat(), theirs.weights);
    }
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
    this.rank.updater.setLearningRate(learningRate);
  }

  /** Ends rank 1; after this resolves no training thread is left. */
  async dispose(): Promise<void> {
    await this.helper.worker.terminate();
    await this.helper.exited;
  }
}

function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
