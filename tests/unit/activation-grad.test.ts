// The direct step's activation gradients as the cpu backend runs them (activationGradInPlace; wasm has its own
// SIMD kernel), against values worked by hand: σ′ = y(1 − y) from the output y, ReLU′ = 1 where y > 0. The whole-step
// comparison with the tape let a wrong σ′ (dy / y) through under Stryker: the only sigmoid variant, the lesson's
// `seed`, has vanishing gradients.
import { describe, expect, it } from 'vitest';
import { activationGradInPlace } from '../../engine/training/direct-step.js';

describe('activationGradInPlace', () => {
  it('sigmoid: dy · y · (1 − y), element by element', () => {
    const y = Float32Array.from([0.5, 0.25, 0.9, 0, 1]);
    const dy = Float32Array.from([1, 2, 3, 4, -5]);
    activationGradInPlace('sigmoid', y, dy);
    const expected = [0.25, 0.375, 0.27, 0, 0];
    expected.forEach((v, i) => expect(dy[i]).toBeCloseTo(v, 6));
    expect(Array.from(y)).toEqual([0.5, 0.25, 0.9, 0, 1].map((v) => Math.fround(v))); // y untouched
  });

  it('relu: dy where y > 0, else 0 (NaN included)', () => {
    const y = Float32Array.from([2, 0, -1, Number.NaN, 1e-30]);
    const dy = Float32Array.from([1, 2, 3, 4, 5]);
    activationGradInPlace('relu', y, dy);
    expect(Array.from(dy)).toEqual([1, 0, 0, 0, 5]);
  });

  it('linear: dy unchanged', () => {
    const dy = Float32Array.from([1, -2, 3]);
    activationGradInPlace('linear', Float32Array.from([9, 9, 9]), dy);
    expect(Array.from(dy)).toEqual([1, -2, 3]);
  });
});
