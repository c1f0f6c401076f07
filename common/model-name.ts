// The one rule for a model's name, which is also its folder's name: the save dialog, the contract, the CLI's
// --out and the store all apply it. A name that works on one OS must work on all of them (a class copies
// models between Windows, macOS and Linux PCs), so it refuses what any of them would refuse or mangle, and
// it keeps the exact name (NFC) in the folder and the metadata everywhere: no escaping, no silent changes.
import { z } from 'zod';

/** At most this many characters (code points). */
export const MAX_MODEL_NAME_CHARS = 80;
/** At most this many UTF-8 bytes: a folder name may have 255, and the save's side folders add about 25. */
export const MAX_MODEL_NAME_BYTES = 200;

/** Letters and digits of any script (with their combining marks), spaces, dots, dashes, underscores, brackets. */
const ALLOWED = /^[\p{L}\p{M}\p{N} ._\-()[\]]$/u;
/** Windows' device names, in any case, alone or before an extension ("nul.txt", "COM1 .tar.gz"). */
const WINDOWS_RESERVED = /^(CON|PRN|AUX|NUL|COM[1-9¹²³]|LPT[1-9¹²³]) *(\.|$)/i;

/** Why a name is refused: a code and its values, so each interface can word it in its own language. */
export type ModelNameProblem =
  | 'empty' | 'too-long' | 'too-many-bytes' | 'separator' | 'dot-dot' | 'control' | 'character'
  | 'leading-dot' | 'leading-space' | 'trailing-dot-or-space' | 'reserved';
export type ModelNameCheck =
  | { ok: true; name: string }
  | { ok: false; reason: string; problem: ModelNameProblem; params: Record<string, string | number> };

const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Checks a proposed model name; on success `name` is the NFC form to store. */
export function checkModelName(raw: string): ModelNameCheck {
  const name = raw.normalize('NFC');
  const refuse = (reason: string, problem: ModelNameProblem, params: Record<string, string | number> = {}): ModelNameCheck =>
    ({ ok: false, reason, problem, params });
  if (name.length === 0) return refuse('the name is empty', 'empty');
  const chars = [...name];
  if (chars.length > MAX_MODEL_NAME_CHARS) return refuse(`the name has ${chars.length} characters; at most ${MAX_MODEL_NAME_CHARS} are allowed`, 'too-long', { count: chars.length, max: MAX_MODEL_NAME_CHARS });
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_MODEL_NAME_BYTES) {
    return refuse(`the name takes ${bytes} bytes in UTF-8; at most ${MAX_MODEL_NAME_BYTES} are allowed (about 66 Chinese characters)`, 'too-many-bytes', { bytes, max: MAX_MODEL_NAME_BYTES });
  }
  if (name.includes('/') || name.includes('\\')) return refuse('a name cannot hold / or \\ (it would be a path, not a name)', 'separator');
  if (name.includes('..')) return refuse('a name cannot hold ".."', 'dot-dot');
  for (const ch of chars) {
    if (/\p{Cc}/u.test(ch)) return refuse(`a name cannot hold control characters (${codePoint(ch)})`, 'control', { code: codePoint(ch) });
    if (!ALLOWED.test(ch)) {
      return refuse(`"${ch}" (${codePoint(ch)}) is not allowed: use letters, digits, spaces, dots, dashes, underscores and brackets`, 'character', { char: ch, code: codePoint(ch) });
    }
  }
  if (name.startsWith('.')) return refuse('a name cannot start with a dot (the folder would be hidden)', 'leading-dot');
  if (name.startsWith(' ')) return refuse('a name cannot start with a space', 'leading-space');
  if (name.endsWith('.') || name.endsWith(' ')) return refuse('a name cannot end with a dot or a space (Windows drops them)', 'trailing-dot-or-space');
  const reserved = WINDOWS_RESERVED.exec(name);
  if (reserved) return refuse(`"${reserved[1]}" is a device name on Windows and cannot name a folder there`, 'reserved', { name: reserved[1]! });
  return { ok: true, name };
}

/** The contract's schema for a model name: refuses with the rule's reason, gives the NFC name. */
export const ModelName = z.string().max(1024).transform((raw, ctx) => {
  const checked = checkModelName(raw);
  if (!checked.ok) {
    ctx.addIssue({ code: 'custom', message: checked.reason });
    return z.NEVER;
  }
  return checked.name;
});
