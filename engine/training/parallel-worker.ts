// Rank 1 of data-parallel training (started by parallel-trainer.ts; Node only). It loads its own tfjs
// backend through the ladder once, then serves training runs one after another, so that a second run
// finds it warm. For each run it builds a copy of the model from rank 0's weights, says it is ready,
// and serves commands from the shared control block (data-parallel.ts) without an event loop: it
// blocks on the sequence number, runs the command, and waits for the next, until the End command.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { compiledWasmModule, initBackend } from '../backends/ladder.js';
import { compiledSimdModules } from '../backends/wasm-simd.js';
import { getVariant } from '../../common/network/variants.js';
import type { BackendName, Recipe, VariantName } from '../../common/protocol.js';
import { errorMessage } from '../../common/errors.js';
import { WARM_UP_STEPS, warmUpTraining } from './warm-up.js';
import { Command, Control, DataParallelRank, Numbers, PROTOCOL, sharedSplit, type SharedBuffers } from './data-parallel.js';
import type { UpdaterState } from './step.js';

export interface HelperSetup {
  backend: BackendName;
  /** Rank 0's compiled wasm module: this thread starts with its optimised code. */
  wasmModule?: WebAssembly.Module;
  /** Variants to warm up (warm-up.ts) before this thread says its backend is ready. */
  warmUp?: VariantName[];
  /** Started before rank 0 has a backend (early-thread.ts): hand rank 0 the wasm modules this thread compiles. */
  offerModules?: boolean;
}

export interface RunSetup {
  variant: VariantName;
  recipe: Recipe;
  numClasses: number;
  shared: SharedBuffers;
  /** Rank 0's initial trainable weights, so both copies start identical. */
  weights: Float32Array[];
  /** The step rank 0 uses: both ranks must compute gradients alike. */
  step: 'direct' | 'tape';
  /** Rank 0's optimizer and divergence state, when this thread joins a run that one engine began. */
  state?: UpdaterState;
}

export type ToHelper = { type: 'run'; setup: RunSetup };

/** Only the start and end of a run talk through messages; every step goes through the shared control block. */
export type ToCoordinator =
  /** The backend is up; `protocol`: this build's shared-memory layout (data-parallel.ts PROTOCOL). */
  | { type: 'backend'; protocol: string }
  | { type: 'ready' }
  | { type: 'ended'; tensors: number }
  | { type: 'error'; message: string }
  /**
   * Only when asked (offerModules), before 'backend': the backend's wasm module once it is up, and the kernels'
   * modules (wasm-simd.ts) after each warm-up variant's first step.
   */
  | { type: 'modules'; wasm?: WebAssembly.Module; simd: [string, WebAssembly.Module][] };

/** One run: blocks this thread until rank 0 sends End (or fails); the model is gone afterwards. */
function serveRun(setup: RunSetup): void {
  const spec = getVariant(setup.variant);
  const model = spec.build(0);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(setup.weights[i]!, v.shape))));
  const rank = new DataParallelRank(1, model, spec, setup.recipe, sharedSplit(setup.shared), setup.numClasses, setup.shared, setup.step, setup.state);
  parentPort!.postMessage({ type: 'ready' } satisfies ToCoordinator);

  const { control, numbers } = rank;
  let learningRate = setup.recipe.learningRate;
  let done = 0;
  try {
    for (;;) {
      const sequence = Atomics.load(control, Control.Sequence);
      if (sequence === done) {
        Atomics.wait(control, Control.Sequence, done, 1000);
        continue;
      }
      done = sequence;
      const command = Atomics.load(control, Control.Command);
      if (command === Command.End) return;
      if (command === Command.Weights) {
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
    }
  } catch (e) {
    rank.fail(errorMessage(e));
    throw e;
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('parallel-worker.js runs as a worker thread of parallel-trainer.js');
  const setup = workerData as HelperSetup;
  await initBackend(setup.backend, setup.wasmModule ? { wasmModule: setup.wasmModule } : {});
  const offer = setup.offerModules && setup.backend === 'wasm'
    ? (wasm?: WebAssembly.Module): void => port.postMessage({ type: 'modules', ...(wasm ? { wasm } : {}), simd: compiledSimdModules() } satisfies ToCoordinator)
    : null;
  offer?.(compiledWasmModule());
  if (setup.warmUp?.length) warmUpTraining(setup.warmUp, WARM_UP_STEPS, offer ? () => offer() : undefined);
  port.on('message', (message: ToHelper) => {
    try {
      serveRun(message.setup);
      port.postMessage({ type: 'ended', tensors: tf.memory().numTensors } satisfies ToCoordinator);
    } catch (e) {
      port.postMessage({ type: 'error', message: errorMessage(e) } satisfies ToCoordinator);
    }
  });
  port.postMessage({ type: 'backend', protocol: PROTOCOL } satisfies ToCoordinator);
}

main().catch((e: unknown) => {
  parentPort?.postMessage({ type: 'error', message: errorMessage(e) } satisfies ToCoordinator);
});
