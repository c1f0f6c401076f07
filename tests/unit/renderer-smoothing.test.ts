// The Train view's smoothed loss and accuracy curves (renderer/src/lib/smoothing.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { smoothAlongSteps, smoothingWindow, stepsPerPoint } from '../../renderer/src/lib/smoothing.js';

/** A deterministic noise source, so the simulated runs are the same every time. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A short run as the Train view receives it: the loss falls fast from ln 10 (noisy per batch), and
 * batch events arrive throttled, every 3–5 steps (the first step always).
 */
function shortRun(seed: number, totalSteps = 282): { steps: number[]; loss: number[] } {
  const random = lcg(seed);
  const steps: number[] = [];
  const loss: number[] = [];
  for (let step = 1; step <= totalSteps; step += steps.length === 0 ? 3 : 3 + Math.floor(random() * 3)) {
    const expected = 0.25 + 2.05 * Math.exp(-step / 25);
    steps.push(step);
    loss.push(expected * (0.6 + 0.8 * random()));
  }
  return { steps, loss };
}

/** The bias-corrected trailing EMA at the last point, written out directly. */
function trailingEma(steps: number[], values: number[], window: number): number {
  const beta = 1 - 1 / window;
  const last = steps.at(-1)!;
  let sum = 0;
  let weight = 0;
  steps.forEach((step, i) => {
    if (!Number.isFinite(values[i]!)) return;
    sum += beta ** (last - step) * values[i]!;
    weight += beta ** (last - step);
  });
  return sum / weight;
}

describe('smoothingWindow', () => {
  it('scales with the length of the run, within bounds', () => {
    expect(smoothingWindow(282)).toBeCloseTo(282 / 50);
    expect(smoothingWindow(1128)).toBeGreaterThan(smoothingWindow(282));
    expect(smoothingWindow(100_000)).toBe(100);
    expect(smoothingWindow(10)).toBe(2);
    expect(smoothingWindow(0)).toBe(2);
  });
  it('covers a few points when the points are sparse', () => {
    expect(smoothingWindow(100, 6)).toBe(6);
    expect(smoothingWindow(282, 4)).toBeCloseTo(5.64);
  });
  it('measures the spacing of the points in steps', () => {
    expect(stepsPerPoint([])).toBe(1);
    expect(stepsPerPoint([7])).toBe(1);
    expect(stepsPerPoint([1, 4, 7, 10])).toBe(3);
  });
});

describe('smoothAlongSteps', () => {
  it('goes through the cloud of batch points on a short, fast-falling run', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { steps, loss } = shortRun(seed);
      const window = smoothingWindow(282, stepsPerPoint(steps));
      const smooth = smoothAlongSteps(steps, loss, window);
      // A lagging curve sits above (almost) every point while the loss falls; this one splits them.
      const early = steps.map((step, i) => i).filter((i) => steps[i]! <= 80);
      const aboveEarly = early.filter((i) => smooth[i]! > loss[i]!).length / early.length;
      expect(aboveEarly).toBeGreaterThan(0.25);
      expect(aboveEarly).toBeLessThan(0.75);
      const above = loss.filter((value, i) => smooth[i]! > value).length / loss.length;
      expect(above).toBeGreaterThan(0.3);
      expect(above).toBeLessThan(0.7);
      // And it stays close to the loss the run is actually at.
      steps.forEach((step, i) => {
        const expected = 0.25 + 2.05 * Math.exp(-step / 25);
        expect(Math.abs(smooth[i]! - expected)).toBeLessThan(0.3 * expected + 0.05);
      });
    }
  });

  it('does not start at the first value and stay high (the fault it replaces)', () => {
    const steps = [1, 4, 8, 12, 16, 20];
    const loss = [2.3, 1.2, 0.9, 0.8, 0.7, 0.7];
    const smooth = smoothAlongSteps(steps, loss, 4);
    // An EMA started at 2.3 with β = 0.9 per event would still read 1.9 at step 8 and stay above every point.
    expect(smooth[0]!).toBeLessThan(2.3);
    expect(smooth[0]!).toBeGreaterThan(1.2);
    expect(smooth[1]!).toBeLessThan(1.5);
    for (let i = 2; i < steps.length; i++) expect(Math.abs(smooth[i]! - loss[i]!)).toBeLessThan(0.15);
  });

  it('ends at the bias-corrected trailing average (the Train loss box)', () => {
    const { steps, loss } = shortRun(9);
    for (const window of [2, 5.64, 20]) {
      const smooth = smoothAlongSteps(steps, loss, window);
      expect(smooth.at(-1)!).toBeCloseTo(trailingEma(steps, loss, window), 10);
      // Bias-corrected: the first point of a one-point history is that point, not β·0 + (1 − β)·x.
      expect(smoothAlongSteps([1], [2.3], window)[0]).toBeCloseTo(2.3, 12);
    }
  });

  it('is the symmetric kernel average at every point', () => {
    const steps = [1, 2, 5, 6, 10, 17];
    const values = [3, 1, 4, 1, 5, 9];
    const window = 3;
    const beta = 1 - 1 / window;
    const smooth = smoothAlongSteps(steps, values, window);
    steps.forEach((si, i) => {
      let sum = 0;
      let weight = 0;
      steps.forEach((sj, j) => {
        sum += beta ** Math.abs(si - sj) * values[j]!;
        weight += beta ** Math.abs(si - sj);
      });
      expect(smooth[i]!).toBeCloseTo(sum / weight, 10);
    });
  });

  it('keeps constants and straight lines exact in the middle', () => {
    const steps = Array.from({ length: 101 }, (_, i) => i * 2);
    const constant = smoothAlongSteps(steps, steps.map(() => 0.42), 7);
    for (const v of constant) expect(v).toBeCloseTo(0.42, 12);
    const line = smoothAlongSteps(steps, steps.map((s) => 3 - 0.01 * s), 7);
    expect(line[50]!).toBeCloseTo(3 - 0.01 * steps[50]!, 6);
  });

  it('weighs each point by the images it was measured on', () => {
    // An epoch's last batch of 16 images next to full batches of 64.
    const steps = [1, 2, 3, 4];
    const loss = [0.4, 0.4, 0.4, 1.6];
    const plain = smoothAlongSteps(steps, loss, 3);
    const weighted = smoothAlongSteps(steps, loss, 3, [64, 64, 64, 16]);
    expect(weighted[3]!).toBeLessThan(plain[3]!);
    const beta = 2 / 3;
    const w = [beta ** 3 * 64, beta ** 2 * 64, beta * 64, 16];
    expect(weighted[3]!).toBeCloseTo((w[0]! * 0.4 + w[1]! * 0.4 + w[2]! * 0.4 + w[3]! * 1.6) / (w[0]! + w[1]! + w[2]! + w[3]!), 10);
    // Equal counts change nothing; a count of 0 leaves a point out.
    smoothAlongSteps(steps, loss, 3, [5, 5, 5, 5]).forEach((v, i) => expect(v).toBeCloseTo(plain[i]!, 12));
    expect(smoothAlongSteps(steps, loss, 3, [1, 1, 1, 0])[3]!).toBeCloseTo(0.4, 12);
  });

  it('skips non-finite losses and fills their place from the neighbours', () => {
    const smooth = smoothAlongSteps([1, 2, 3, 4, 5], [1, 1, Number.NaN, 1, Number.POSITIVE_INFINITY], 3);
    for (const v of smooth) expect(v).toBeCloseTo(1, 12);
    expect(Number.isNaN(smoothAlongSteps([1, 2], [Number.NaN, Number.NaN], 3)[0]!)).toBe(true);
    expect(smoothAlongSteps([], [], 3)).toHaveLength(0);
  });

  it('stays within the range of the values and barely depends on how often points arrive', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.double({ min: 1, max: 50, noNaN: true }), (values, window) => {
        const steps = values.map((_, i) => i + 1);
        const smooth = smoothAlongSteps(steps, values, window);
        const lo = Math.min(...values);
        const hi = Math.max(...values);
        for (const v of smooth) {
          expect(v).toBeGreaterThanOrEqual(lo - 1e-9);
          expect(v).toBeLessThanOrEqual(hi + 1e-9);
        }
      }),
    );
    // The same smooth curve sampled every step or every third step (the history is thinned when long).
    const steps = Array.from({ length: 300 }, (_, i) => i + 1);
    const curve = steps.map((s) => 0.3 + 2 * Math.exp(-s / 40));
    const dense = smoothAlongSteps(steps, curve, 10);
    const sparseSteps = steps.filter((_, i) => i % 3 === 0);
    const sparse = smoothAlongSteps(sparseSteps, curve.filter((_, i) => i % 3 === 0), 10);
    sparseSteps.forEach((_, k) => expect(sparse[k]!).toBeCloseTo(dense[k * 3]!, 1));
  });
});
