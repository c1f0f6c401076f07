// The paper's initial values, pinned with literal numbers: LeNet-5's subsampling layers start as a plain
// average (coefficient 0.25, bias 0), and C3's weights are uniform within √(3 / fan-in) of each map's own
// fan-in from the C3 table (3, 4 or 6 connected S2 maps × 25), zero where the table has no link.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/backends/ladder.js';
import { getVariant } from '../../common/network/variants.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('lenet5 initial values', () => {
  it('S2 and S4 start as plain averages: every coefficient 0.25, every bias 0', () => {
    const model = getVariant('lenet5').build(42);
    for (const [name, maps] of [['S2', 6], ['S4', 16]] as const) {
      const [coefficient, bias] = model.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
      expect(coefficient).toEqual(new Array(maps).fill(0.25));
      expect(bias).toEqual(new Array(maps).fill(0));
    }
    model.dispose();
  });

  it("C3's kernels are uniform within each map's own LeCun limit, and zero on the table's missing links", () => {
    // Connected S2 maps per C3 map (LeCun et al. 1998, Table I): 6 × 3, 9 × 4, 1 × 6.
    const connected = [3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6];
    for (const seed of [1, 42, 2024]) {
      const model = getVariant('lenet5').build(seed);
      const kernel = model.getLayer('C3').getWeights()[0]!;
      expect(kernel.shape).toEqual([5, 5, 6, 16]);
      const values = kernel.dataSync();
      for (let j = 0; j < 16; j++) {
        const limit = Math.sqrt(3 / (25 * connected[j]!));
        const live: number[] = [];
        for (let i = 0; i < 25 * 6; i++) {
          const v = values[i * 16 + j]!;
          if (v !== 0) live.push(v);
        }
        expect(live.length, `map ${j}`).toBe(25 * connected[j]!);
        const largest = Math.max(...live.map(Math.abs));
        expect(largest, `map ${j}`).toBeLessThanOrEqual(limit * (1 + 1e-6));
        expect(largest, `map ${j}`).toBeGreaterThan(limit * 0.9); // 75+ draws reach close to the limit
      }
      model.dispose();
    }
  });
});
