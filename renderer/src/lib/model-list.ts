// The Open dialog's list order.
import type { ModelSummary } from '../../../common/contract.js';

/** Pretrained models first, then the saved ones, newest first. */
export function sortModels(models: readonly ModelSummary[]): ModelSummary[] {
  return models.toSorted((a, b) => Number(b.builtin) - Number(a.builtin) || b.savedAt.localeCompare(a.savedAt));
}
