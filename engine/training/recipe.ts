// A run's recipe: the variant's defaults with the user's overrides, checked against the data it will see.
import { UserError } from '../../common/errors.js';
import type { VariantSpec } from '../../common/network/variants.js';
import { Recipe, type RecipeOverrides } from '../../common/protocol.js';

/** The variant's recipe with `overrides` applied; a bad value is a UserError naming the field and the rule. */
export function resolveRecipe(spec: Pick<VariantSpec, 'recipe'> & Partial<Pick<VariantSpec, 'input' | 'title'>>, overrides: RecipeOverrides): Recipe {
  const parsed = Recipe.safeParse({ ...spec.recipe, ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError('invalid-request', `invalid recipe: ${issue.path.join('.')}: ${issue.message}`);
  }
  // A digit moves only inside its border: a variant that reads the bare 28×28 digit cannot shift it.
  const border = spec.input?.pad;
  if (border !== undefined && parsed.data.augmentShift > border) {
    throw new UserError('invalid-request',
      `invalid recipe: augmentShift: ${spec.title ?? 'this network'} reads the digit with a ${border}-pixel border, so it can be shifted by at most ${border} px`);
  }
  return parsed.data;
}

/** How many images the run trains on; a batch larger than that is a UserError. */
export function trainingCount(recipe: Recipe, available: number, limit?: number): number {
  const count = Math.min(available, limit ?? Infinity);
  if (recipe.batchSize > count) {
    throw new UserError('invalid-request', `batch size ${recipe.batchSize} is larger than the ${count} training images; choose a batch of at most ${count}`);
  }
  return count;
}
