// Smoothing of the per-batch training curves.
//
// Batch events arrive throttled (every few steps, and the history is thinned when long), so the
// smoother works in training steps, not in events: a point's weight is β^(distance in steps).
// A trailing EMA lags behind a falling loss and so runs above every batch point early in a run;
// for the history we use the symmetric kernel (both sides, normalised by its own weights — the
// same bias correction as Adam's division by 1 − β^t), which goes through the cloud of points.
// At the newest point only the past exists, and there the result is exactly the bias-corrected
// trailing EMA — what the "Train loss" box shows.

/**
 * The smoothing time constant in steps: a fiftieth of the run (short runs get a short window),
 * at least one sample spacing so neighbouring points are always averaged a little, at most 100
 * steps so the newest value does not trail far behind.
 */
export function smoothingWindow(totalSteps: number, stepsPerPoint = 1): number {
  const byRun = Number.isFinite(totalSteps) && totalSteps > 0 ? totalSteps / 50 : 2;
  const bySpacing = Number.isFinite(stepsPerPoint) && stepsPerPoint > 0 ? stepsPerPoint : 1;
  return Math.min(100, Math.max(2, byRun, bySpacing));
}

/** The mean distance in steps between consecutive points (1 for fewer than two points). */
export function stepsPerPoint(steps: ArrayLike<number>): number {
  const n = steps.length;
  if (n < 2) return 1;
  return Math.max(1, (steps[n - 1]! - steps[0]!) / (n - 1));
}

/**
 * values[i], measured at steps[i] (ascending), smoothed with the two-sided exponential kernel
 * β^|steps[i] − steps[j]|, β = 1 − 1/window. `counts[i]` (optional, default 1) weighs a point by
 * the images it was measured on, so an epoch's short last batch counts less. Non-finite values
 * are left out (their position gets the average of its neighbours). O(n): a forward and a
 * backward pass.
 */
export function smoothAlongSteps(
  steps: ArrayLike<number>, values: ArrayLike<number>, window: number, counts?: ArrayLike<number>,
): Float64Array {
  const n = Math.min(steps.length, values.length);
  const countOf = (i: number): number => {
    const count = counts?.[i] ?? 1;
    return Number.isFinite(count) && count > 0 ? count : 0;
  };
  const out = new Float64Array(n);
  if (n === 0) return out;
  const beta = 1 - 1 / Math.max(1, window);
  // forward[i] = Σ_{j≤i} β^(s_i − s_j)·x_j, and the same sum of the weights alone.
  const forwardSum = new Float64Array(n);
  const forwardWeight = new Float64Array(n);
  let sum = 0;
  let weight = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const decay = beta ** Math.max(0, steps[i]! - steps[i - 1]!);
      sum *= decay;
      weight *= decay;
    }
    const x = values[i]!;
    if (Number.isFinite(x)) {
      sum += countOf(i) * x;
      weight += countOf(i);
    }
    forwardSum[i] = sum;
    forwardWeight[i] = weight;
  }
  // Backward pass: Σ_{j>i} β^(s_j − s_i)·x_j, combined with the forward sums (point i counted once).
  sum = 0;
  weight = 0;
  for (let i = n - 1; i >= 0; i--) {
    const totalWeight = forwardWeight[i]! + weight;
    out[i] = totalWeight > 0 ? (forwardSum[i]! + sum) / totalWeight : Number.NaN;
    const x = values[i]!;
    if (Number.isFinite(x)) {
      sum += countOf(i) * x;
      weight += countOf(i);
    }
    if (i > 0) {
      const decay = beta ** Math.max(0, steps[i]! - steps[i - 1]!);
      sum *= decay;
      weight *= decay;
    }
  }
  return out;
}
