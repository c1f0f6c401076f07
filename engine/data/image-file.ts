// Decodes a PNG or JPEG file to grayscale for `predict` (node only; the renderer decodes with the browser).
// Files come from anywhere, so the size is read from the header and checked before anything is decoded.
import { readFileSync, statSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { UserError } from '../../common/errors.js';
import { rgbaToGray } from '../../common/preprocess.js';

export interface DecodedImage {
  /** width × height grayscale values 0..255, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** Largest accepted side, in pixels. */
export const MAX_IMAGE_SIDE = 4096;
/** Largest accepted file, in bytes (a 4096×4096 image compresses to far less). */
export const MAX_IMAGE_FILE_BYTES = 128 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const startsWith = (bytes: Uint8Array, prefix: readonly number[]): boolean =>
  bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
const ascii = (bytes: Uint8Array, from: number, to: number): string =>
  String.fromCharCode(...bytes.subarray(from, to));

/** "89 50 4e 47 …" and, when it reads as text, the text too: tells the user what they actually gave us. */
function describeStart(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  const head = bytes.subarray(0, 8);
  const hex = Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ');
  const printable = head.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d);
  const text = printable ? ` ("${ascii(head, 0, head.length).replace(/\s+/g, ' ')}…", text)` : '';
  return `it starts with ${hex}${text}`;
}

/** Names formats people commonly try, so the message says what to do instead. */
function otherFormat(bytes: Uint8Array): string | undefined {
  if (ascii(bytes, 0, 4) === 'GIF8') return 'a GIF image';
  if (bytes[0] === 0x42 && bytes[1] === 0x4d) return 'a BMP image';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'a WebP image';
  if (ascii(bytes, 0, 4) === '%PDF') return 'a PDF document';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'a TIFF image';
  return undefined;
}

function checkSize(file: string, format: string, width: number, height: number): void {
  if (width === 0 || height === 0) {
    throw new UserError('bad-file', `${file}: the ${format} is ${width}×${height} pixels; an image needs at least 1×1`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new UserError('bad-file',
      `${file}: the ${format} is ${width}×${height} pixels, larger than the limit of ${MAX_IMAGE_SIDE}×${MAX_IMAGE_SIDE}`);
  }
}

const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** The bit depths each colour type allows (PNG spec, table 11.1). */
const PNG_DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const PNG_COLOR_TYPE_NAMES: Record<number, string> = { 0: 'grayscale', 2: 'RGB', 3: 'palette', 4: 'grayscale with alpha', 6: 'RGBA' };

/** Walks the PNG chunks: checks IHDR's size before decoding, and that no chunk runs past the end of the file. */
function checkPng(bytes: Uint8Array, file: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || ascii(bytes, 12, 16) !== 'IHDR') {
    throw new UserError('bad-file', `${file}: corrupt PNG: no image header (IHDR) after the PNG signature`);
  }
  const width = view.getUint32(16, false);
  const height = view.getUint32(20, false);
  checkSize(file, 'PNG', width, height);
  // Every IHDR field is checked before it sizes anything: the inflate limit below is computed from them.
  const depth = bytes[24]!;
  const colorType = bytes[25]!;
  const channels = PNG_CHANNELS[colorType];
  if (channels === undefined) throw new UserError('bad-file', `${file}: corrupt PNG: unknown color type ${colorType}`);
  if (!PNG_DEPTHS[colorType]!.includes(depth)) {
    throw new UserError('bad-file',
      `${file}: corrupt PNG: bit depth ${depth} is not valid for ${PNG_COLOR_TYPE_NAMES[colorType]} images (allowed: ${PNG_DEPTHS[colorType]!.join(', ')})`);
  }
  if (bytes[26] !== 0 || bytes[27] !== 0 || bytes[28]! > 1) {
    throw new UserError('bad-file', `${file}: corrupt PNG: unknown compression, filter or interlace method in the image header`);
  }
  const interlaced = bytes[28] === 1;

  const idat: Uint8Array[] = [];
  let offset = 8;
  let sawEnd = false;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset, false);
    const type = ascii(bytes, offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) {
      throw new UserError('bad-file',
        `${file}: truncated PNG: the ${type} chunk needs ${end - offset} bytes at offset ${offset} but the file has ${bytes.length - offset} left`);
    }
    if (type === 'IDAT') idat.push(bytes.subarray(offset + 8, offset + 8 + length));
    offset = end;
    if (type === 'IEND') { sawEnd = true; break; }
  }
  if (!sawEnd) throw new UserError('bad-file', `${file}: truncated PNG: the file ends before the IEND chunk`);
  if (idat.length === 0) throw new UserError('bad-file', `${file}: corrupt PNG: no image data (IDAT)`);

  // Inflate once under a bound set by the header, before pngjs does: a PNG bomb stops here with a clear message,
  // and so does image data too short for the declared size. (Interlacing adds filter bytes per pass, never 2×.)
  const rowBytes = Math.ceil((width * channels * depth) / 8) + 1;
  const exact = rowBytes * height;
  const bound = interlaced ? 2 * exact + 1024 : exact;
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: bound });
  } catch (e) {
    const big = (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new UserError('bad-file', big
      ? `${file}: corrupt PNG: its image data decompresses to more than a ${width}×${height} image holds`
      : `${file}: corrupt PNG (damaged or truncated image data): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!interlaced && inflated.length < exact) {
    throw new UserError('bad-file',
      `${file}: corrupt PNG: its image data holds ${inflated.length} bytes, a ${width}×${height} image needs ${exact}`);
  }
}

const isSofMarker = (m: number): boolean =>
  m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Finds the frame header (SOF) and returns the declared size, without decoding any pixels. */
function jpegSize(bytes: Uint8Array, file: string): { width: number; height: number } {
  let offset = 2;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) {
      throw new UserError('bad-file', `${file}: corrupt JPEG: expected a marker at offset ${offset}`);
    }
    const marker = bytes[offset + 1];
    if (marker === undefined) break;
    if (marker === 0xff) { offset++; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { offset += 2; continue; } // no length
    if (marker === 0xd9 || marker === 0xda) {
      throw new UserError('bad-file', `${file}: corrupt JPEG: no frame header (SOF) before the image data`);
    }
    if (offset + 4 > bytes.length) break;
    const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    if (isSofMarker(marker)) {
      if (offset + 9 > bytes.length) break;
      const height = (bytes[offset + 5]! << 8) | bytes[offset + 6]!;
      const width = (bytes[offset + 7]! << 8) | bytes[offset + 8]!;
      return { width, height };
    }
    if (length < 2) throw new UserError('bad-file', `${file}: corrupt JPEG: bad segment length ${length} at offset ${offset}`);
    offset += 2 + length;
  }
  throw new UserError('bad-file', `${file}: truncated JPEG: the file ends before the frame header (SOF)`);
}

function decodePng(bytes: Buffer, file: string): DecodedImage {
  checkPng(bytes, file);
  let png: { width: number; height: number; data: Buffer };
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new UserError('bad-file', `${file}: corrupt PNG: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { data: new Uint8Array(rgbaToGray(png.data, png.width, png.height).buffer), width: png.width, height: png.height };
}

function decodeJpeg(bytes: Buffer, file: string): DecodedImage {
  const { width, height } = jpegSize(bytes, file);
  checkSize(file, 'JPEG', width, height);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      maxResolutionInMP: Math.ceil((MAX_IMAGE_SIDE * MAX_IMAGE_SIDE) / 1e6),
      maxMemoryUsageInMB: 256,
    });
  } catch (e) {
    throw new UserError('bad-file', `${file}: corrupt JPEG (damaged or truncated): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (decoded.width !== width || decoded.height !== height) {
    throw new UserError('bad-file', `${file}: corrupt JPEG: decoded ${decoded.width}×${decoded.height}, header says ${width}×${height}`);
  }
  return { data: new Uint8Array(rgbaToGray(decoded.data, width, height).buffer), width, height };
}

/** Reads a PNG or JPEG (detected by content, not extension) as grayscale 0..255. */
export function decodeImageFile(path: string): DecodedImage {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UserError('bad-file', `${path}: not a regular file; expected a PNG or JPEG image`);
    size = stat.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError('not-found', `${path}: file not found`);
    throw new UserError('bad-file', `${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (size > MAX_IMAGE_FILE_BYTES) {
    throw new UserError('bad-file', `${path}: the file is ${size} bytes, more than the ${MAX_IMAGE_FILE_BYTES}-byte limit for an image`);
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError('bad-file', `${path}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (startsWith(bytes, PNG_SIGNATURE)) return decodePng(bytes, path);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return decodeJpeg(bytes, path);
  const other = otherFormat(bytes);
  throw new UserError('bad-file', other
    ? `${path}: not a PNG or JPEG: it is ${other}; save it as PNG or JPEG`
    : `${path}: not an image: expected a PNG or JPEG, but ${describeStart(bytes)}`);
}
