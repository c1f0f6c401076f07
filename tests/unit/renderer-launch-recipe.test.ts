// The Train form adopts the launch model's recipe only when the student has made no choice of their own
// (issue 11: a seed run chosen before the host answered was trained and saved as `modern`).
import { describe, expect, it } from 'vitest';
import { launchRecipe } from '../../renderer/src/lib/launch-recipe.js';

describe('launchRecipe', () => {
  it.each([
    // launchVariant, formVariant, edited, chosenMeanwhile → adopted
    ['modern', 'lenet5', false, false, 'modern'],
    ['seed', 'lenet5', false, false, 'seed'],
    ['modern', 'modern', false, false, null],
    ['modern', 'lenet5', true, false, null],
    ['modern', 'seed', false, true, null],
    ['modern', 'lenet5', false, true, null],
    [undefined, 'lenet5', false, false, null],
    [null, 'lenet5', false, false, null],
  ] as const)('launch %s, form %s, edited %s, chosen meanwhile %s → %s', (launchVariant, formVariant, edited, chosenMeanwhile, adopted) => {
    expect(launchRecipe({ launchVariant, formVariant, edited, chosenMeanwhile })).toBe(adopted);
  });
});
