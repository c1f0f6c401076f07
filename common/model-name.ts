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

export type ModelNameCheck = { ok: true; name: string } | { ok: false; reason: string };

const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Checks a proposed model name; on success `name` is the NFC form to store. */
export function checkModelName(raw: string): ModelNameCheck {
  const name = raw.normalize('NFC');
  const refuse = (reason: string): ModelNameCheck => ({ ok: false, reason });
  if (name.length === 0) return refuse('the name is empty');
  const chars = [...name];
  if (chars.length > MAX_MODEL_NAME_CHARS) return refuse(`the name has ${chars.length} characters; at most ${MAX_MODEL_NAME_CHARS} are allowed`);
  const bytes = new TextEncoder().encode(name).length;
  if (bytes > MAX_MODEL_NAME_BYTES) {
    return refuse(`the name takes ${bytes} bytes in UTF-8; at most ${MAX_MODEL_NAME_BYTES} are allowed (about 66 Chinese characters)`);
  }
  if (name.includes('/') || name.includes('\\')) return refuse('a name cannot hold / or \\ (it would be a path, not a name)');
  if (name.includes('..')) return refuse('a name cannot hold ".."');
  for (const ch of chars) {
    if (/\p{Cc}/u.test(ch)) return refuse(`a name cannot hold control characters (${codePoint(ch)})`);
    if (!ALLOWED.test(ch)) {
      return refuse(`"${ch}" (${codePoint(ch)}) is not allowed: use letters, digits, spaces, dots, dashes, underscores and brackets`);
    }
  }
  if (name.startsWith('.')) return refuse('a name cannot start with a dot (the folder would be hidden)');
  if (name.startsWith(' ')) return refuse('a name cannot start with a space');
  if (name.endsWith('.') || name.endsWith(' ')) return refuse('a name cannot end with a dot or a space (Windows drops them)');
  const reserved = WINDOWS_RESERVED.exec(name);
  if (reserved) return refuse(`"${reserved[1]}" is a device name on Windows and cannot name a folder there`);
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
