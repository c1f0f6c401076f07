// The Save dialog's name check and its suggested name. The rule is common/model-name.ts, the one the save
// itself applies, so the dialog never accepts a name the save then refuses; this only picks the words.
import { checkModelName, MAX_MODEL_NAME_CHARS } from '../../../common/model-name.js';
import type { MessageKey } from '../../../common/i18n/index.js';

export const MODEL_NAME_MAX = MAX_MODEL_NAME_CHARS;

export interface NameProblem {
  key: MessageKey;
  values: Record<string, string | number>;
}

/** What is wrong with a typed name (a message key and its values), or null when it can be saved. */
export function modelNameProblem(name: string): NameProblem | null {
  const checked = checkModelName(name.trim());
  if (checked.ok) return null;
  return { key: `save.problem.${checked.problem}` as MessageKey, values: checked.params };
}

/** The model's own name when it is a saved, valid one; else "<variant> YYYY-MM-DD HH.MM" (UTC). */
export function suggestedModelName(summary: { name: string; builtin: boolean } | null, variant: string, now: Date): string {
  if (summary && !summary.builtin && summary.name && modelNameProblem(summary.name) === null) return summary.name;
  const stamp = now.toISOString().slice(0, 16).replace('T', ' ').replace(':', '.');
  return `${variant} ${stamp}`;
}
