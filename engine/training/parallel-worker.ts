// One thread of data-parallel training (started by parallel-trainer.ts; Node only). It loads its own
// tfjs backend through the ladder, holds a full copy of the model and optimizer, and per step:
// gradients of its half of the batch → its SharedArrayBuffer slot → barrier → the size-weighted mean
// of both slots (the same arithmetic, in the same order, on both threads) → the same update.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backends/ladder.js';
import type { DataSplit } from '../data/dataset.js';
import { getVariant, lossFor } from '../models/variants.js';
import type { BackendName, Recipe, VariantName } from '../protocol.js';
import { errorMessage } from '../errors.js';
import { BatchMaker } from './batches.js';
import { ModelUpdater, computeGradients, countCorrect } from './step.js';

export interface WorkerSetup {
  rank: number;
  variant: VariantName;
  recipe: Recipe;
  backend: BackendName;
  numClasses: number;
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
  count: number;
  rows: number;
  cols: number;
  /** float32, one slot of every trainable parameter per thread. */
  gradients: SharedArrayBuffer;
  /** float64 per thread: its half's mean loss, its image count. */
  header: SharedArrayBuffer;
  /** int32 per thread: the last step it finished writing (the barrier). */
  barrier: SharedArrayBuffer;
  /** The coordinator's initial trainable weights, so both copies start identical. */
  weights: Float32Array[];
}

export type ToWorker =
  | { type: 'order'; order: Uint32Array }
  | { type: 'step'; sequence: number; start: number; end: number; maxShift?: number; draws?: Float64Array; wantNorms: boolean }
  | { type: 'weights' }
  | { type: 'learningRate'; learningRate: number };

export type ToCoordinator =
  | { type: 'ready' }
  | { type: 'step'; loss: number; correct: number; fault: string | null; norms?: number[] }
  | { type: 'weights'; weights: Float32Array[]; tensors: number }
  | { type: 'ok' }
  | { type: 'error'; message: string };

/** How long one wait at the barrier lasts before looking again (so a terminated thread is not stuck). */
const BARRIER_POLL_MS = 250;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('parallel-worker.js runs as a worker thread of parallel-trainer.js');
  const setup = workerData as WorkerSetup;
  const reply = (message: ToCoordinator): void => port.postMessage(message);
  await initBackend(setup.backend);

  const spec = getVariant(setup.variant);
  const model = spec.build(0);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(setup.weights[i]!, v.shape))));
  const updater = new ModelUpdater(model, setup.recipe);
  const lossFn = lossFor(spec);
  const split: DataSplit = { images: new Uint8Array(setup.images), labels: new Uint8Array(setup.labels), count: setup.count, rows: setup.rows, cols: setup.cols };
  const maker = new BatchMaker(split, spec.input, setup.numClasses, setup.recipe.batchSize);

  const parameters = updater.size;
  const slots = [0, 1].map((rank) => new Float32Array(setup.gradients, rank * parameters * 4, parameters));
  const header = new Float64Array(setup.header);
  const barrier = new Int32Array(setup.barrier);
  const mean = new Float32Array(parameters);
  const rank = setup.rank;
  const other = 1 - rank;
  let order: Uint32Array = new Uint32Array(0);

  const arrive = (sequence: number): void => {
    Atomics.store(barrier, rank, sequence);
    Atomics.notify(barrier, rank);
    for (;;) {
      const seen = Atomics.load(barrier, other);
      if (seen >= sequence) return;
      Atomics.wait(barrier, other, seen, BARRIER_POLL_MS);
    }
  };

  const step = (m: Extract<ToWorker, { type: 'step' }>): ToCoordinator => {
    const n = m.end - m.start;
    let correct = 0;
    let loss = 0;
    if (n > 0) {
      let next = 0;
      const augment = m.draws && m.maxShift ? { maxShift: m.maxShift, random: () => m.draws![next++]! } : undefined;
      const { x, y, labels } = maker.make(order, m.start, m.end, augment);
      const result = computeGradients(model, spec, lossFn, variables, x, y);
      tf.dispose([x, y]);
      loss = result.loss;
      slots[rank]!.set(updater.flatten(result.grads));
      correct = countCorrect(result.probabilities, labels, n, setup.numClasses);
    }
    header[2 * rank] = loss;
    header[2 * rank + 1] = n;
    arrive(m.sequence);

    // Both threads run exactly this arithmetic on the same numbers, so their updates are bit-identical.
    const halves = [0, 1].map((r) => ({ loss: header[2 * r]!, n: header[2 * r + 1]!, slot: slots[r]! })).filter((h) => h.n > 0);
    const total = halves.reduce((sum, h) => sum + h.n, 0);
    const combinedLoss = halves.reduce((sum, h) => sum + h.loss * (h.n / total), 0);
    const first = halves[0]!.slot, firstWeight = halves[0]!.n / total;
    const second = halves[1]?.slot, secondWeight = (halves[1]?.n ?? 0) / total;
    // Plain locals in the loop: reading through objects here cost ~1.5 ms per step.
    if (second) for (let j = 0; j < parameters; j++) mean[j] = first[j]! * firstWeight + second[j]! * secondWeight;
    else mean.set(first);
    const { fault, norms } = updater.update(combinedLoss, mean, m.wantNorms);
    return { type: 'step', loss: combinedLoss, correct, fault, ...(norms ? { norms } : {}) };
  };

  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'order': order = m.order; break;
        case 'step': reply(step(m)); break;
        case 'weights': reply({ type: 'weights', weights: variables.map((v) => Float32Array.from(v.dataSync())), tensors: tf.memory().numTensors }); break;
        case 'learningRate': updater.setLearningRate(m.learningRate); reply({ type: 'ok' }); break;
      }
    } catch (e) {
      reply({ type: 'error', message: errorMessage(e) });
    }
  });
  reply({ type: 'ready' });
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ type: 'error', message: errorMessage(e) } satisfies ToCoordinator);
});
