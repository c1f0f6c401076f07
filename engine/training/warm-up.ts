// Warming a training engine before its first run: a fresh thread runs its first few dozen steps at up
// to half speed (JavaScript and WebAssembly still on their baseline tiers, the backend's caches cold),
// which made a short run's first seconds the slowest. A few throwaway steps on synthetic images, per
// variant and at the half-batch a data-parallel rank trains on, move that cost to when the engine starts.
import { getVariant } from '../../common/network/variants.js';
import type { VariantName } from '../../common/protocol.js';
import { VARIANT_NAMES } from '../../common/names.js';
import type { DataSplit } from '../data/dataset.js';
import { seededRandom } from './batches.js';
import { LocalStepper } from './step.js';

/** Steps per variant: enough for the optimising tiers to take over (measured: BENCHMARKS.md). */
export const WARM_UP_STEPS = 30;

function syntheticSplit(count: number): DataSplit {
  const random = seededRandom(1);
  const images = new Uint8Array(count * 28 * 28);
  for (let i = 0; i < images.length; i++) images[i] = random() < 0.2 ? Math.floor(random() * 256) : 0;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, rows: 28, cols: 28 };
}

/**
 * The warm-up's steps, one per `next()`: throwaway copies of `variants`, `steps` steps each, on this thread's
 * backend. Ending it early (`return()`) disposes the model in use, so nothing is left behind either way.
 */
function* warmUpSteps(variants: readonly VariantName[], steps: number, afterFirstStep?: () => void): Generator<void, void, void> {
  for (const name of variants) {
    const spec = getVariant(name);
    const batch = Math.ceil(spec.recipe.batchSize / 2);
    const split = syntheticSplit(batch);
    const order = Uint32Array.from({ length: batch }, (_, i) => i);
    const model = spec.build(0);
    try {
      const stepper = new LocalStepper(model, spec, { ...spec.recipe, batchSize: batch }, split, 10);
      for (let i = 0; i < steps; i++) {
        stepper.step(order, 0, batch, undefined, false);
        if (i === 0) afterFirstStep?.();
        yield;
      }
    } finally {
      model.dispose();
    }
  }
}

/**
 * Trains throwaway copies of `variants` for `steps` steps each on this thread's backend; leaves nothing behind.
 * `afterFirstStep`: called after each variant's first step (its kernels' modules are compiled by then).
 */
export function warmUpTraining(variants: readonly VariantName[] = VARIANT_NAMES, steps = WARM_UP_STEPS, afterFirstStep?: () => void): void {
  const it = warmUpSteps(variants, steps, afterFirstStep);
  while (!it.next().done) continue; // every step at once, on this thread
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The same steps on a thread that also answers requests (the lab service's): one step per turn of the event
 * loop, so a request waits one step at most, and none once `stop()` is true (checked before each step: a run
 * that starts ends the warm-up). Resolves to the number of steps taken.
 */
export async function warmUpTrainingInTurns(stop: () => boolean, variants: readonly VariantName[] = VARIANT_NAMES,
  steps = WARM_UP_STEPS, turn: () => Promise<void> = nextTurn): Promise<number> {
  const it = warmUpSteps(variants, steps);
  let taken = 0;
  try {
    for (;;) {
      await turn();
      if (stop() || it.next().done) break;
      taken++;
    }
  } finally {
    it.return();
  }
  return taken;
}
