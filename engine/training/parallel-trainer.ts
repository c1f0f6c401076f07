// Synchronous data-parallel training on both cores (Node only). One tfjs-wasm engine uses one core,
// so two worker threads each hold a full copy of the model and optimizer and, per step, compute the
// gradients of one half of the batch. They exchange them through a SharedArrayBuffer, meet at a barrier,
// and each averages both halves (weighted by their sizes, in the same order) and applies the same update:
// the copies stay bit-identical, and the step equals one engine's step on the whole batch up to float
// rounding (the mean of two halves' mean-loss gradients is the whole batch's mean-loss gradient).
//
// This thread only coordinates: it hands out each step's images (the same shuffled order and
// augmentation draws the single-engine loop uses), collects loss and accuracy, and copies the weights
// back into its own model when the loop needs them (weights events, evaluation, the end of the run).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplit } from '../data/dataset.js';
import type { BackendName, Recipe } from '../protocol.js';
import type { VariantSpec } from '../models/variants.js';
import { getVariant } from '../models/variants.js';
import { errorMessage } from '../errors.js';
import { layerOf, trainableVariables, type Augment, type StepOutcome, type Stepper } from './step.js';
import type { ToCoordinator, ToWorker, WorkerSetup } from './parallel-worker.js';

export const PARALLEL_WORKERS = 2;

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
  /** The coordinator's model: the workers start from its weights, and sync() copies theirs back into it. */
  model: tfl.LayersModel;
  spec: VariantSpec;
  recipe: Recipe;
  split: DataSplit;
  /** Train on the first `count` images of `split`. */
  count: number;
  numClasses: number;
  backend: BackendName;
  /** Filled in as the run goes: worker tensor counts at each sync(), and whether both copies matched at the end. */
  report?: { workerTensorCounts: number[][]; copiesIdentical: boolean | null };
}

let liveThreads = 0;
/** Training threads started and not yet exited (0 whenever no parallel run is in progress). */
export const liveParallelThreads = (): number => liveThreads;

/** One worker thread and its strictly ordered request/reply queue. */
class Link {
  private readonly pending: { resolve: (m: ToCoordinator) => void; reject: (e: Error) => void }[] = [];
  // Messages that arrived before anyone asked for them (the ready signal can beat next()).
  private readonly inbox: ToCoordinator[] = [];
  private failure: Error | null = null;
  private exited = false;

  constructor(readonly worker: Worker, readonly rank: number) {
    liveThreads++;
    worker.on('message', (message: ToCoordinator) => {
      if (message.type === 'error') return this.fail(new Error(`training thread ${rank}: ${message.message}`));
      const waiter = this.pending.shift();
      if (waiter) waiter.resolve(message);
      else this.inbox.push(message);
    });
    worker.on('error', (e) => this.fail(new Error(`training thread ${rank} failed: ${errorMessage(e)}`)));
    worker.on('exit', (code) => {
      this.exited = true;
      liveThreads--;
      this.fail(new Error(`training thread ${rank} exited (code ${code})`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.splice(0)) p.reject(this.failure);
  }

  /** The next message from the thread (its ready signal or the reply to a request). */
  next(): Promise<ToCoordinator> {
    const early = this.inbox.shift();
    if (early) return Promise.resolve(early);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  request(message: ToWorker, transfer: ArrayBuffer[] = []): Promise<ToCoordinator> {
    const reply = this.next();
    if (!this.failure) this.worker.postMessage(message, transfer);
    return reply;
  }

  send(message: ToWorker): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  async close(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }
}

function expectReply<T extends ToCoordinator['type']>(message: ToCoordinator, type: T): Extract<ToCoordinator, { type: T }> {
  if (message.type !== type) throw new Error(`training thread answered '${message.type}', expected '${type}'`);
  return message as Extract<ToCoordinator, { type: T }>;
}

/** The Trainer's step on two worker threads, one half of each batch per thread. */
export class ParallelStepper implements Stepper {
  readonly layerNames: string[];
  private sentOrder: Uint32Array | null = null;
  private sequence = 0;
  private syncedAt = -1;

  private constructor(private readonly links: Link[], private readonly options: ParallelStepperOptions) {
    this.layerNames = [...new Set(trainableVariables(options.model).map((v) => layerOf(v.name)))];
  }

  /** Starts both threads (each loads its own tfjs backend) and waits until they hold the model. */
  static async start(options: ParallelStepperOptions): Promise<ParallelStepper> {
    const { model, spec, recipe, split, count, numClasses, backend } = options;
    if (getVariant(spec.name) !== spec) throw new Error(`parallel training needs a registered variant; '${spec.name}' was changed after registration`);
    const variables = trainableVariables(model);
    const parameterCount = variables.reduce((sum, v) => sum + v.size, 0);
    const pixels = split.rows * split.cols;
    // The training images once, shared by both threads (no per-thread copy).
    const images = new SharedArrayBuffer(count * pixels);
    new Uint8Array(images).set(split.images.subarray(0, count * pixels));
    const labels = new SharedArrayBuffer(count);
    new Uint8Array(labels).set(split.labels.subarray(0, count));
    const setup: Omit<WorkerSetup, 'rank'> = {
      variant: spec.name, recipe, backend, numClasses,
      images, labels, count, rows: split.rows, cols: split.cols,
      // One gradient slot per thread, its loss and image count, and the barrier's step counters.
      gradients: new SharedArrayBuffer(PARALLEL_WORKERS * parameterCount * 4),
      header: new SharedArrayBuffer(PARALLEL_WORKERS * 2 * 8),
      barrier: new SharedArrayBuffer(PARALLEL_WORKERS * 4),
      weights: variables.map((v) => Float32Array.from(v.dataSync())),
    };
    const url = parallelWorkerUrl();
    const links = Array.from({ length: PARALLEL_WORKERS }, (_, rank) =>
      new Link(new Worker(url, { workerData: { ...setup, rank } satisfies WorkerSetup }), rank));
    try {
      for (const link of links) expectReply(await link.next(), 'ready');
    } catch (e) {
      await Promise.all(links.map((l) => l.close()));
      throw e;
    }
    return new ParallelStepper(links, options);
  }

  async step(order: Uint32Array, start: number, end: number, augment: Augment, wantNorms: boolean): Promise<StepOutcome> {
    if (order !== this.sentOrder) {
      for (const link of this.links) link.send({ type: 'order', order });
      this.sentOrder = order;
    }
    const n = end - start;
    // The same draws, in the same order, as BatchMaker.make on the whole batch: two per image.
    const draws = augment ? Float64Array.from({ length: 2 * n }, () => augment.random()) : null;
    const firstHalf = Math.ceil(n / 2);
    const sequence = ++this.sequence;
    const replies = await Promise.all(this.links.map((link) => {
      const from = link.rank === 0 ? 0 : firstHalf;
      const to = link.rank === 0 ? firstHalf : n;
      return link.request({
        type: 'step', sequence, start: start + from, end: start + to,
        ...(augment && draws ? { maxShift: augment.maxShift, draws: draws.slice(2 * from, 2 * to) } : {}),
        wantNorms: wantNorms && link.rank === 0,
      });
    }));
    const [first, second] = replies.map((r) => expectReply(r, 'step'));
    return {
      loss: first!.loss, correct: first!.correct + second!.correct, fault: first!.fault,
      ...(first!.norms ? { norms: first!.norms } : {}),
    };
  }

  /** Copies thread 0's weights into the coordinator's model, and records each thread's tensor count. */
  async sync(): Promise<void> {
    if (this.syncedAt === this.sequence) return;
    this.syncedAt = this.sequence;
    const replies = (await Promise.all(this.links.map((l) => l.request({ type: 'weights' })))).map((r) => expectReply(r, 'weights'));
    const weights = replies[0]!.weights;
    const variables = trainableVariables(this.options.model);
    tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(weights[i]!, v.shape))));
    const report = this.options.report;
    if (report) {
      report.workerTensorCounts.push(replies.map((r) => r.tensors));
      const identical = replies.every((r) => r.weights.every((w, i) => bitEqual(w, weights[i]!)));
      report.copiesIdentical = (report.copiesIdentical ?? true) && identical;
    }
  }

  async setLearningRate(learningRate: number): Promise<void> {
    await Promise.all(this.links.map((l) => l.request({ type: 'learningRate', learningRate })));
  }

  /** Ends both threads; after this resolves none is left running. */
  async dispose(): Promise<void> {
    await Promise.all(this.links.map((l) => l.close()));
  }
}

function bitEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
