// Which recipe the Train form adopts once the app knows the model in use at launch.
import type { VariantName } from '../../../common/protocol.js';

export interface LaunchRecipeInput {
  /** The running run's variant, else the open model's (undefined until the host answered). */
  launchVariant: VariantName | null | undefined;
  formVariant: VariantName;
  /** The recipe fields differ from the form variant's own recipe. */
  edited: boolean;
  /** A recipe was loaded (the student chose a network, or the tour did) while the app waited for the host. */
  chosenMeanwhile: boolean;
}

/**
 * The form shows the launch model's recipe (the app opens `modern`, not the form's default LeNet-5), but never over
 * a choice: a student who picked a network before the host answered keeps it, or a fast Start trains the wrong one.
 */
export function launchRecipe({ launchVariant, formVariant, edited, chosenMeanwhile }: LaunchRecipeInput): VariantName | null {
  if (!launchVariant || launchVariant === formVariant || edited || chosenMeanwhile) return null;
  return launchVariant;
}
