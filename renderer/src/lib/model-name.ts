// The Save dialog's name rules, worded in the user's language before the request is sent (the contract's
// Name schema is the real gate), and its suggested name.
// Same rule as common/model-name.ts on the `hardening` branch (checkModelName): any script's letters and digits,
// refusing what Windows, macOS or Linux would refuse or mangle. When that file lands, this should call it and
// keep only the mapping of its reasons to message keys.
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';

/** At most this many characters (code points). */
export const MODEL_NAME_MAX = 80;
/** At most this many UTF-8 bytes (a folder name may have 255; the save's side folders add about 25). */
export const MODEL_NAME_MAX_BYTES = 200;

/** Letters and digits of any script (with their combining marks), spaces, dots, dashes, underscores, brackets. */
const ALLOWED = /^[\p{L}\p{M}\p{N} ._\-()[\]]$/u;
/** Windows' device names, in any case, alone or before an extension ("nul.txt", "COM1 .tar.gz"). */
const WINDOWS_RESERVED = /^(CON|PRN|AUX|NUL|COM[1-9¹²³]|LPT[1-9¹²³]) *(\.|$)/i;

export interface NameProblem {
  key: MessageKey;
  values?: MessageValues;
}

/**
 * What is wrong with a typed name (as a message key and its values), or null when it can be saved. The name is
 * checked as it will be sent: trimmed (the dialog drops spaces at the ends) and NFC.
 */
export function modelNameProblem(typed: string): NameProblem | null {
  const name = typed.trim().normalize('NFC');
  if (name === '') return { key: 'save.problem.empty' };
  const chars = [...name];
  if (chars.length > MODEL_NAME_MAX) return { key: 'save.problem.long', values: { max: MODEL_NAME_MAX, count: chars.length } };
  if (new TextEncoder().encode(name).length > MODEL_NAME_MAX_BYTES) return { key: 'save.problem.bytes', values: { max: MODEL_NAME_MAX_BYTES } };
  if (name.includes('/') || name.includes('\\')) return { key: 'save.problem.path' };
  if (name.includes('..')) return { key: 'save.problem.dotdot' };
  for (const ch of chars) {
    if (/\p{Cc}/u.test(ch)) return { key: 'save.problem.control' };
    if (!ALLOWED.test(ch)) return { key: 'save.problem.characters', values: { char: ch } };
  }
  if (name.startsWith('.')) return { key: 'save.problem.leadingDot' };
  if (name.endsWith('.')) return { key: 'save.problem.trailing' };
  const reserved = WINDOWS_RESERVED.exec(name);
  if (reserved) return { key: 'save.problem.reserved', values: { name: reserved[1]! } };
  return null;
}

/** The model's own name when it is a saved, valid one; else "<variant> YYYY-MM-DD HH.MM" (UTC). */
export function suggestedModelName(summary: { name: string; builtin: boolean } | null, variant: string, now: Date): string {
  if (summary && !summary.builtin && summary.name && modelNameProblem(summary.name) === null) return summary.name;
  const stamp = now.toISOString().slice(0, 16).replace('T', ' ').replace(':', '.');
  return `${variant} ${stamp}`;
}
