// engine/data's refusals, one per row, with the literal message each must give: gzip headers written by hand
// (RFC 1952), JPEG marker walks, PNG headers, other formats people try, dataset folders and limits. Small files
// built byte by byte, so each row is an oracle of its own and runs in milliseconds (mutation testing reruns it).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { userErrorOutcome } from './user-error-outcome.js';
import { clearDatasetCache, loadDataset } from '../../engine/data/dataset.js';
import { parseIdx, readIdxFile } from '../../engine/data/idx.js';
import { decodeImageFile } from '../../engine/data/image-file.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-data-refusals-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, bytes: Uint8Array | number[]): string => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Uint8Array.from(bytes));
  return file;
};
/** What a call throws: [code, message], or ['ok', ''] when it returns. */
const outcome = userErrorOutcome;

// ---- IDX in gzip members written by hand.
const u32 = (...values: number[]) => Buffer.concat(values.map((v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; }));
const labelsIdx = Buffer.concat([u32(0x801, 3), Buffer.from([4, 5, 6])]);
interface GzipFields { method?: number; flags?: number; extra?: Buffer; name?: string; comment?: string; hcrc?: boolean }
function gzip(payload: Buffer, fields: GzipFields = {}): Buffer {
  const flags = (fields.flags ?? 0) | (fields.extra ? 0x04 : 0) | (fields.name !== undefined ? 0x08 : 0) | (fields.comment !== undefined ? 0x10 : 0) | (fields.hcrc ? 0x02 : 0);
  const parts = [Buffer.from([0x1f, 0x8b, fields.method ?? 8, flags, 0, 0, 0, 0, 0, 0xff])];
  if (fields.extra) parts.push(Buffer.from([fields.extra.length & 0xff, fields.extra.length >> 8]), fields.extra);
  if (fields.name !== undefined) parts.push(Buffer.from(fields.name + '\0', 'latin1'));
  if (fields.comment !== undefined) parts.push(Buffer.from(fields.comment + '\0', 'latin1'));
  if (fields.hcrc) {
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(zlib.crc32(Buffer.concat(parts)) & 0xffff);
    parts.push(crc);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(payload), 0);
  trailer.writeUInt32LE(payload.length, 4);
  return Buffer.concat([...parts, zlib.deflateRawSync(payload), trailer]);
}

describe('gzip headers (RFC 1952 §2.3): every optional field is skipped, whatever its length', () => {
  it.each([
    ['no optional field', {}],
    ['an extra field of 300 bytes', { extra: Buffer.alloc(300, 0x41) }],
    ['an empty extra field', { extra: Buffer.alloc(0) }],
    ['a file name', { name: 'labels.idx' }],
    ['a comment', { comment: 'from the class of 2026' }],
    ['a header CRC', { hcrc: true }],
    ['all four', { extra: Buffer.from('ab'), name: 'n', comment: 'c', hcrc: true }],
    ['a name over 8 KiB (past the first peek)', { name: 'x'.repeat(9000) }],
  ] as [string, GzipFields][])('%s', (_what, fields) => {
    const { dims, data } = parseIdx(gzip(labelsIdx, fields), 'l.gz', 'labels');
    expect(dims).toEqual([3]);
    expect(Array.from(data)).toEqual([4, 5, 6]);
  });

  const whole = gzip(labelsIdx);
  it.each([
    ['compression method 7', gzip(labelsIdx, { method: 7 }), 'l.gz: corrupt gzip data (compression method 7, expected 8, deflate)'],
    ['a reserved flag (0x20)', gzip(labelsIdx, { flags: 0x20 }), 'l.gz: corrupt gzip data (reserved header flags are set)'],
    ['a reserved flag (0x80)', gzip(labelsIdx, { flags: 0x80 }), 'l.gz: corrupt gzip data (reserved header flags are set)'],
    ['9 bytes', whole.subarray(0, 9), 'l.gz: corrupt or truncated gzip data (the gzip header ends early)'],
    ['an extra-field length cut off', Buffer.from([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 0xff, 5]), 'l.gz: corrupt or truncated gzip data (the gzip header ends early)'],
    ['an extra field longer than the file', Buffer.from([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 0xff, 5, 0, 1, 2]), 'l.gz: corrupt or truncated gzip data (the gzip header ends early)'],
    ['a file name with no end', Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff, 0x61, 0x62]), 'l.gz: corrupt or truncated gzip data (the gzip header ends early)'],
    ['a comment with no end', Buffer.from([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 0xff, 0x61]), 'l.gz: corrupt or truncated gzip data (the gzip header ends early)'],
    ['a header CRC cut off', Buffer.from([0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, 0, 0xff, 0]), 'l.gz: corrupt or truncated gzip data (the gzip header ends early)'],
  ])('%s is refused', (_what, bytes, message) => {
    expect(outcome(() => parseIdx(bytes, 'l.gz', 'labels'))).toEqual(['bad-file', message]);
  });

  it.each([
    ['10 bytes of header', whole.subarray(0, 10)],
    ['a header whose empty extra field ends the file', Buffer.from([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 0xff, 0, 0])],
    ['a header whose CRC ends the file', Buffer.from([0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, 0, 0xff, 0, 0])],
  ])('%s and nothing else: the header is whole, the data is what is missing', (_what, bytes) => {
    // No deflate data inflates to nothing: zero bytes, too short for an IDX header.
    expect(outcome(() => parseIdx(bytes, 'l.gz', 'labels')))
      .toEqual(['bad-file', 'l.gz: file is too short to be an IDX labels file (magic 0x00000801): it has 0 bytes, the header alone needs 8']);
  });

  it('a short stream read whole gives the IDX reader\'s own reason, not "no IDX header in 64 KiB"', () => {
    const [code, message] = outcome(() => parseIdx(gzip(Buffer.from([0, 0, 8, 1, 0])), 'l.gz', 'labels'));
    expect(code).toBe('bad-file');
    expect(message).toMatch(/^l\.gz: /);
    expect(message).not.toContain('64 KiB');
  });

  it('a gzip whose compressed data is over 64 KiB (as Fashion-MNIST\'s are) is read from a peek at its start', () => {
    const noise = randomBytes(100 * 784); // incompressible
    const imagesIdx = Buffer.concat([u32(0x803, 100, 28, 28), noise]);
    const zipped = gzip(imagesIdx);
    expect(zipped.length).toBeGreaterThan(65536 + 18);
    const { dims, data } = parseIdx(zipped, 'i.gz', 'images');
    expect(dims).toEqual([100, 28, 28]);
    expect(Buffer.from(data).equals(noise)).toBe(true);
  });

  it('an images header split by 600 bytes of empty deflate blocks after its first 8 bytes is read (the peek goes on to 16)', () => {
    const imagesIdx = Buffer.concat([u32(0x803, 1, 2, 2), Buffer.from([1, 2, 3, 4])]);
    const first = zlib.deflateRawSync(imagesIdx.subarray(0, 8), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const empty = Buffer.concat(Array.from({ length: 120 }, () => Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])));
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(zlib.crc32(imagesIdx), 0);
    trailer.writeUInt32LE(imagesIdx.length, 4);
    const bytes = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), first, empty, zlib.deflateRawSync(imagesIdx.subarray(8)), trailer]);
    const { dims, data } = parseIdx(bytes, 'i.gz', 'images');
    expect(dims).toEqual([1, 2, 2]);
    expect(Array.from(data)).toEqual([1, 2, 3, 4]);
  });

  it('64 KiB of empty deflate blocks before the data is refused with its own reason', () => {
    const empty = Buffer.concat(Array.from({ length: 14_000 }, () => Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])));
    const bytes = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), empty, zlib.deflateRawSync(labelsIdx), Buffer.alloc(8)]);
    expect(outcome(() => parseIdx(bytes, 'l.gz', 'labels'))).toEqual(['bad-file', 'l.gz: corrupt gzip data: its first 64 KiB of compressed data hold no IDX header']);
  });
});

describe('IDX headers, word for word', () => {
  it.each([
    ['the first magic byte alone not 0', [1, 0, 8, 1, 0, 0, 0, 1, 5], 'f: wrong magic number: found 0x01000801, expected 0x00000801 (IDX uint8 labels); is this an IDX file?'],
    ['the second magic byte alone not 0', [0, 1, 8, 1, 0, 0, 0, 1, 5], 'f: wrong magic number: found 0x00010801, expected 0x00000801 (IDX uint8 labels); is this an IDX file?'],
    ['an unknown type byte', [0, 0, 7, 1, 0, 0, 0, 1, 5], 'f: wrong magic number: found 0x00000701, expected 0x00000801 (IDX uint8 labels); is this an IDX file?'],
    ['a known type that is not uint8 (int16)', [0, 0, 0x0b, 1, 0, 0, 0, 1, 5, 5], 'f: unsupported data type 0x0b (int16) in magic 0x00000b01: only 0x08 (unsigned byte) is supported'],
    ['3 bytes', [0, 0, 8], 'f: file is too short to be an IDX labels file (magic 0x00000801): it has 3 bytes, the header alone needs 8'],
    ['1 byte', [0], 'f: file is too short to be an IDX labels file (magic 0x00000801): it has 1 byte, the header alone needs 8'],
    ['a header cut at 7 bytes', [0, 0, 8, 1, 0, 0, 0], 'f: truncated header: labels need a 8-byte header but the file has 7 bytes'],
    ['one label declared, none there', [0, 0, 8, 1, 0, 0, 0, 1], 'f: truncated: header declares 1 label (9 bytes) but the file has 8 bytes'],
    ['one byte of trailing data', [0, 0, 8, 1, 0, 0, 0, 1, 5, 6], 'f: 1 byte of trailing data: header declares 1 label (9 bytes) but the file has 10'],
  ] as [string, number[], string][])('%s', (_what, bytes, message) => {
    expect(outcome(() => parseIdx(Uint8Array.from(bytes), 'f', 'labels'))).toEqual(['bad-file', message]);
  });
});

describe('the dimension count of an IDX header', () => {
  it.each([
    [1, 'images', ' (looks like a labels file)'], [3, 'labels', ' (looks like an images file)'],
    [2, 'labels', ''], [4, 'labels', ''], [2, 'images', ''], [4, 'images', ''],
  ] as const)('%s dimensions read as %s: hint %j', (ndims, role, hint) => {
    const bytes = Buffer.concat([Buffer.from([0, 0, 8, ndims]), u32(...Array(ndims).fill(1)), Buffer.from([5])]);
    const [code, message] = outcome(() => parseIdx(bytes, 'f', role));
    expect(code).toBe('bad-file');
    expect(message).toContain(`found ${ndims}${hint}, expected ${role === 'images' ? 3 : 1}`);
  });
});

describe('file system refusals', () => {
  it.each([
    ['a NUL in the path (IDX)', () => readIdxFile(path.join(tmp, 'a\0b'), 'labels'), /^.*a\0b: cannot read: /],
    ['a name too long (IDX)', () => readIdxFile(path.join(tmp, 'n'.repeat(300)), 'labels'), /: cannot read: ENAMETOOLONG/],
    ['a NUL in the path (image)', () => decodeImageFile(path.join(tmp, 'a\0b.png')), /^.*a\0b\.png: cannot read: /],
    ['a name too long (image)', () => decodeImageFile(path.join(tmp, 'n'.repeat(300))), /: cannot read: ENAMETOOLONG/],
    ['a folder (image)', () => decodeImageFile(tmp), new RegExp(`^${tmp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a regular file; expected a PNG or JPEG image$`)],
  ] as [string, () => unknown, RegExp][])('%s: bad-file', (_what, call, message) => {
    const [code, text] = outcome(call);
    expect(code).toBe('bad-file');
    expect(text).toMatch(message);
  });

  it.each([
    ['a missing image', path.join(tmp, 'missing.png')],
    ['a path through a file', path.join(write('plain', [1]), 'inside.png')],
  ])('%s: not-found, "file not found"', (_what, file) => {
    expect(outcome(() => decodeImageFile(file))).toEqual(['not-found', `${file}: file not found`]);
  });

  it.skipIf(process.platform !== 'linux')('a regular file that cannot be read (/proc/self/mem): "cannot read"', () => {
    expect(outcome(() => readIdxFile('/proc/self/mem', 'labels'))).toEqual(['bad-file', expect.stringMatching(/^\/proc\/self\/mem: cannot read: EIO/)]);
    expect(outcome(() => decodeImageFile('/proc/self/mem'))).toEqual(['bad-file', expect.stringMatching(/^\/proc\/self\/mem: cannot read: EIO/)]);
  });

  it('an image file over 128 MiB is a bad file, refused from its size (a sparse file: nothing is read)', () => {
    const file = write('huge.png', []);
    fs.truncateSync(file, 128 * 1024 * 1024 + 1);
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: the file is 134217729 bytes, more than the 134217728-byte limit for an image`]);
    fs.rmSync(file);
  });

  it('an IDX file over 1 GiB + 16 bytes + 1 MiB is a bad file, refused from its size (a sparse file: nothing is read)', () => {
    const file = write('huge-idx', []);
    fs.truncateSync(file, 1024 ** 3 + 16 + 1024 * 1024 + 1);
    expect(outcome(() => readIdxFile(file, 'images')))
      .toEqual(['bad-file', `${file}: file is 1074790417 bytes, more than the limit of 1073741840 bytes for an IDX images file`]);
    fs.rmSync(file);
  });
});

describe('images that are not PNG or JPEG are named', () => {
  const start = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
  it.each([
    ['BMP', start('BM', [0x36, 0, 0, 0]), 'a BMP image'],
    ['WebP', start('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'a WebP image'],
    ['PDF', start('%PDF-1.7\n'), 'a PDF document'],
    ['TIFF, little-endian', start([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]), 'a TIFF image'],
    ['TIFF, big-endian', start([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), 'a TIFF image'],
    ['GIF', start('GIF89a'), 'a GIF image'],
  ])('%s', (_what, bytes, format) => {
    const file = write(`other-${format.replace(/\W/g, '')}`, bytes);
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: not a PNG or JPEG: it is ${format}; save it as PNG or JPEG`]);
  });
  it.each([
    ['B then not M', start([0x42, 0x4e, 1, 2])],
    ['M then M (not BMP)', start([0x4d, 0x4d, 1, 2])],
    ['RIFF that is a WAVE', start('RIFF', [0, 0, 0, 0], 'WAVEfmt ')],
    ['WEBP after something other than RIFF', start('RIFX', [0, 0, 0, 0], 'WEBPVP8 ')],
    ['half a TIFF magic', start([0x49, 0x49, 0x2a, 0x01])],
  ])('%s is only "not an image"', (_what, bytes) => {
    const file = write(`notimage-${bytes.toString('hex')}`, bytes);
    const [code, message] = outcome(() => decodeImageFile(file));
    expect(code).toBe('bad-file');
    expect(message.startsWith(`${file}: not an image: expected a PNG or JPEG, but it starts with ${bytes.subarray(0, 8).toString('hex').replace(/(..)(?!$)/g, '$1 ')}`)).toBe(true);
  });
  it.each([
    ['tab, CR and LF are text, shown as spaces', 'a\tb\r\nc d', '61 09 62 0d 0a 63 20 64 ("a b c d…", text)'],
    ['a leading space (0x20) is text', ' abcdefgh', '20 61 62 63 64 65 66 67 (" abcdefg…", text)'],
    ['0x7e is text', '~~~~~~~~', '7e 7e 7e 7e 7e 7e 7e 7e ("~~~~~~~~…", text)'],
    ['DEL (0x7f) is not', 'abc\x7fdefg', '61 62 63 7f 64 65 66 67'],
    ['0x1f is not', 'abc\x1fdefg', '61 62 63 1f 64 65 66 67'],
    ['a vertical tab (0x0b) is not', 'abc\x0bdefg', '61 62 63 0b 64 65 66 67'],
  ])('%s', (_what, text, shown) => {
    const file = write(`text-${Buffer.from(text, 'latin1').toString('hex')}`, Buffer.from(text, 'latin1'));
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: not an image: expected a PNG or JPEG, but it starts with ${shown}`]);
  });
});

describe('JPEG marker walk (the size is read before any decoding)', () => {
  // An SOF0 declaring 10 rows of 5000 columns: refused for its width, which proves the walk reached it.
  const sof = [0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x0a, 0x13, 0x88, 0x01, 0x01, 0x11, 0x00];
  const found = (file: string) => `${file}: the JPEG is 5000×10 pixels, larger than the limit of 4096×4096`;
  it.each([
    ['the SOF right after the start', [...sof]],
    ['fill bytes before a marker', [0xff, 0xff, ...sof]],
    ['a TEM marker (no length)', [0xff, 0x01, ...sof]],
    ['RST0 and RST7 markers (no length)', [0xff, 0xd0, 0xff, 0xd7, ...sof]],
    ['an APP0 segment of the smallest length, 2', [0xff, 0xe0, 0x00, 0x02, ...sof]],
    ['an APP0 segment of 16 bytes', [0xff, 0xe0, 0x00, 0x10, ...Array(14).fill(0x20), ...sof]],
    ['a segment marker below the frame headers (0xbf) before the SOF', [0xff, 0xbf, 0x00, 0x02, ...sof]],
    ['SOF15, the last frame header marker (0xcf)', [0xff, 0xcf, ...sof.slice(2)]],
    ['SOF1 (0xc1)', [0xff, 0xc1, ...sof.slice(2)]],
    ['a frame header that ends right after its size (9 bytes)', [...sof.slice(0, 9)]],
    ['a JPG segment (0xc8, not a frame) before the SOF', [0xff, 0xc8, 0x00, 0x02, ...sof]],
    ['a DAC segment (0xcc, not a frame) before the SOF', [0xff, 0xcc, 0x00, 0x02, ...sof]],
  ])('%s', (_what, markers) => {
    const file = write(`walk-${markers.length}-${markers[1]}`, [0xff, 0xd8, ...markers]);
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', found(file)]);
  });
  it.each([
    ['a byte that is not a marker after a segment', [0xff, 0xe0, 0x00, 0x02, 0x00, ...sof], (f: string) => `${f}: corrupt JPEG: expected a marker at offset 6`],
    ['the image data (SOS) before any SOF', [0xff, 0xda, 0x00, 0x02, ...sof], (f: string) => `${f}: corrupt JPEG: no frame header (SOF) before the image data`],
    ['the end (EOI) before any SOF', [0xff, 0xd9], (f: string) => `${f}: corrupt JPEG: no frame header (SOF) before the image data`],
    ['a segment length of 1', [0xff, 0xe0, 0x00, 0x01, ...sof], (f: string) => `${f}: corrupt JPEG: bad segment length 1 at offset 2`],
    ['a DHT (0xc4) is not a frame header', [0xff, 0xc4, 0x00, 0x11, ...sof.slice(4)], (f: string) => `${f}: truncated JPEG: the file ends before the frame header (SOF)`],
    ['a lone 0xff at the end', [0xff], (f: string) => `${f}: truncated JPEG: the file ends before the frame header (SOF)`],
    ['a segment length cut off', [0xff, 0xe0, 0x00], (f: string) => `${f}: truncated JPEG: the file ends before the frame header (SOF)`],
    ['a file ending right after a segment', [0xff, 0xe0, 0x00, 0x02], (f: string) => `${f}: truncated JPEG: the file ends before the frame header (SOF)`],
    ['a frame header cut off before its size', [...sof.slice(0, 8)], (f: string) => `${f}: truncated JPEG: the file ends before the frame header (SOF)`],
  ] as [string, number[], (f: string) => string][])('%s is refused', (_what, markers, message) => {
    const file = write(`bad-walk-${Buffer.from(markers.slice(0, 4)).toString('hex')}`, [0xff, 0xd8, ...markers]);
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', message(file)]);
  });

  it('a JPEG over one megapixel (4096×256) decodes: the decoder\'s own cap is the 4096×4096 limit, not lower', () => {
    const file = write('wide.jpg', jpeg.encode({ data: Buffer.alloc(4096 * 256 * 4, 128), width: 4096, height: 256 }, 50).data);
    const image = decodeImageFile(file);
    expect([image.width, image.height, image.data.length]).toEqual([4096, 256, 4096 * 256]);
  });

  it.each([[8, 8], [8, 16], [24, 8]])('a frame header the walk reads as %s×%s, hidden in a Huffman table from the decoder, which decodes 24×16: refused', (width, height) => {
    // A DHT segment declaring 19 bytes (class, 16 code lengths) whose 16 code values follow past that length:
    // the walk jumps by the declared length and lands on an SOF0 sitting in the values; jpeg-js reads the
    // values as part of the table and decodes the real 24×16 frame after them. Each side differs alone too.
    const real = jpeg.encode({ data: Buffer.alloc(24 * 16 * 4, 200), width: 24, height: 16 }, 90).data;
    const codeLengths = [0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0];
    const hiddenSof = [0xff, 0xc0, 0x00, 0x0b, 8, 0, height, 0, width, 1, 1, 0x11, 0, 0, 0, 0];
    const file = write(`hidden-sof-${width}x${height}.jpg`, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xc4, 0x00, 19, 0x00, ...codeLengths, ...hiddenSof]), real.subarray(2)]));
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: corrupt JPEG: decoded 24×16, header says ${width}×${height}`]);
  });
});

describe('PNG headers: each field checked before it sizes anything', () => {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  function chunk(type: string, data: Buffer): Buffer {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  }
  function png(fields: { width?: number; height?: number; depth?: number; colorType?: number; compression?: number; filter?: number; interlace?: number }, rest: Buffer[] = []): Buffer {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(fields.width ?? 2, 0);
    ihdr.writeUInt32BE(fields.height ?? 2, 4);
    ihdr[8] = fields.depth ?? 8;
    ihdr[9] = fields.colorType ?? 0;
    ihdr[10] = fields.compression ?? 0;
    ihdr[11] = fields.filter ?? 0;
    ihdr[12] = fields.interlace ?? 0;
    return Buffer.concat([Buffer.from(signature), chunk('IHDR', ihdr), ...rest]);
  }
  const idat = chunk('IDAT', zlib.deflateSync(Buffer.from([0, 1, 2, 0, 3, 4])));
  const iend = chunk('IEND', Buffer.alloc(0));

  it('a 2×2 grayscale image built by hand decodes (the oracle for the rows below)', () => {
    const file = write('ok.png', png({}, [idat, iend]));
    expect(decodeImageFile(file)).toEqual({ width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4]) });
  });

  it.each([
    ['color type 5', { colorType: 5 }, 'unknown color type 5'],
    ['color type 7', { colorType: 7 }, 'unknown color type 7'],
    ['depth 4 for RGB', { colorType: 2, depth: 4 }, 'bit depth 4 is not valid for RGB images (allowed: 8, 16)'],
    ['depth 16 for a palette', { colorType: 3, depth: 16 }, 'bit depth 16 is not valid for palette images (allowed: 1, 2, 4, 8)'],
    ['depth 3 for grayscale', { colorType: 0, depth: 3 }, 'bit depth 3 is not valid for grayscale images (allowed: 1, 2, 4, 8, 16)'],
    ['depth 2 for grayscale with alpha', { colorType: 4, depth: 2 }, 'bit depth 2 is not valid for grayscale with alpha images (allowed: 8, 16)'],
    ['depth 1 for RGBA', { colorType: 6, depth: 1 }, 'bit depth 1 is not valid for RGBA images (allowed: 8, 16)'],
    ['compression method 1 alone', { compression: 1 }, 'unknown compression, filter or interlace method in the image header'],
    ['filter method 1 alone', { filter: 1 }, 'unknown compression, filter or interlace method in the image header'],
    ['interlace method 2 alone', { interlace: 2 }, 'unknown compression, filter or interlace method in the image header'],
  ])('%s is refused', (_what, fields, reason) => {
    const file = write(`hdr-${JSON.stringify(fields).replace(/\W/g, '')}.png`, png(fields, [idat, iend]));
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: corrupt PNG: ${reason}`]);
  });

  it.each([
    ['grayscale depth 16', { depth: 16 }], ['RGB depth 8', { colorType: 2 }], ['palette depth 1', { colorType: 3, depth: 1 }],
    ['grayscale with alpha depth 16', { colorType: 4, depth: 16 }], ['RGBA depth 8', { colorType: 6 }], ['interlace method 1', { interlace: 1 }],
  ])('%s passes the header check (whatever the image data then says)', (_what, fields) => {
    const file = write(`hdr-ok-${JSON.stringify(fields).replace(/\W/g, '')}.png`, png(fields, [idat, iend]));
    expect(outcome(() => decodeImageFile(file))[1]).not.toMatch(/unknown color type|is not valid for|unknown compression/);
  });

  const idatOf = (...rows: number[]) => chunk('IDAT', zlib.deflateSync(Buffer.from(rows)));
  it.each([
    ['a 2×2 grayscale with one byte more image data', {}, [0, 1, 2, 0, 3, 4, 9], 'its image data decompresses to more than a 2×2 image holds'],
    ['a 2×2 grayscale with one byte less', {}, [0, 1, 2, 0, 3], 'its image data holds 5 bytes, a 2×2 image needs 6'],
    ['a 2×2 RGB with one byte less (3 channels)', { colorType: 2 }, [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5], 'its image data holds 13 bytes, a 2×2 image needs 14'],
    ['a 3×2 one-bit image with one byte less (rows round up to whole bytes)', { width: 3, depth: 1 }, [0, 0xa0, 0], 'its image data holds 3 bytes, a 3×2 image needs 4'],
    ['a 3×2 one-bit image with one byte more', { width: 3, depth: 1 }, [0, 0xa0, 0, 0x40, 0], 'its image data decompresses to more than a 3×2 image holds'],
  ] as [string, Record<string, number>, number[], string][])('%s is refused', (_what, fields, rows, reason) => {
    const file = write(`size-${JSON.stringify(fields).replace(/\W/g, '')}-${rows.length}.png`, png(fields, [idatOf(...rows), iend]));
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: corrupt PNG: ${reason}`]);
  });

  it('exact image data decodes: a 3×2 one-bit image, and a 1×1 interlaced one', () => {
    expect(decodeImageFile(write('bits.png', png({ width: 3, depth: 1 }, [idatOf(0, 0xa0, 0, 0x40), iend]))))
      .toEqual({ width: 3, height: 2, data: Uint8Array.from([255, 0, 255, 0, 255, 0]) });
    expect(decodeImageFile(write('adam7.png', png({ width: 1, height: 1, interlace: 1 }, [idatOf(0, 77), iend]))))
      .toEqual({ width: 1, height: 1, data: Uint8Array.from([77]) });
  });

  it('a 2×2 interlaced image, whose seven passes hold more bytes (7) than its rows would (6), decodes', () => {
    // Adam7 on 2×2: pass 1 is pixel (0,0), pass 6 pixel (1,0), pass 7 the row y = 1; each row with its filter byte.
    const file = write('adam7-2x2.png', png({ interlace: 1 }, [idatOf(0, 10, 0, 20, 0, 30, 40), iend]));
    expect(decodeImageFile(file)).toEqual({ width: 2, height: 2, data: Uint8Array.from([10, 20, 30, 40]) });
  });

  it('a 64×64 interlaced image, whose passes hold 4216 bytes (over 1 KiB, more than its 4160-byte rows), decodes', () => {
    // Adam7 passes of 64×64 (rows × (columns + filter byte)): 8×9, 8×9, 8×17, 16×17, 16×33, 32×33, 32×65.
    const file = write('adam7-64.png', png({ width: 64, height: 64, interlace: 1 }, [chunk('IDAT', zlib.deflateSync(Buffer.alloc(4216))), iend]));
    expect(decodeImageFile(file)).toEqual({ width: 64, height: 64, data: new Uint8Array(64 * 64) });
  });

  it('a file cut inside its image header (IHDR named, fields missing) has no image header', () => {
    const file = write('cut-ihdr.png', png({}).subarray(0, 32));
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: corrupt PNG: no image header (IHDR) after the PNG signature`]);
  });

  it('a first chunk that is not IHDR, and a file cut inside the IEND chunk, are refused', () => {
    const bytes = png({}, [idat, iend]);
    const renamed = Buffer.from(bytes);
    renamed.write('IHDX', 12, 'latin1');
    const noHeader = write('ihdx.png', renamed);
    expect(outcome(() => decodeImageFile(noHeader))).toEqual(['bad-file', `${noHeader}: corrupt PNG: no image header (IHDR) after the PNG signature`]);
    const cut = write('cut-iend.png', bytes.subarray(0, bytes.length - 4));
    expect(outcome(() => decodeImageFile(cut)))
      .toEqual(['bad-file', `${cut}: truncated PNG: the IEND chunk needs 12 bytes at offset ${bytes.length - 12} but the file has 8 left`]);
  });

  it('IHDR then IEND, no image data: "no image data (IDAT)"', () => {
    const file = write('no-idat.png', png({}, [iend]));
    expect(outcome(() => decodeImageFile(file))).toEqual(['bad-file', `${file}: corrupt PNG: no image data (IDAT)`]);
  });

  it('a damaged chunk checksum is caught by the decoder and named as a corrupt PNG', () => {
    const bytes = png({}, [idat, iend]);
    const crcAt = 8 + 25 + 8 + (idat.length - 12);
    bytes[crcAt] ^= 0xff;
    const file = write('bad-crc.png', bytes);
    const [code, message] = outcome(() => decodeImageFile(file));
    expect(code).toBe('bad-file');
    expect(message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: corrupt PNG: \\S`));
  });

  it('pngjs writes what the hand-built rows assume (signature and IHDR first)', () => {
    const image = new PNG({ width: 2, height: 2 });
    const bytes = PNG.sync.write(image);
    expect(Array.from(bytes.subarray(0, 8))).toEqual(signature);
    expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  });
});

describe('dataset folders and limits', () => {
  const folder = (name: string, files: Record<string, Buffer>) => {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    for (const [file, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), bytes);
    return dir;
  };
  const images = (n: number, side = 2) => Buffer.concat([u32(0x803, n, side, side), Buffer.alloc(n * side * side, 9)]);
  const labels = (n: number) => Buffer.concat([u32(0x801, n), Buffer.alloc(n, 3)]);
  const four = (train = images(3), test = images(2)) => ({
    'train-images-idx3-ubyte': train, 'train-labels-idx1-ubyte': labels(train.readUInt32BE(4)),
    't10k-images-idx3-ubyte': test, 't10k-labels-idx1-ubyte': labels(test.readUInt32BE(4)),
  });
  afterAll(() => clearDatasetCache());

  it('a missing IDX file names all four files it needs', () => {
    const files: Record<string, Buffer> = four();
    delete files['t10k-labels-idx1-ubyte'];
    const dir = folder('three', files);
    expect(outcome(() => loadDataset({ kind: 'folder', dir }))).toEqual(['not-found',
      `${dir}: no t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz) in this dataset folder; it needs the four IDX files ` +
      'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz)']);
  });

  it('a file where the folder should be, and a missing folder', () => {
    const file = write('not-a-folder', [1, 2]);
    expect(outcome(() => loadDataset({ kind: 'folder', dir: file }))).toEqual(['bad-file', `${file}: not a folder; expected a folder holding the four IDX files`]);
    const missing = path.join(tmp, 'nowhere');
    expect(outcome(() => loadDataset({ kind: 'folder', dir: missing }))).toEqual(['not-found', `${missing}: dataset folder not found`]);
  });

  it('training and test images of different sizes: rows alone, columns alone, both', () => {
    const sized = (n: number, rows: number, cols: number) => Buffer.concat([u32(0x803, n, rows, cols), Buffer.alloc(n * rows * cols, 9)]);
    for (const [name, train, test] of [['rows', [3, 2], [2, 2]], ['cols', [2, 2], [2, 3]], ['both', [2, 2], [3, 3]]] as const) {
      const dir = folder(`sizes-${name}`, four(sized(3, train[0], train[1]), sized(2, test[0], test[1])));
      expect(outcome(() => loadDataset({ kind: 'folder', dir }))).toEqual(['bad-file',
        `${dir}: training images are ${train[0]}×${train[1]} but test images are ${test[0]}×${test[1]}; expected the same size`]);
    }
  });

  it('passes its IDX options to the reader: a gzip cap one byte under a file is refused, the exact size read', () => {
    const files = four();
    const testImages = files['t10k-images-idx3-ubyte'];
    const gzFiles: Record<string, Buffer> = { ...files, 't10k-images-idx3-ubyte.gz': zlib.gzipSync(testImages) };
    delete gzFiles['t10k-images-idx3-ubyte'];
    const dir = folder('gz-cap', gzFiles);
    expect(loadDataset({ kind: 'folder', dir }, { idx: { maxDecompressedBytes: testImages.length } }).test.count).toBe(2);
    clearDatasetCache();
    const [code, message] = outcome(() => loadDataset({ kind: 'folder', dir }, { idx: { maxDecompressedBytes: testImages.length - 1 } }));
    expect(code).toBe('bad-file');
    expect(message).toContain(`more than the ${testImages.length - 1}-byte limit for decompressed gzip data`);
  });

  it('labels: 9 accepted, 10 refused (with its index and the range)', () => {
    const withLabels = (name: string, values: number[]) => {
      const files = four();
      files['t10k-labels-idx1-ubyte'] = Buffer.concat([u32(0x801, 2), Buffer.from(values)]);
      return folder(name, files);
    };
    expect(loadDataset({ kind: 'folder', dir: withLabels('label9', [0, 9]) }).test.labels).toEqual(Uint8Array.from([0, 9]));
    const dir = withLabels('label10', [9, 10]);
    expect(outcome(() => loadDataset({ kind: 'folder', dir }))).toEqual(['bad-file',
      `${path.join(dir, 't10k-labels-idx1-ubyte')}: label 10 at index 1 is out of range; expected 0..9`]);
  });

  it('limits: 1 and the whole count accepted, more than the count gives the whole split; 0, -1 and 1.5 refused', () => {
    const dir = folder('limits', four(images(3), images(2)));
    const counts = (trainLimit?: number, testLimit?: number) => {
      const d = loadDataset({ kind: 'folder', dir }, { trainLimit, testLimit });
      return [d.train.count, d.train.labels.length, d.train.images.length, d.test.count];
    };
    expect(counts()).toEqual([3, 3, 12, 2]);
    expect(counts(1, 1)).toEqual([1, 1, 4, 1]);
    expect(counts(2, 2)).toEqual([2, 2, 8, 2]);
    expect(counts(3, 5)).toEqual([3, 3, 12, 2]);
    for (const bad of [0, -1, 1.5]) {
      expect(outcome(() => loadDataset({ kind: 'folder', dir }, { trainLimit: bad }))).toEqual(['invalid-request', `limit must be a whole number ≥ 1, got ${bad}`]);
      expect(outcome(() => loadDataset({ kind: 'folder', dir }, { testLimit: bad }))[0]).toBe('invalid-request');
    }
  });
});
