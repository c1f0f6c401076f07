import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { isUserError, type UserErrorCode } from '../../common/errors.js';
import { loadDataset } from '../../engine/data/dataset.js';
import { decodeImageFile } from '../../engine/data/image-file.js';
import { preprocessDrawing } from '../../common/preprocess.js';

const scratch = mkdtempSync(join(tmpdir(), 'lenet-image-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let fileCount = 0;
/** Writes bytes to a fresh file named `name` and returns its path. */
function file(name: string, bytes: Uint8Array): string {
  const path = join(scratch, `${fileCount++}-${name}`);
  writeFileSync(path, bytes);
  return path;
}

// ---- fixtures ----

/** An RGBA PNG encoded by pngjs; `pixel(x, y)` gives [r, g, b, a]. */
function pngOf(width: number, height: number, pixel: (x: number, y: number) => number[]): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.set(pixel(x, y), (y * width + x) * 4);
  return PNG.sync.write(png);
}
/** A JPEG encoded by jpeg-js from a grayscale pattern. */
function jpegOf(width: number, height: number, gray: (x: number, y: number) => number, quality = 95): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = gray(x, y);
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return jpeg.encode({ data, width, height }, quality).data;
}

const chunk = (type: string, body: Uint8Array): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
};
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
function ihdr(width: number, height: number, depth = 8, colorType = 0, interlace = 0): Buffer {
  const body = Buffer.alloc(13);
  body.writeUInt32BE(width, 0);
  body.writeUInt32BE(height, 4);
  body[8] = depth;
  body[9] = colorType;
  body[12] = interlace;
  return chunk('IHDR', body);
}
/** Just a PNG signature and an IHDR declaring width × height (8-bit gray): what a hostile header looks like. */
const pngHeaderOnly = (width: number, height: number): Buffer => Buffer.concat([PNG_SIGNATURE, ihdr(width, height)]);
/** A PNG assembled by hand: `rows` is the filtered scanline data (a 0 filter byte before each row). */
function pngRaw(width: number, height: number, depth: number, colorType: number, rows: Uint8Array, extra: Buffer[] = [], interlace = 0): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, depth, colorType, interlace), ...extra,
    chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]);
}
/** 16×16 gray whose image data inflates to 64 MB of zeros: a decompression bomb. */
const pngBomb = (interlace: number): Buffer => pngRaw(16, 16, 8, 0, Buffer.alloc(64 << 20), [], interlace);

/** JPEG start-of-image then a baseline frame header (SOF0) declaring width × height, no image data. */
function jpegHeaderOnly(width: number, height: number): Buffer {
  const sof = [0xff, 0xc0, 0x00, 0x0b, 8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0];
  return Buffer.from([0xff, 0xd8, ...sof]);
}

const checker = (x: number, y: number): number => ((x >> 2) + (y >> 2)) % 2 === 0 ? 30 : 220;
const goodPng = pngOf(24, 16, (x, y) => [checker(x, y), checker(x, y), checker(x, y), 255]);
const goodJpeg = jpegOf(24, 16, checker);
/** The same PNG with a byte of its compressed image data changed. */
const corruptPng = ((): Buffer => {
  const bytes = Buffer.from(goodPng);
  const idat = bytes.indexOf('IDAT', 0, 'latin1');
  bytes[idat + 6]! ^= 0xff;
  return bytes;
})();

// ---- the hostile-input table: one line per case ----

type Case = { name: string; bytes?: Uint8Array; path?: string; message: RegExp; code?: UserErrorCode };

const CASES: Case[] = [
  { name: 'not an image (text)', bytes: Buffer.from('digit: seven\n'), message: /not an image: expected a PNG or JPEG, but it starts with 64 69 67 69 74 3a 20 73 \("digit: s…", text\)/ },
  { name: 'not an image (binary)', bytes: new Uint8Array([0, 1, 2, 3, 250, 251]), message: /not an image: expected a PNG or JPEG, but it starts with 00 01 02 03 fa fb$/ },
  { name: 'empty file', bytes: new Uint8Array(0), message: /not an image: expected a PNG or JPEG, but the file is empty/ },
  { name: 'a GIF', bytes: Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'), message: /not a PNG or JPEG: it is a GIF image; save it as PNG or JPEG/ },
  { name: '0×0 PNG', bytes: pngHeaderOnly(0, 0), message: /the PNG is 0×0 pixels; an image needs at least 1×1/ },
  { name: '0-wide PNG', bytes: pngHeaderOnly(0, 50), message: /the PNG is 0×50 pixels/ },
  { name: '20000×20000 PNG (header only)', bytes: pngHeaderOnly(20000, 20000), message: /the PNG is 20000×20000 pixels, larger than the limit of 4096×4096/ },
  { name: '20000×20000 JPEG (header only)', bytes: jpegHeaderOnly(20000, 20000), message: /the JPEG is 20000×20000 pixels, larger than the limit of 4096×4096/ },
  { name: '0×0 JPEG', bytes: jpegHeaderOnly(0, 0), message: /the JPEG is 0×0 pixels/ },
  { name: 'PNG signature only', bytes: goodPng.subarray(0, 8), message: /corrupt PNG: no image header \(IHDR\)/ },
  { name: 'truncated PNG', bytes: goodPng.subarray(0, goodPng.length - 30), message: /truncated PNG: the IDAT chunk needs \d+ bytes at offset \d+ but the file has \d+ left/ },
  { name: 'PNG without its end', bytes: goodPng.subarray(0, goodPng.length - 12), message: /truncated PNG: the file ends before the IEND chunk/ },
  { name: 'corrupt PNG data', bytes: corruptPng, message: /corrupt PNG \(damaged or truncated image data\): / },
  { name: 'PNG bomb (interlaced)', bytes: pngBomb(1), message: /corrupt PNG: its image data decompresses to more than a 16×16 image holds/ },
  { name: 'PNG bomb', bytes: pngBomb(0), message: /corrupt PNG: its image data decompresses to more than a 16×16 image holds/ },
  { name: 'PNG with too little image data', bytes: pngRaw(16, 16, 8, 0, Buffer.alloc(100)), message: /corrupt PNG: its image data holds 100 bytes, a 16×16 image needs 272/ },
  { name: 'truncated JPEG header', bytes: goodJpeg.subarray(0, 12), message: /truncated JPEG: the file ends before the frame header \(SOF\)/ },
  { name: 'truncated JPEG data', bytes: goodJpeg.subarray(0, goodJpeg.length - 60), message: /corrupt JPEG \(damaged or truncated\): / },
  { name: 'missing file', path: join(scratch, 'absent.png'), message: /absent\.png: file not found/, code: 'not-found' },
  { name: 'a folder', path: scratch, message: /not a regular file; expected a PNG or JPEG image/ },
];

describe('image file hostile input', () => {
  it.each(CASES)('$name', ({ name, bytes, path, message, code = 'bad-file' }) => {
    const target = path ?? file(name.replace(/\W+/g, '-') + '.png', bytes!);
    let error: unknown;
    try {
      decodeImageFile(target);
    } catch (e) {
      error = e;
    }
    expect(isUserError(error), `expected a UserError, got ${String(error)}`).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.startsWith(target)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
  });
});

// ---- valid images ----

describe('decodeImageFile', () => {
  it('decodes a PNG to grayscale by luminance, transparency as white paper', () => {
    const colours = [[0, 0, 0, 255], [255, 255, 255, 255], [255, 0, 0, 255], [0, 0, 0, 0], [10, 200, 30, 255], [0, 0, 0, 128]];
    const image = decodeImageFile(file('colours.png', pngOf(3, 2, (x, y) => colours[y * 3 + x]!)));
    expect(image.width).toBe(3);
    expect(image.height).toBe(2);
    expect(image.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(image.data)).toEqual([0, 255, 76, 255, 124, 127]);
  });

  it('decodes a JPEG to grayscale close to what was encoded', () => {
    const image = decodeImageFile(file('checker.jpg', goodJpeg));
    expect([image.width, image.height]).toEqual([24, 16]);
    let worst = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 24; x++) worst = Math.max(worst, Math.abs(image.data[y * 24 + x]! - checker(x, y)));
    expect(worst).toBeLessThan(40); // lossy at the checker edges, exact enough to read a digit
  });

  it('detects the format from the bytes, not the extension', () => {
    const pngNamedJpeg = decodeImageFile(file('really-a-png.jpg', goodPng));
    const jpegNamedPng = decodeImageFile(file('really-a-jpeg.png', goodJpeg));
    expect([pngNamedJpeg.width, pngNamedJpeg.height]).toEqual([24, 16]);
    expect([jpegNamedPng.width, jpegNamedPng.height]).toEqual([24, 16]);
    expect(pngNamedJpeg.data[0]).toBe(30);
  });

  it('reads 16-bit gray and palette PNGs too', () => {
    const gray16 = pngRaw(3, 1, 16, 0, Buffer.from([0, 0x00, 0x00, 0xff, 0xff, 0x80, 0x80]));
    expect(Array.from(decodeImageFile(file('gray16.png', gray16)).data)).toEqual([0, 255, 128]);
    const palette = chunk('PLTE', Buffer.from([0, 0, 0, 255, 255, 255, 0, 0, 255]));
    const indexed = pngRaw(3, 1, 8, 3, Buffer.from([0, 0, 1, 2]), [palette]);
    expect(Array.from(decodeImageFile(file('palette.png', indexed)).data)).toEqual([0, 255, 29]);
  });

  it('feeds the drawing pad preprocessing: a saved MNIST digit comes back as itself', () => {
    const mnist = loadDataset({ kind: 'mnist' }, { testLimit: 1 });
    const digit = mnist.test.images.subarray(0, 784);
    const side = 84; // the digit 3× larger, black on white, as someone would save it from a paint program
    const bytes = pngOf(side, side, (x, y) => {
      const v = 255 - digit[Math.floor(y / 3) * 28 + Math.floor(x / 3)]!;
      return [v, v, v, 255];
    });
    const image = decodeImageFile(file('seven.png', bytes));
    const { pixels, hasInk } = preprocessDrawing(image);
    expect(hasInk).toBe(true);
    let diff = 0;
    for (let i = 0; i < 784; i++) diff += Math.abs(pixels[i]! - digit[i]! / 255);
    expect(diff / 784).toBeLessThan(0.005);
  });
});
