// Names and bytes for the files the page exports (panel PNGs, CSV tables, .lenetlab models) and the checks an
// import makes before anything is sent. Pure, so it is unit-tested; the saving itself is lab.saveFile.
import { checkModelName, MAX_MODEL_NAME_CHARS } from '../../../common/model-name.js';
import { MAX_UPLOAD_BASE64_CHARS, SAVE_FILE_EXTENSIONS, type SaveFileKind } from '../../../common/file-kinds.js';

/** The largest .lenetlab the page uploads: the base64 limit of importModel, in bytes (750,000). */
export const MAX_IMPORT_BYTES = Math.floor(MAX_UPLOAD_BASE64_CHARS / 4) * 3;
/** File-name stems stay well under every OS's 255-byte limit, with room for a date and an extension. */
export const MAX_STEM_CHARS = 100;

/** Characters Windows, macOS or Linux refuse or misread in a file name (and control characters). */
const UNSAFE = /[<>:"/\\|?*\u0000-\u001f\u007f]/gu; // eslint-disable-line no-control-regex -- control characters are what this removes

/** A name any OS accepts: unsafe characters become "-", spaces collapse, no leading or trailing dots or spaces. */
export function safeFileStem(text: string): string {
  const cleaned = text.normalize('NFC').replace(/\s+/gu, ' ').replace(UNSAFE, '-').replace(/^[ .]+|[ .]+$/gu, '');
  const capped = [...cleaned].slice(0, MAX_STEM_CHARS).join('').replace(/[ .]+$/u, '');
  return capped || 'lenet-lab';
}

const pad = (n: number): string => String(n).padStart(2, '0');
/** "2026-12-06 19-55": sorts by time, valid everywhere (no colons). */
export const fileStamp = (now: Date): string =>
  `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}-${pad(now.getMinutes())}`;

/** "lenet5 loss chart 2026-12-06 19-55.png": what, of which model, when. Empty parts are left out. */
export function exportFileName(parts: readonly (string | null | undefined)[], kind: SaveFileKind, now: Date): string {
  const stem = safeFileStem(parts.filter((part): part is string => !!part && part.trim() !== '').join(' '));
  return `${stem} ${fileStamp(now)}${SAVE_FILE_EXTENSIONS[kind]}`;
}

/** The same name with the kind's extension in place of the host's (the host names CSVs "model-kind.csv"). */
export function withKindExtension(fileName: string, kind: SaveFileKind): string {
  const extension = SAVE_FILE_EXTENSIONS[kind];
  const stem = fileName.toLowerCase().endsWith(extension) ? fileName.slice(0, -extension.length) : fileName;
  return `${safeFileStem(stem)}${extension}`;
}

/** Bytes as standard padded base64 (chunked: String.fromCharCode(...all) overflows on megabytes). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export const textToBase64 = (text: string): string => bytesToBase64(new TextEncoder().encode(text));

export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export type ImportCheck = { ok: true } | { ok: false; problem: 'extension' | 'empty' | 'too-large'; maxBytes: number };

/** Checks a picked file before it is read and sent: a .lenetlab, not empty, within the upload limit. */
export function checkImportFile(file: { name: string; size: number }): ImportCheck {
  if (!file.name.toLowerCase().endsWith(SAVE_FILE_EXTENSIONS.lenetlab)) return { ok: false, problem: 'extension', maxBytes: MAX_IMPORT_BYTES };
  if (file.size === 0) return { ok: false, problem: 'empty', maxBytes: MAX_IMPORT_BYTES };
  if (file.size > MAX_IMPORT_BYTES) return { ok: false, problem: 'too-large', maxBytes: MAX_IMPORT_BYTES };
  return { ok: true };
}

/**
 * A model name not yet taken (case-blind, as folders on Windows and macOS are): "name", else "name (2)",
 * "name (3)"…, shortened so the suffix fits the name limit. Null when no valid name is found.
 */
export function freeModelName(name: string, taken: readonly string[]): string | null {
  const used = new Set(taken.map((n) => n.normalize('NFC').toLowerCase()));
  for (let i = 1; i <= 999; i++) {
    const suffix = i === 1 ? '' : ` (${i})`;
    const stem = [...name.normalize('NFC')].slice(0, MAX_MODEL_NAME_CHARS - suffix.length).join('').replace(/[ .]+$/u, '');
    const candidate = `${stem}${suffix}`;
    const checked = checkModelName(candidate);
    if (checked.ok && !used.has(checked.name.toLowerCase())) return checked.name;
  }
  return null;
}
