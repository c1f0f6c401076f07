// The optimizers, as one pass over all parameters held in flat Float32Arrays. tf.train's optimizers
// run ≈ 10–15 kernels per variable per step (Adam: ≈ 150 of the 270 kernel calls of a `modern` step),
// each with the engine's bookkeeping; here an update is one loop, and the data-parallel threads can
// apply it straight to their averaged gradients. The arithmetic is tf.train's (same defaults, same
// bias correction, same order), checked against it in tests/unit/optimizers.test.ts.
import type { Recipe } from '../../common/protocol.js';

export interface FlatOptimizer {
  learningRate: number;
  /**
   * Moves `weights` one step against `grads` (same length, same layout), in place; only elements
   * [from, to) when given (data-parallel ranks each update their share; it still counts as one step).
   */
  apply(weights: Float32Array, grads: Float32Array, from?: number, to?: number): void;
  /** A copy of everything the next step depends on (a second engine joining a run takes it over). */
  state(): OptimizerState;
  /** Continues from `state` (another optimizer's, same kind and size). */
  restore(state: OptimizerState): void;
}

/** An optimizer's state: its rate, its step count and its per-parameter arrays (Adam's moments, the momentum's accumulation). */
export interface OptimizerState { learningRate: number; steps: number; arrays: Float32Array[] }

function restoreArrays(mine: Float32Array[], state: OptimizerState): void {
  if (state.arrays.length !== mine.length || state.arrays.some((a, i) => a.length !== mine[i]!.length)) {
    throw new Error('optimizer state of another kind or size');
  }
  mine.forEach((a, i) => a.set(state.arrays[i]!));
}

/** tf.train.adam's defaults; ε is the float32 backends' epsilon, which tf.train.adam uses when given none. */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/** Adam (Kingma & Ba) with tf.train.adam's form: w −= lr · m̂ / (ε + √v̂). */
export class FlatAdam implements FlatOptimizer {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private steps = 0;

  constructor(public learningRate: number, size: number, private readonly beta1: number = ADAM_DEFAULTS.beta1,
    private readonly beta2: number = ADAM_DEFAULTS.beta2, private readonly epsilon: number = ADAM_DEFAULTS.epsilon) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  apply(weights: Float32Array, grads: Float32Array, from = 0, to = weights.length): void {
    this.steps++;
    const { m, v, beta1, beta2, epsilon } = this;
    const keep1 = 1 - beta1, keep2 = 1 - beta2;
    const correct1 = 1 / (1 - beta1 ** this.steps), correct2 = 1 / (1 - beta2 ** this.steps);
    const rate = this.learningRate;
    for (let i = from; i < to; i++) {
      const g = grads[i]!;
      const mi = beta1 * m[i]! + keep1 * g;
      const vi = beta2 * v[i]! + keep2 * g * g;
      m[i] = mi;
      v[i] = vi;
      weights[i] = weights[i]! - (rate * mi * correct1) / (epsilon + Math.sqrt(vi * correct2));
    }
  }

  state(): OptimizerState {
    return { learningRate: this.learningRate, steps: this.steps, arrays: [this.m.slice(), this.v.slice()] };
  }

  restore(state: OptimizerState): void {
    restoreArrays([this.m, this.v], state);
    this.steps = state.steps;
    this.learningRate = state.learningRate;
  }
}

/** SGD with (heavy-ball) momentum, tf.train.momentum's form: a ← μ·a + g, w −= lr · a. μ = 0 is plain SGD. */
export class FlatMomentum implements FlatOptimizer {
  private readonly accumulation: Float32Array;

  constructor(public learningRate: number, private readonly momentum: number, size: number) {
    this.accumulation = new Float32Array(momentum > 0 ? size : 0);
  }

  apply(weights: Float32Array, grads: Float32Array, from = 0, to = weights.length): void {
    const rate = this.learningRate, momentum = this.momentum, a = this.accumulation;
    if (momentum === 0) {
      for (let i = from; i < to; i++) weights[i] = weights[i]! - rate * grads[i]!;
      return;
    }
    for (let i = from; i < to; i++) {
      const ai = momentum * a[i]! + grads[i]!;
      a[i] = ai;
      weights[i] = weights[i]! - rate * ai;
    }
  }

  state(): OptimizerState {
    return { learningRate: this.learningRate, steps: 0, arrays: [this.accumulation.slice()] };
  }

  restore(state: OptimizerState): void {
    restoreArrays([this.accumulation], state);
    this.learningRate = state.learningRate;
  }
}

/** The recipe's optimizer for `size` parameters. */
export function createOptimizer(recipe: Pick<Recipe, 'optimizer' | 'learningRate' | 'momentum'>, size: number): FlatOptimizer {
  return recipe.optimizer === 'adam' ? new FlatAdam(recipe.learningRate, size) : new FlatMomentum(recipe.learningRate, recipe.momentum, size);
}
