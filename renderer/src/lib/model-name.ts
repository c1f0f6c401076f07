// The Save dialog's name rules (the contract's Name schema is the real gate; this
// words the problem before the request is sent) and its suggested name.
import type { MessageKey } from '../../../common/i18n/index.js';

export const MODEL_NAME_MAX = 80;
const NAME_PATTERN = /^[\p{L}\p{M}\p{N}_ .()-]+$/u;

/** The message key of what is wrong with a typed name, or null when it can be saved. */
export function modelNameProblem(name: string): MessageKey | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'save.problem.empty';
  if (trimmed.length > MODEL_NAME_MAX) return 'save.problem.long';
  if (!NAME_PATTERN.test(trimmed)) return 'save.problem.characters';
  return null;
}

/** The model's own name when it is a saved, valid one; else "<variant> YYYY-MM-DD HH.MM" (UTC). */
export function suggestedModelName(summary: { name: string; builtin: boolean } | null, variant: string, now: Date): string {
  if (summary && !summary.builtin && summary.name && modelNameProblem(summary.name) === null) return summary.name;
  const stamp = now.toISOString().slice(0, 16).replace('T', ' ').replace(':', '.');
  return `${variant} ${stamp}`;
}
