// The Save dialog's name check, worded in the user's language before the request is sent, and its suggested
// name. The rule is common/model-name.ts, the one the save itself applies, so the dialog never accepts a name
// the save then refuses; this only maps its reasons to messages.
import { checkModelName, MAX_MODEL_NAME_BYTES, MAX_MODEL_NAME_CHARS, type ModelNameProblem } from '../../../common/model-name.js';
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';

export const MODEL_NAME_MAX = MAX_MODEL_NAME_CHARS;
export const MODEL_NAME_MAX_BYTES = MAX_MODEL_NAME_BYTES;

const PROBLEM_KEYS: Record<ModelNameProblem, MessageKey> = {
  empty: 'save.problem.empty',
  'too-long': 'save.problem.long',
  'too-many-bytes': 'save.problem.bytes',
  separator: 'save.problem.path',
  'dot-dot': 'save.problem.dotdot',
  control: 'save.problem.control',
  character: 'save.problem.characters',
  'leading-dot': 'save.problem.leadingDot',
  'leading-space': 'save.problem.leadingSpace',
  'trailing-dot-or-space': 'save.problem.trailing',
  reserved: 'save.problem.reserved',
};

export interface NameProblem {
  key: MessageKey;
  values?: MessageValues;
}

/** What is wrong with a typed name (a message key and its values), or null when it can be saved; trimmed as sent. */
export function modelNameProblem(typed: string): NameProblem | null {
  const checked = checkModelName(typed.trim());
  if (checked.ok) return null;
  const values = Object.keys(checked.params).length > 0 ? { values: checked.params } : {};
  return { key: PROBLEM_KEYS[checked.problem], ...values };
}

/** The model's own name when it is a saved, valid one; else "<variant> YYYY-MM-DD HH.MM" (UTC). */
export function suggestedModelName(summary: { name: string; builtin: boolean } | null, variant: string, now: Date): string {
  if (summary && !summary.builtin && summary.name && modelNameProblem(summary.name) === null) return summary.name;
  const stamp = now.toISOString().slice(0, 16).replace('T', ' ').replace(':', '.');
  return `${variant} ${stamp}`;
}
