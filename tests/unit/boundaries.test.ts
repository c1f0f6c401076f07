// Every limit at its edge: the largest value accepted, the smallest refused, and each side of a
// two-sided limit alone (a width over the limit with a small height, and the reverse). The limits are
// written here as literals, so a loosened or tightened limit in the code fails a row of these tables.
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../common/errors.js';
import { parseRequest } from '../../common/contract.js';
import { parseIdx, readIdxFile } from '../../engine/data/idx.js';
import { decodeImageFile } from '../../engine/data/image-file.js';
import { initBackend } from '../../engine/backends/ladder.js';
import { getVariant } from '../../common/network/variants.js';
import { loadModel, readModelMeta, saveModel } from '../../engine/io/model-store.js';

const scratch = mkdtempSync(join(tmpdir(), 'lenet-bounds-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let fileCount = 0;
const file = (name: string, bytes: Uint8Array): string => {
  const path = join(scratch, `${fileCount++}-${name}`);
  writeFileSync(path, bytes);
  return path;
};
/** A file of `size` bytes that takes no disk space (its size is all the reader may look at). */
const sparse = (name: string, size: number, head: Uint8Array = new Uint8Array()): string => {
  const path = file(name, head);
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
};

/** The error a call throws (a UserError's message), or 'ok'. */
function outcome(action: () => unknown): string {
  try {
    action();
    return 'ok';
  } catch (e) {
    if (!isUserError(e)) throw e;
    return e.message;
  }
}
async function outcomeAsync(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
    return 'ok';
  } catch (e) {
    if (!isUserError(e)) throw e;
    return e.message;
  }
}

// ------------------------------------------------------------------------------------------------
describe('the request schemas (common/protocol.ts, common/contract.ts)', () => {
  const train = (recipe: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    parseRequest('train', { variant: 'modern', recipe, ...extra }).ok;

  // [field, largest accepted, smallest refused above, smallest accepted, largest refused below]
  const recipeLimits: [string, unknown, unknown, unknown, unknown][] = [
    ['learningRate', 1000, 1000.0001, Number.MIN_VALUE, 0],
    ['momentum', 0.999999, 1, 0, -1e-9],
    ['batchSize', 4096, 4097, 1, 0],
    ['epochs', 200, 201, 1, 0],
    ['lrDecay', 1, 1.000001, Number.MIN_VALUE, 0],
    ['augmentShift', 2, 3, 0, -1],
  ];
  it.each(recipeLimits)('recipe.%s: %s accepted, %s refused; %s accepted, %s refused', (field, maxOk, overMax, minOk, underMin) => {
    expect([train({ [field]: maxOk }), train({ [field]: overMax }), train({ [field]: minOk }), train({ [field]: underMin })])
      .toEqual([true, false, true, false]);
  });

  it('recipe integers refuse fractions and every number refuses NaN and infinities', () => {
    for (const field of ['batchSize', 'epochs', 'augmentShift']) expect(train({ [field]: 1.5 })).toBe(false);
    for (const field of ['learningRate', 'momentum', 'lrDecay', 'batchSize', 'epochs']) {
      for (const bad of [NaN, Infinity, -Infinity, '1', null]) expect(train({ [field]: bad }), `${field}=${String(bad)}`).toBe(false);
    }
  });

  // [field, largest accepted, smallest refused, smallest accepted, largest refused]
  const trainLimits: [string, number, number, number, number][] = [
    ['limit', 10_000_000, 10_000_001, 1, 0],
    ['testLimit', 10_000_000, 10_000_001, 1, 0],
    ['seed', 2147483647, 2147483648, 0, -1],
  ];
  it.each(trainLimits)('train.%s: %s accepted, %s refused; %s accepted, %s refused', (field, maxOk, overMax, minOk, underMin) => {
    expect([train({}, { [field]: maxOk }), train({}, { [field]: overMax }), train({}, { [field]: minOk }), train({}, { [field]: underMin })])
      .toEqual([true, false, true, false]);
  });

  it('a dataset folder path: 1 to 4096 characters', () => {
    const dataset = (dir: string) => train({}, { dataset: { kind: 'folder', dir } });
    expect([dataset('d'), dataset('d'.repeat(4096)), dataset(''), dataset('d'.repeat(4097))]).toEqual([true, true, false, false]);
    const open = (dir: string) => parseRequest('openModel', { dir }).ok;
    expect([open('d'), open('d'.repeat(4096)), open(''), open('d'.repeat(4097))]).toEqual([true, true, false, false]);
  });

  it('a model name: 1 to 80 characters and 200 UTF-8 bytes, any script, never trimmed', () => {
    const save = (name: string) => parseRequest('saveModel', { name }).ok;
    expect([save('a'), save('a'.repeat(80)), save(''), save('a'.repeat(81)), save('   '), save(` ${'a'.repeat(80)} `)])
      .toEqual([true, true, false, false, false, false]);
    expect([save(' a'), save('a '), save('a.'), save('.a'), save('a..b'), save('a/b'), save('a\\b'), save('a\u0007b')])
      .toEqual([false, false, false, false, false, false, false, false]);
    expect([save('mañana'), save('模型 1'), save('-flag'), save('[x] (y)_z.v2'), save('模'.repeat(66)), save('模'.repeat(67))])
      .toEqual([true, true, true, true, true, false]);
    expect([save('CON'), save('aux.txt'), save('Lpt1 .tar.gz'), save('CONSOLE'), save('a:b'), save('a?b')])
      .toEqual([false, false, false, true, false, false]);
    // The NFC form is what the host passes on: e + combining acute becomes é.
    expect(parseRequest('saveModel', { name: 'cafe\u0301' })).toEqual({ ok: true, value: { name: 'caf\u00e9' } });
    expect(parseRequest('saveModel', { name: '  padded  ' }).ok).toBe(false);
  });

  it('samples: 1 to 1000 indices, each 0 to 10,000,000', () => {
    const samples = (indices: number[]) => parseRequest('samples', { split: 'test', indices }).ok;
    expect([
      samples([0]), samples([10_000_000]), samples(new Array(1000).fill(0)),
      samples([]), samples([-1]), samples([10_000_001]), samples(new Array(1001).fill(0)), samples([0.5]),
    ]).toEqual([true, true, true, false, false, false, false, false]);
  });

  it('evaluate: a limit of 1 to 10,000,000 (or none)', () => {
    const evaluate = (request: object) => parseRequest('evaluate', request).ok;
    expect([evaluate({}), evaluate({ limit: 1 }), evaluate({ limit: 10_000_000 }), evaluate({ limit: 0 }), evaluate({ limit: 10_000_001 })])
      .toEqual([true, true, true, false, false]);
  });
});

// ------------------------------------------------------------------------------------------------
describe('the IDX reader (engine/data/idx.ts)', () => {
  const idx = (dims: number[], payload: Uint8Array | number = 0): Uint8Array => {
    const data = typeof payload === 'number' ? new Uint8Array(payload) : payload;
    const out = new Uint8Array(4 + 4 * dims.length + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, 0x0800 | dims.length, false);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
    out.set(data, 4 + 4 * dims.length);
    return out;
  };
  const images = (dims: number[], payload?: number) => outcome(() => parseIdx(idx(dims, payload ?? dims.reduce((a, b) => a * b, 1)), 'f', 'images'));
  const labels = (count: number, payload = count) => outcome(() => parseIdx(idx([count], payload), 'f', 'labels'));
  /** The header passed every limit: only the (deliberately missing) data is wrong. */
  const headerAccepted = /truncated/;

  it('counts: 1 and 10,000,000 accepted, 0 and 10,000,001 refused', () => {
    expect(labels(1)).toBe('ok');
    expect(labels(10_000_000)).toBe('ok');
    expect(labels(0)).toMatch(/0 labels/);
    expect(labels(10_000_001, 0)).toMatch(/limit of 10000000/);
    expect(images([10_000_001, 1, 1], 0)).toMatch(/limit of 10000000/);
    expect(images([10_000_000, 1, 1], 0)).toMatch(headerAccepted);
  });

  it('sides: 1 and 1024 accepted; 0 and 1025 refused, rows alone and columns alone', () => {
    expect(images([1, 1, 1])).toBe('ok');
    expect(images([1, 1024, 1024])).toBe('ok');
    expect(images([1, 1024, 1])).toBe('ok');
    expect(images([1, 1, 1024])).toBe('ok');
    expect(images([1, 0, 1], 0)).toMatch(/0×1/);
    expect(images([1, 1, 0], 0)).toMatch(/1×0/);
    expect(images([1, 0, 0], 0)).toMatch(/0×0/);
    expect(images([1, 1025, 1], 0)).toMatch(/1025×1, larger than the limit/);
    expect(images([1, 1, 1025], 0)).toMatch(/1×1025, larger than the limit/);
  });

  it('payload: exactly 1 GiB passes the header check, one image more is refused before any data is read', () => {
    expect(images([1024, 1024, 1024], 0)).toMatch(headerAccepted);
    expect(images([1025, 1024, 1024], 0)).toMatch(/more than the limit of 1073741824 bytes/);
    expect(images([10_000_000, 1, 107], 0)).toMatch(headerAccepted); // 1,070,000,000 ≤ 2^30
    expect(images([10_000_000, 1, 108], 0)).toMatch(/more than the limit/); // 1,080,000,000 > 2^30
  });

  it('length: the exact size accepted, one byte short or one byte over refused', () => {
    expect(images([2, 3, 3], 18)).toBe('ok');
    expect(images([2, 3, 3], 17)).toMatch(/truncated/);
    expect(images([2, 3, 3], 19)).toMatch(/1 byte of trailing data/);
    expect(labels(5, 4)).toMatch(/truncated/);
    expect(labels(5, 6)).toMatch(/trailing/);
  });

  it('gzip: a file decompressing to exactly the cap is read, one byte under the cap is refused', () => {
    const bytes = gzipSync(idx([3, 2, 2], 12));
    const size = 16 + 12;
    expect(outcome(() => parseIdx(bytes, 'f', 'images', { maxDecompressedBytes: size }))).toBe('ok');
    expect(outcome(() => parseIdx(bytes, 'f', 'images', { maxDecompressedBytes: size - 1 }))).toMatch(/limit/);
  });

  it('file size: a file over 1 GiB + 16 bytes + 1 MiB is refused from its size alone', () => {
    const limit = 1024 ** 3 + 16 + 1024 * 1024;
    expect(outcome(() => readIdxFile(sparse('big-idx', limit + 1), 'images'))).toMatch(/more than the limit/);
  });
});

// ------------------------------------------------------------------------------------------------
describe('the image reader (engine/data/image-file.ts)', () => {
  const chunk = (type: string, body: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
    return Buffer.concat([head, body, crc]);
  };
  /** A valid 8-bit grayscale PNG of white pixels: its zlib data is tiny whatever the size. */
  const whitePng = (width: number, height: number): Buffer => {
    const header = Buffer.alloc(13);
    header.writeUInt32BE(width, 0);
    header.writeUInt32BE(height, 4);
    header[8] = 8;
    const row = Buffer.alloc(width + 1, 255);
    row[0] = 0;
    const raw = Buffer.alloc(row.length * height);
    for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
      chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
  };
  const png = (width: number, height: number) => {
    const result = outcome(() => decodeImageFile(file('w.png', whitePng(width, height))));
    return result === 'ok' ? 'ok' : result.replace(/^.*?: /, '');
  };

  it('PNG sides: 1 and 4096 accepted; 0 and 4097 refused, width alone and height alone', () => {
    expect(png(1, 1)).toBe('ok');
    expect(png(4096, 1)).toBe('ok');
    expect(png(1, 4096)).toBe('ok');
    expect(png(4096, 4096)).toBe('ok');
    expect(png(4097, 1)).toMatch(/4097×1 pixels, larger than the limit/);
    expect(png(1, 4097)).toMatch(/1×4097 pixels, larger than the limit/);
    expect(png(4097, 4096)).toMatch(/larger than the limit/);
    expect(png(4096, 4097)).toMatch(/larger than the limit/);
  });

  it('PNG: a 0-pixel side is refused on either side (a header no encoder writes)', () => {
    const zero = (width: number, height: number) => {
      const header = Buffer.alloc(13);
      header.writeUInt32BE(width, 0);
      header.writeUInt32BE(height, 4);
      header[8] = 8;
      const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header),
        chunk('IDAT', deflateSync(Buffer.alloc(2))), chunk('IEND', Buffer.alloc(0))]);
      return outcome(() => decodeImageFile(file('zero.png', bytes)));
    };
    expect(zero(0, 1)).toMatch(/0×1 pixels/);
    expect(zero(1, 0)).toMatch(/1×0 pixels/);
  });

  /** A JPEG whose frame header declares width × height, with no image data after it. */
  const jpegHeader = (width: number, height: number): Buffer => Buffer.from([
    0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x01, 0x01, 0x11, 0x00, 0xff, 0xd9,
  ]);
  const jpegOf = (width: number, height: number): Buffer =>
    Buffer.from(jpeg.encode({ data: Buffer.alloc(width * height * 4, 255), width, height }, 80).data);
  const jpg = (bytes: Buffer) => outcome(() => decodeImageFile(file('p.jpg', bytes)));

  it('JPEG sides: 4096 accepted on either side; 4097 refused on either side alone, before any decoding', () => {
    expect(jpg(jpegOf(4096, 8))).toBe('ok');
    expect(jpg(jpegOf(8, 4096))).toBe('ok');
    expect(jpg(jpegHeader(4097, 8))).toMatch(/4097×8 pixels, larger than the limit/);
    expect(jpg(jpegHeader(8, 4097))).toMatch(/8×4097 pixels, larger than the limit/);
    expect(jpg(jpegHeader(0, 8))).toMatch(/0×8 pixels/);
    expect(jpg(jpegHeader(8, 0))).toMatch(/8×0 pixels/);
  });

  it('file size: 128 MiB is read, one byte more is refused from its size alone', () => {
    const limit = 128 * 1024 * 1024;
    expect(outcome(() => decodeImageFile(sparse('big.png', limit + 1)))).toMatch(/more than the 134217728-byte limit/);
    // Exactly the limit is read, and then found not to be an image.
    expect(outcome(() => decodeImageFile(sparse('edge.png', limit)))).toMatch(/not an image/);
  });
});

// ------------------------------------------------------------------------------------------------
describe('the model loader (engine/io/model-store.ts)', () => {
  let saved: string;
  const meta = {
    formatVersion: 1 as const, name: 'bounds', variant: 'modern' as const, dataset: 'MNIST',
    recipe: { ...getVariant('modern').recipe }, history: { epochs: [] }, backend: 'wasm' as const,
    savedAt: '2026-01-01T00:00:00.000Z', testAccuracy: 0.5, seed: 1,
  };
  beforeAll(async () => {
    await initBackend('wasm');
    saved = join(scratch, 'model');
    const model = getVariant('modern').build(1);
    await saveModel(model, saved, meta);
    model.dispose();
  });

  /** A copy of the saved model with its metadata changed. */
  const withMeta = (change: Record<string, unknown>): string => {
    const dir = join(scratch, `meta-${fileCount++}`);
    mkdirSync(dir);
    const json = JSON.parse(readFileSync(join(saved, 'model.json'), 'utf8'));
    Object.assign(json.userDefinedMetadata.lenetLab, change);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'weights.bin'), readFileSync(join(saved, 'weights.bin')));
    return dir;
  };
  const metaOf = (change: Record<string, unknown>) => outcome(() => readModelMeta(withMeta(change)));
  const epoch = { epoch: 1, epochs: 1, trainLoss: 1, trainAccuracy: 0.5, testLoss: 1, testAccuracy: 0.5, seconds: 1, imagesPerSecond: 1, learningRate: 0.1 };

  // [field, largest accepted, smallest refused above, smallest accepted, largest refused below]
  const metaLimits: [string, unknown, unknown, unknown, unknown][] = [
    ['name', 'n'.repeat(200), 'n'.repeat(201), 'n', ''],
    ['testAccuracy', 1, 1.0000001, 0, -0.0000001],
    ['seed', 2147483647, 2147483648, 0, -1],
    ['dataset', 'd'.repeat(4096), 'd'.repeat(4097), '', null],
  ];
  it.each(metaLimits)('metadata %s: largest and smallest accepted, one step beyond each refused', (field, maxOk, overMax, minOk, underMin) => {
    const results = [metaOf({ [field]: maxOk }), metaOf({ [field]: overMax }), metaOf({ [field]: minOk }), metaOf({ [field]: underMin })];
    expect(results.map((r) => (r === 'ok' ? 'ok' : 'refused'))).toEqual(['ok', 'refused', 'ok', 'refused']);
  });

  it('metadata history: 10,000 epochs accepted, 10,001 refused', () => {
    expect(metaOf({ history: { epochs: new Array(10_000).fill(epoch) } })).toBe('ok');
    expect(metaOf({ history: { epochs: new Array(10_001).fill(epoch) } })).not.toBe('ok');
  });

  it('weights.bin: exactly the manifest size loads; one byte short or one byte over is refused', async () => {
    const weights = readFileSync(join(saved, 'weights.bin'));
    const variant = (bytes: Uint8Array): string => {
      const dir = withMeta({});
      writeFileSync(join(dir, 'weights.bin'), bytes);
      return dir;
    };
    const load = (dir: string) => outcomeAsync(async () => (await loadModel(dir)).model.dispose());
    expect(await load(variant(weights))).toBe('ok');
    expect(await load(variant(weights.subarray(0, weights.length - 1)))).toMatch(/bytes/);
    expect(await load(variant(Buffer.concat([weights, Buffer.alloc(1)])))).toMatch(/bytes/);
  });
});
