// The files the app moves between a page and the disk: their kinds, extensions and size limits. Plain
// constants (no zod), so the renderer can use them without bundling the contract's schemas.

export const SAVE_FILE_KINDS = ['png', 'csv', 'lenetlab'] as const;
export type SaveFileKind = (typeof SAVE_FILE_KINDS)[number];
export const SAVE_FILE_EXTENSIONS: Record<SaveFileKind, string> = { png: '.png', csv: '.csv', lenetlab: '.lenetlab' };

/**
 * The largest .lenetlab a page may upload in one request, as base64 characters: the whole request frame must
 * stay under BRIDGE_MAX_FRAME_BYTES (1 MiB). 1,000,000 characters = 750,000 bytes, about three times a
 * model with its full history and timeline (≈300–500 KB). Larger files import with the CLI.
 */
export const MAX_UPLOAD_BASE64_CHARS = 1_000_000;

/**
 * The largest file a window may save in one request, as base64 characters: 64 Mi characters = 48 MiB, far
 * above a panel picture at twice the screen's size (a few MB) or a .lenetlab (MAX_MODEL_FILE_BYTES ≈ 17 MiB).
 */
export const MAX_SAVE_BASE64_CHARS = 64 * 1024 * 1024;
/** A suggested file name's length limit, extension included. */
export const MAX_SUGGESTED_NAME_CHARS = 200;
