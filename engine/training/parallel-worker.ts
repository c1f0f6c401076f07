// Rank 1 of data-parallel training (started by parallel-trainer.ts; Node only). It loads its own tfjs
// backend through the ladder, builds a copy of the model from rank 0's weights, says it is ready, and
// then serves commands from the shared control block (data-parallel.ts) without an event loop: it
// blocks on the sequence number, runs the command, and waits for the next. Rank 0 ends it with
// Worker.terminate().
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backends/ladder.js';
import { getVariant } from '../models/variants.js';
import type { BackendName, Recipe, VariantName } from '../protocol.js';
import { errorMessage } from '../errors.js';
import { Command, Control, DataParallelRank, Numbers, sharedSplit, type SharedBuffers } from './data-parallel.js';

export interface WorkerSetup {
  variant: VariantName;
  recipe: Recipe;
  backend: BackendName;
  numClasses: number;
  shared: SharedBuffers;
  /** Rank 0's initial trainable weights, so both copies start identical. */
  weights: Float32Array[];
}

/** Only startup talks through messages; every step goes through the shared control block. */
export type ToCoordinator = { type: 'ready' } | { type: 'error'; message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('parallel-worker.js runs as a worker thread of parallel-trainer.js');
  const setup = workerData as WorkerSetup;
  await initBackend(setup.backend);

  const spec = getVariant(setup.variant);
  const model = spec.build(0);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(setup.weights[i]!, v.shape))));
  const rank = new DataParallelRank(1, model, spec, setup.recipe, sharedSplit(setup.shared), setup.numClasses, setup.shared);
  port.postMessage({ type: 'ready' } satisfies ToCoordinator);

  const { control, numbers } = rank;
  let learningRate = setup.recipe.learningRate;
  let done = 0;
  for (;;) {
    const sequence = Atomics.load(control, Control.Sequence);
    if (sequence === done) {
      Atomics.wait(control, Control.Sequence, done, 1000);
      continue;
    }
    done = sequence;
    try {
      if (Atomics.load(control, Control.Command) === Command.Weights) {
        rank.publishWeights(sequence);
        rank.arrive(sequence);
        continue;
      }
      const rate = numbers[Numbers.LearningRate]!;
      if (rate !== learningRate) rank.updater.setLearningRate((learningRate = rate));
      const start = control[Control.Start]!, end = control[Control.End]!;
      const maxShift = numbers[Numbers.MaxShift]!;
      const draws = maxShift > 0 ? numbers.subarray(Numbers.Draws, Numbers.Draws + 2 * (end - start)) : null;
      rank.computeHalf(sequence, start, end, draws, maxShift);
      rank.arrive(sequence);
      rank.combine(sequence, false);
    } catch (e) {
      rank.fail(errorMessage(e));
      return;
    }
  }
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ type: 'error', message: errorMessage(e) } satisfies ToCoordinator);
});
