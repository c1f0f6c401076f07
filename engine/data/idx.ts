// IDX reader for the uint8 tensors MNIST-style datasets ship as (plain or gzip).
// Every way a file can be wrong gets its own UserError naming the file, the fault and what was expected,
// because these files come from users (a downloaded Fashion-MNIST, a half-finished copy, a renamed file).
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync, inflateRawSync } from 'node:zlib';
import { UserError } from '../../common/errors.js';

export interface IdxTensor {
  /** [count] for labels, [count, rows, cols] for images. */
  dims: number[];
  /**
   * Row-major uint8 values, a view into the file's bytes (no copy). A plain file's bytes are read into shared
   * memory, so a run's second engine (another thread) reads the images in place.
   */
  data: Uint8Array;
}

export type IdxRole = 'images' | 'labels';

export interface IdxReadOptions {
  /** Upper bound on the decompressed size of a gzip file, in bytes. Defaults to the largest valid file. */
  maxDecompressedBytes?: number;
}

/** At most this many images or labels in one file. */
export const MAX_IDX_ITEMS = 10_000_000;
/** At most this many rows or columns per image. */
export const MAX_IDX_SIDE = 1024;
/** At most this many payload bytes in one file (1 GiB). */
export const MAX_IDX_PAYLOAD_BYTES = 1024 ** 3;

const UINT8_TYPE = 0x08;
const DIMS_FOR_ROLE: Record<IdxRole, number> = { images: 3, labels: 1 };
const DIM_NAMES: Record<IdxRole, string> = { images: 'count, rows, cols', labels: 'count' };
const LARGEST_HEADER = 4 + 4 * 3;
/** The largest file a valid header can describe; the default cap on gzip output. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = MAX_IDX_PAYLOAD_BYTES + LARGEST_HEADER;

const IDX_TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte', 0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
};

const hex32 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');
const hex8 = (n: number): string => '0x' + n.toString(16).padStart(2, '0');
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const bytesText = (n: number): string => `${n} ${n === 1 ? 'byte' : 'bytes'}`;

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

interface IdxHeader { headerBytes: number; dims: number[]; payloadBytes: number }

/** What the header declares, e.g. "60000 images of 28×28" or "10000 labels". */
function describeDims(expect: IdxRole, dims: readonly number[]): string {
  if (expect === 'images') return `${plural(dims[0] ?? 0, 'image')} of ${dims[1]}×${dims[2]}`;
  return plural(dims[0] ?? 0, 'label');
}

/** Reads and validates the header; throws a UserError for every malformed field. */
function parseHeader(bytes: Uint8Array, fileLabel: string, expect: IdxRole): IdxHeader {
  const wantDims = DIMS_FOR_ROLE[expect];
  const wantMagic = (UINT8_TYPE << 8) | wantDims;
  const headerBytes = 4 + 4 * wantDims;
  const what = `an IDX ${expect} file`;
  if (bytes.length < 4) {
    throw new UserError('bad-file',
      `${fileLabel}: file is too short to be ${what} (magic ${hex32(wantMagic)}): it has ${bytesText(bytes.length)}, the header alone needs ${headerBytes}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const dtype = bytes[2] ?? 0;
  // Not an IDX file at all unless it starts 00 00 <a known IDX type>; a known non-uint8 type is "unsupported".
  if (bytes[0] !== 0 || bytes[1] !== 0 || IDX_TYPE_NAMES[dtype] === undefined) {
    throw new UserError('bad-file',
      `${fileLabel}: wrong magic number: found ${hex32(magic)}, expected ${hex32(wantMagic)} (IDX uint8 ${expect}); is this an IDX file?`);
  }
  if (dtype !== UINT8_TYPE) {
    throw new UserError('bad-file',
      `${fileLabel}: unsupported data type ${hex8(dtype)} (${IDX_TYPE_NAMES[dtype]}) in magic ${hex32(magic)}: only ${hex8(UINT8_TYPE)} (unsigned byte) is supported`);
  }
  const ndims = bytes[3] ?? 0;
  if (ndims !== wantDims) {
    const hint = ndims === 1 ? ' (looks like a labels file)' : ndims === 3 ? ' (looks like an images file)' : '';
    throw new UserError('bad-file',
      `${fileLabel}: wrong number of dimensions: found ${ndims}${hint}, expected ${wantDims} (${DIM_NAMES[expect]}) for ${expect} (magic ${hex32(wantMagic)})`);
  }
  if (bytes.length < headerBytes) {
    throw new UserError('bad-file',
      `${fileLabel}: truncated header: ${expect} need a ${headerBytes}-byte header but the file has ${bytesText(bytes.length)}`);
  }
  const dims: number[] = [];
  for (let i = 0; i < wantDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const [count = 0, rows = 1, cols = 1] = dims;
  if (count === 0) {
    throw new UserError('bad-file', `${fileLabel}: the header declares 0 ${expect}; expected at least 1`);
  }
  if (count > MAX_IDX_ITEMS) {
    throw new UserError('bad-file',
      `${fileLabel}: the header declares ${count} ${expect}, more than the limit of ${MAX_IDX_ITEMS}`);
  }
  if (expect === 'images') {
    if (rows === 0 || cols === 0) {
      throw new UserError('bad-file', `${fileLabel}: the header declares images of ${rows}×${cols}; expected both sides at least 1`);
    }
    if (rows > MAX_IDX_SIDE || cols > MAX_IDX_SIDE) {
      throw new UserError('bad-file',
        `${fileLabel}: the header declares images of ${rows}×${cols}, larger than the limit of ${MAX_IDX_SIDE}×${MAX_IDX_SIDE}`);
    }
  }
  const payloadBytes = count * rows * cols; // ≤ 1e7 · 1024² < 2^53, exact
  if (payloadBytes > MAX_IDX_PAYLOAD_BYTES) {
    throw new UserError('bad-file',
      `${fileLabel}: the header declares ${describeDims(expect, dims)} (${payloadBytes} bytes), more than the limit of ${MAX_IDX_PAYLOAD_BYTES} bytes (1 GiB)`);
  }
  return { headerBytes, dims, payloadBytes };
}

function checkLength(header: IdxHeader, actualBytes: number, fileLabel: string, expect: IdxRole): void {
  const expected = header.headerBytes + header.payloadBytes;
  if (actualBytes < expected) {
    throw new UserError('bad-file',
      `${fileLabel}: truncated: header declares ${describeDims(expect, header.dims)} (${expected} bytes) but the file has ${bytesText(actualBytes)}`);
  }
  if (actualBytes > expected) {
    throw new UserError('bad-file',
      `${fileLabel}: ${bytesText(actualBytes - expected)} of trailing data: header declares ${describeDims(expect, header.dims)} (${expected} bytes) but the file has ${actualBytes}`);
  }
}

/** The payload as a plain Uint8Array view (not a Buffer, whose slice() would alias instead of copy). */
const payloadView = (bytes: Uint8Array, header: IdxHeader): Uint8Array =>
  new Uint8Array(bytes.buffer, bytes.byteOffset + header.headerBytes, header.payloadBytes);

function gunzipOrThrow(bytes: Uint8Array, fileLabel: string, options: { maxOutputLength?: number; finishFlush?: number }): Buffer {
  try {
    return gunzipSync(bytes, options);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw e; // the caller words this one
    const reason = e instanceof Error ? e.message : String(e);
    throw new UserError('bad-file', `${fileLabel}: corrupt or truncated gzip data (${reason})`);
  }
}

/** Gzip header flags (RFC 1952 §2.3.1). */
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xe0;

/**
 * Where a gzip member's deflate data starts, past its optional fields (extra, file name, comment, header
 * CRC), however long they are: a long name field cannot hide the IDX header from the peek.
 */
function gzipDataOffset(bytes: Uint8Array, fileLabel: string): number {
  const truncated = (): never => {
    throw new UserError('bad-file', `${fileLabel}: corrupt or truncated gzip data (the gzip header ends early)`);
  };
  if (bytes.length < 10) truncated();
  if (bytes[2] !== 8) throw new UserError('bad-file', `${fileLabel}: corrupt gzip data (compression method ${bytes[2]}, expected 8, deflate)`);
  const flags = bytes[3]!;
  if (flags & FRESERVED) throw new UserError('bad-file', `${fileLabel}: corrupt gzip data (reserved header flags are set)`);
  let offset = 10;
  if (flags & FEXTRA) {
    if (offset + 2 > bytes.length) truncated();
    offset += 2 + (bytes[offset]! | (bytes[offset + 1]! << 8));
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const end = bytes.indexOf(0, offset);
    if (end < 0) truncated();
    offset = end + 1;
  }
  if (flags & FHCRC) offset += 2;
  if (offset > bytes.length) truncated();
  return offset;
}

/**
 * The first decompressed bytes of a gzip file, enough for the IDX header, without inflating the whole stream:
 * inflate only a short prefix of the deflate data (deflate expands at most ~1032×). A stream whose first
 * 64 KiB of deflate data yield no IDX header (padding blocks) is refused rather than inflated in full.
 */
function peekGunzip(bytes: Uint8Array, fileLabel: string, need: number): Buffer {
  const data = bytes.subarray(gzipDataOffset(bytes, fileLabel));
  for (const prefix of [512, 8192, 65536]) {
    const part = data.subarray(0, prefix);
    let out: Buffer;
    try {
      out = inflateRawSync(part, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new UserError('bad-file', `${fileLabel}: corrupt or truncated gzip data (${e instanceof Error ? e.message : String(e)})`);
    }
    if (out.length >= need || part.length === data.length) return out;
  }
  throw new UserError('bad-file', `${fileLabel}: corrupt gzip data: its first 64 KiB of compressed data hold no IDX header`);
}

/**
 * Parses the bytes of an IDX file (plain, or gzip detected by its 1f 8b magic) holding uint8 images
 * ([count, rows, cols]) or labels ([count]). `fileLabel` names the file in error messages.
 */
export function parseIdx(bytes: Uint8Array, fileLabel: string, expect: IdxRole, options: IdxReadOptions = {}): IdxTensor {
  if (!isGzip(bytes)) {
    const header = parseHeader(bytes, fileLabel, expect);
    checkLength(header, bytes.length, fileLabel, expect);
    return { dims: header.dims, data: payloadView(bytes, header) };
  }

  const cap = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const headerSize = 4 + 4 * DIMS_FOR_ROLE[expect];
  // Validate the header before inflating: a bomb behind a bogus or huge header never gets decompressed.
  const header = parseHeader(peekGunzip(bytes, fileLabel, headerSize), fileLabel, expect);
  const declared = header.headerBytes + header.payloadBytes;
  if (declared > cap) {
    throw new UserError('bad-file',
      `${fileLabel}: the header declares ${describeDims(expect, header.dims)} (${declared} bytes), more than the ${cap}-byte limit for decompressed gzip data`);
  }
  // Inflate no further than the header's own size (+1 to notice trailing data): a gzip bomb stops there.
  let inflated: Buffer;
  try {
    inflated = gunzipOrThrow(bytes, fileLabel, { maxOutputLength: declared + 1 });
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ERR_BUFFER_TOO_LARGE') throw e;
    throw new UserError('bad-file',
      `${fileLabel}: gzip data decompresses to more than expected (the header declares ${describeDims(expect, header.dims)} (${declared} bytes)); trailing data or a gzip bomb`);
  }
  checkLength(header, inflated.length, fileLabel, expect);
  return { dims: header.dims, data: payloadView(inflated, header) };
}

/** Reads and parses one IDX file. A missing file is a 'not-found' UserError. */
export function readIdxFile(path: string, expect: IdxRole, options: IdxReadOptions = {}): IdxTensor {
  const fileLabel = path;
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new UserError('bad-file', `${fileLabel}: not a regular file; expected an IDX ${expect} file`);
    size = stat.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UserError('not-found', `${fileLabel}: file not found; expected an IDX ${expect} file here`);
    }
    throw new UserError('bad-file', `${fileLabel}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Refuse to read a file no valid IDX file (plain, or its gzip) could be; no compressed file is larger than its data.
  if (size > DEFAULT_MAX_DECOMPRESSED_BYTES + 1024 * 1024) {
    throw new UserError('bad-file',
      `${fileLabel}: file is ${size} bytes, more than the limit of ${DEFAULT_MAX_DECOMPRESSED_BYTES} bytes for an IDX ${expect} file`);
  }
  let bytes: Uint8Array;
  try {
    bytes = size > 0 ? readShared(path, size) : readFileSync(path); // a size of 0 may be unknown (procfs): read to the end
  } catch (e) {
    throw new UserError('bad-file', `${fileLabel}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseIdx(bytes, fileLabel, expect, options);
}

/** The file's bytes (at most `size`: a file that grew is read as it was measured) in a SharedArrayBuffer. */
function readShared(path: string, size: number): Uint8Array {
  const bytes = new Uint8Array(new SharedArrayBuffer(size));
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    for (let n = -1; done < size && n !== 0; done += n) n = readSync(fd, bytes, done, size - done, done);
    return done < size ? bytes.subarray(0, done) : bytes;
  } finally {
    closeSync(fd);
  }
}
