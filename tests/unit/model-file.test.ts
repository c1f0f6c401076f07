// One-file models (.lenetlab): the container's every limit at its boundary, export → import round trips, and
// imports that must change nothing. The container is built here by hand (no shared code with model-file.ts).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../cli/commands.js';
import { runCli } from '../../cli/lenet-lab.js';
import { UserError } from '../../common/errors.js';
import { MAX_UPLOAD_BASE64_CHARS, parseRequest } from '../../common/contract.js';
import { BRIDGE_MAX_FRAME_BYTES } from '../../common/ws-frames.js';
import { importModelFile, unpackModelFile } from '../../engine/io/model-file.js';
import { loadModel } from '../../engine/io/model-store.js';

const shipped = path.resolve('assets/models/modern');
let root: string;
const MiB = 1024 * 1024;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-model-file-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A container by hand: magic, version, header length, header JSON, then the bodies. */
function pack(files: { name: string; bytes: number }[], bodies: Buffer[], opts: { magic?: string; version?: number; headerBytes?: number } = {}): Buffer {
  const header = Buffer.from(JSON.stringify({ files }));
  const pre = Buffer.alloc(16);
  pre.write(opts.magic ?? 'LENETLAB', 0, 'latin1');
  pre.writeUInt32LE(opts.version ?? 1, 8);
  pre.writeUInt32LE(opts.headerBytes ?? header.length, 12);
  return Buffer.concat([pre, header, ...bodies]);
}
const two = (a: number, b: number) => [{ name: 'model.json', bytes: a }, { name: 'weights.bin', bytes: b }];

function refusal(bytes: Buffer): string {
  try {
    unpackModelFile(bytes, 'f.lenetlab');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).message;
  }
  return 'accepted';
}

async function cli(...argv: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const io: Io = { out: (l) => (text += l + '\n'), log: (t) => (text += t), interactive: false };
  return { code: await runCli(argv, io), text };
}

describe('container limits', () => {
  it('accepts exact sizes and returns the two bodies', () => {
    const out = unpackModelFile(pack(two(3, 2), [Buffer.from('abc'), Buffer.from('xy')]), 'f');
    expect(out.modelJson.toString()).toBe('abc');
    expect(out.weights.toString()).toBe('xy');
  });
  it.each([
    ['a wrong magic', () => pack(two(1, 1), [Buffer.from('a'), Buffer.from('b')], { magic: 'LENETLAX' }), /does not start with "LENETLAB"/],
    ['a newer version', () => pack(two(1, 1), [Buffer.from('a'), Buffer.from('b')], { version: 2 }), /version 2.*newer/],
    ['fewer than 16 bytes', () => Buffer.from('LENETLAB'), /does not start/],
    ['one byte missing', () => pack(two(3, 2), [Buffer.from('abc'), Buffer.from('x')]), /truncated/],
    ['one byte extra', () => pack(two(3, 2), [Buffer.from('abc'), Buffer.from('xyz')]), /extra bytes/],
    ['a header of 4097 bytes', () => pack(two(1, 1), [Buffer.alloc(5000)], { headerBytes: 4097 }), /4097 bytes, more than the 4096/],
    ['a header longer than the file', () => pack(two(1, 1), [], { headerBytes: 4000 }), /truncated/],
    ['model.json of 16 MiB + 1', () => pack(two(16 * MiB + 1, 1), []), /model\.json declares 16777217 bytes/],
    ['weights.bin of 16 MiB + 1', () => pack(two(1, 16 * MiB + 1), []), /weights\.bin declares 16777217 bytes/],
    ['a zero-byte file', () => pack(two(0, 1), [Buffer.from('b')]), /model\.json declares 0 bytes/],
    ['a fractional size', () => pack(two(1.5, 1), [Buffer.from('ab')]), /declares 1\.5 bytes/],
    ['files swapped', () => pack([{ name: 'weights.bin', bytes: 1 }, { name: 'model.json', bytes: 1 }], [Buffer.from('a'), Buffer.from('b')]), /file 1 must be/],
    ['a third file', () => pack([...two(1, 1), { name: 'x', bytes: 1 }], [Buffer.from('abc')]), /exactly model\.json and weights\.bin/],
    ['a path as a name', () => pack([{ name: '../model.json', bytes: 1 }, { name: 'weights.bin', bytes: 1 }], [Buffer.from('ab')]), /file 1 must be/],
    ['an extra key', () => pack([{ name: 'model.json', bytes: 1, path: '/etc' } as never, { name: 'weights.bin', bytes: 1 }], [Buffer.from('ab')]), /file 1 must be/],
  ])('refuses %s', (_what, make, message) => {
    expect(refusal(make())).toMatch(message);
  });
  it('refuses a header that is not JSON', () => {
    const pre = Buffer.alloc(16);
    pre.write('LENETLAB', 0, 'latin1');
    pre.writeUInt32LE(1, 8);
    pre.writeUInt32LE(3, 12);
    expect(refusal(Buffer.concat([pre, Buffer.from('{{{')]))).toMatch(/header is not JSON/);
  });
});

describe('container refusals, word for word, each at its boundary', () => {
  const not = (reason: string) => `f.lenetlab is not a LeNet Lab model file: ${reason}`;
  const raw = (header: string, bodies: Buffer[] = [], headerBytes = Buffer.byteLength(header)) => {
    const pre = Buffer.alloc(16);
    pre.write('LENETLAB', 0, 'latin1');
    pre.writeUInt32LE(1, 8);
    pre.writeUInt32LE(headerBytes, 12);
    return Buffer.concat([pre, Buffer.from(header), ...bodies]);
  };
  const ab = [Buffer.from('a'), Buffer.from('b')]; // after a 16-byte preamble and a 76-byte header: 94 bytes
  it.each([
    ['15 bytes', () => raw('').subarray(0, 15), not('it does not start with "LENETLAB" (export a model from LeNet Lab to get one)')],
    ['16 bytes, an empty header: read as far as the header', () => raw(''), not('its header is not JSON (Unexpected end of JSON input)')],
    ['a header one byte longer than the file', () => raw('{}', [], 3), not('it is truncated (the header needs 3 bytes)')],
    ['a header of 4097 bytes', () => raw(' '.repeat(4097)), not('its header declares 4097 bytes, more than the 4096-byte limit')],
    ['a header of null', () => raw('null'), not('its header must list exactly model.json and weights.bin')],
    ['files that are not a list', () => raw('{"files":{"0":1,"1":2,"length":2}}'), not('its header must list exactly model.json and weights.bin')],
    ['one file', () => raw('{"files":[{"name":"model.json","bytes":1}]}'), not('its header must list exactly model.json and weights.bin')],
    ['a file entry that is null', () => raw('{"files":[null,{"name":"weights.bin","bytes":1}]}'), not('its header\'s file 1 must be {"name":"model.json","bytes":N}')],
    ['a file entry that is a number', () => raw('{"files":[1,{"name":"weights.bin","bytes":1}]}'), not('its header\'s file 1 must be {"name":"model.json","bytes":N}')],
    ['the second entry without its size', () => raw('{"files":[{"name":"model.json","bytes":1},{"name":"weights.bin"}]}'), not('its header\'s file 2 must be {"name":"weights.bin","bytes":N}')],
    ['a size written as text', () => raw('{"files":[{"name":"model.json","bytes":"1"},{"name":"weights.bin","bytes":1}]}'), not('model.json declares "1" bytes')],
    ['a size of 2^53', () => raw('{"files":[{"name":"model.json","bytes":1},{"name":"weights.bin","bytes":9007199254740992}]}'), not('weights.bin declares 9007199254740992 bytes')],
    ['a size of -1', () => raw('{"files":[{"name":"model.json","bytes":-1},{"name":"weights.bin","bytes":1}]}'), not('model.json declares -1 bytes')],
    ['a long size text, cut at 40 characters', () => raw(`{"files":[{"name":"model.json","bytes":"${'9'.repeat(50)}"},{"name":"weights.bin","bytes":1}]}`), not(`model.json declares "${'9'.repeat(39)} bytes`)],
    ['model.json of 16 MiB + 1', () => raw(JSON.stringify({ files: two(16 * MiB + 1, 1) })), not('model.json declares 16777217 bytes, more than the 16777216-byte limit')],
    ['weights.bin of 16 MiB + 1', () => raw(JSON.stringify({ files: two(1, 16 * MiB + 1) })), not('weights.bin declares 16777217 bytes, more than the 16777216-byte limit')],
    ['one byte short', () => raw(JSON.stringify({ files: two(1, 2) }), ab), not('it holds 94 bytes but its header declares 95 (truncated)')],
    ['one byte over', () => raw(JSON.stringify({ files: two(1, 1) }), [...ab, Buffer.from('c')]), not('it holds 95 bytes but its header declares 94 (extra bytes at the end)')],
  ] as [string, () => Buffer, string][])('%s', (_what, make, message) => {
    expect(refusal(make())).toBe(message);
  });

  it('the largest accepted: a header of 4096 bytes, model.json and weights.bin of 16 MiB each, and sizes of 1', () => {
    const header = JSON.stringify({ files: two(1, 1) });
    const padded = raw(header + ' '.repeat(4096 - header.length), ab);
    expect(Array.from(unpackModelFile(padded, 'f').weights)).toEqual([0x62]);
    const big = Buffer.alloc(16 * MiB, 0x20);
    const out = unpackModelFile(raw(JSON.stringify({ files: two(16 * MiB, 16 * MiB) }), [big, big]), 'f');
    expect([out.modelJson.length, out.weights.length]).toEqual([16 * MiB, 16 * MiB]);
  });
});

describe('browser upload', () => {
  it('the largest accepted upload, with the longest names, still fits one WebSocket frame; one character more is refused', () => {
    const request = { base64: 'A'.repeat(1_000_000), fileName: '\u0001'.repeat(260), name: '字'.repeat(66) };
    expect(MAX_UPLOAD_BASE64_CHARS).toBe(1_000_000);
    expect(parseRequest('importModel', request).ok).toBe(true);
    const frame = JSON.stringify({ id: 2 ** 53 - 1, name: 'importModel', request });
    expect(Buffer.byteLength(frame)).toBeLessThanOrEqual(BRIDGE_MAX_FRAME_BYTES);
    expect(parseRequest('importModel', { ...request, base64: 'A'.repeat(1_000_001) }).ok).toBe(false);
  });
});

describe('export and import', () => {
  it('CLI: export the shipped model, import it elsewhere: same weights, same predictions, same metadata', async () => {
    const file = path.join(root, 'modern.lenetlab');
    const models = path.join(root, 'models-a');
    expect(await cli('export', '--model', shipped, '--out', file)).toMatchObject({ code: 0 });
    expect((await cli('import', file, '--models', models, '--name', 'from Ana')).code).toBe(0);
    const a = await loadModel(shipped);
    const b = await loadModel(path.join(models, 'from Ana'));
    const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3);
    expect(Array.from((b.model.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((a.model.predict(x) as tf.Tensor).dataSync()));
    expect({ ...b.meta, name: 'x' }).toEqual({ ...a.meta, name: 'x', customLayers: [] });
    expect(b.meta.name).toBe('from Ana');
    // A second import under the same name (any case) is refused and the first model stays whole.
    const again = await cli('import', file, '--models', models, '--name', 'FROM ANA');
    expect(again.code).toBe(2);
    expect(again.text).toMatch(/already in/);
    expect(fs.readdirSync(models)).toEqual(['from Ana']);
    a.model.dispose();
    b.model.dispose();
  }, 60_000);

  it('a hostile container (NaN weight, edited topology, bad name) is refused and the models folder is unchanged', async () => {
    const models = path.join(root, 'models-b');
    fs.mkdirSync(models);
    const json = fs.readFileSync(path.join(shipped, 'model.json'));
    const weights = fs.readFileSync(path.join(shipped, 'weights.bin'));
    const nanWeights = Buffer.from(weights);
    nanWeights.writeFloatLE(Number.NaN, 8);
    const edited = JSON.parse(json.toString());
    edited.modelTopology.config.layers[1].config.filters = 1000000;
    const badName = JSON.parse(json.toString());
    badName.userDefinedMetadata.lenetLab.name = 'CON';
    const cases: [Buffer, Buffer, string | undefined, RegExp][] = [
      [json, nanWeights, 'x', /NaN/],
      [Buffer.from(JSON.stringify(edited)), weights, 'x', /do not match|shape/],
      [json, weights, '../escape', /cannot import as/],
      [Buffer.from(JSON.stringify(badName)), weights, undefined, /give a name/],
    ];
    // A private temp folder: other test files import at the same time, into the shared one.
    const tmpVars = ['TMPDIR', 'TMP', 'TEMP'] as const; // os.tmpdir() reads TMPDIR on POSIX, TEMP/TMP on Windows
    const savedTmp = tmpVars.map((v) => process.env[v]);
    const privateTmp = fs.mkdtempSync(path.join(root, 'tmp-'));
    for (const v of tmpVars) process.env[v] = privateTmp;
    try {
      for (const [j, w, name, message] of cases) {
        const error = await importModelFile(pack(two(j.length, w.length), [j, w]), 'hostile.lenetlab', models, name).then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(UserError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toMatch(/lenet-lab-import-/);
        expect(fs.readdirSync(models)).toEqual([]);
      }
      expect(os.tmpdir()).toBe(privateTmp);
      expect(fs.readdirSync(privateTmp)).toEqual([]);
    } finally {
      tmpVars.forEach((v, i) => {
        if (savedTmp[i] === undefined) delete process.env[v];
        else process.env[v] = savedTmp[i];
      });
    }
  }, 60_000);

  it('names on import: a taken name (any case) is "busy" with its details; a refused name is shown cut at 80 characters', async () => {
    const linear = path.resolve('assets/models/linear');
    const json = fs.readFileSync(path.join(linear, 'model.json'));
    const weights = fs.readFileSync(path.join(linear, 'weights.bin'));
    const container = pack(two(json.length, weights.length), [json, weights]);
    const models = path.join(root, 'models-names');
    const first = await importModelFile(container, 'l.lenetlab', models, 'Ana');
    expect(first.dir).toBe(path.join(models, 'Ana'));
    const taken = await importModelFile(container, 'l.lenetlab', models, 'ANA').then(() => null, (e: UserError) => e);
    expect(taken).toBeInstanceOf(UserError);
    expect([taken!.code, taken!.message, taken!.params]).toEqual(['busy',
      `a model named "ANA" is already in ${models}; import it under another name`, { reason: 'name-taken', name: 'ANA' }]);
    const long = await importModelFile(container, 'l.lenetlab', models, `CON${'x'.repeat(97)}`).then(() => null, (e: UserError) => e);
    expect(long!.code).toBe('invalid-request');
    expect(long!.message).toMatch(new RegExp(`^cannot import as "CON${'x'.repeat(77)}": .+`));
    const named = JSON.parse(json.toString());
    named.userDefinedMetadata.lenetLab.name = `NUL${'y'.repeat(97)}`;
    const renamed = Buffer.from(JSON.stringify(named));
    const unnamed = await importModelFile(pack(two(renamed.length, weights.length), [renamed, weights]), 'l.lenetlab', models).then(() => null, (e: UserError) => e);
    expect(unnamed!.code).toBe('invalid-request');
    expect(unnamed!.message).toMatch(new RegExp(`^l\\.lenetlab names its model "NUL${'y'.repeat(77)}", which cannot be a model name here \\(.+\\); give a name$`));
    expect(fs.readdirSync(models)).toEqual(['Ana']);
    // Another name beside it is free, and checking leaves no tensors behind; 'ANA' stays taken beside 'Bob'.
    const before = tf.memory().numTensors;
    expect((await importModelFile(container, 'l.lenetlab', models, 'Bob')).dir).toBe(path.join(models, 'Bob'));
    expect(tf.memory().numTensors).toBe(before);
    expect((await importModelFile(container, 'l.lenetlab', models, 'ANA').then(() => null, (e: UserError) => e))!.code).toBe('busy');
    expect(fs.readdirSync(models).sort()).toEqual(['Ana', 'Bob']);
  }, 60_000);

  it('CLI: exit 2 with one line for a missing file, a FIFO, a folder and a wrong --out', async () => {
    const fifo = path.join(root, 'pipe.lenetlab');
    execFileSync('mkfifo', [fifo]);
    for (const [argv, message] of [
      [['import', path.join(root, 'nope.lenetlab'), '--models', root], /not found/],
      [['import', fifo, '--models', root], /not a regular file/],
      [['import', root, '--models', root], /not a regular file/],
      [['export', '--model', shipped, '--out', path.join(root, 'm.zip')], /must end in \.lenetlab/],
      [['export', '--model', shipped, '--out', path.join(root, 'missing-dir', 'm.lenetlab')], /cannot write/],
    ] as [string[], RegExp][]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.text).toMatch(message);
      expect(r.text.trim().split('\n')).toHaveLength(1);
    }
  });
});
