// engine/io's checks called directly on small hand-made files, each with the literal message it must give: save
// targets, file kinds and links, a file that changes while it is read, model.json shapes, manifests compared
// with a variant, weight paths, topology differences, and model files. No model is trained or saved here (the
// linear variant is built once, for its topology), so mutation testing can rerun a row in milliseconds.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUserError } from '../../common/errors.js';
import {
  buildVariantModel, checkLayerClasses, checkManifestAgainstVariant, checkTopology, metaFrom, readCheckedFile, readModelJson, readWeights, reasonOf, statInside,
  serialise, type ModelJsonFile, type ModelMeta,
} from '../../engine/io/model-format.js';
import { VARIANTS } from '../../common/network/variants.js';
import { MAX_MODEL_FILE_BYTES, modelFileName, readModelFile, unpackModelFile } from '../../engine/io/model-file.js';
import { checkSaveTarget, readModelMeta, saveModel } from '../../engine/io/model-store.js';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-io-refusals-')));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function outcome(call: () => unknown): Promise<[string, string]> {
  try {
    await call();
    return ['ok', ''];
  } catch (e) {
    if (!isUserError(e)) throw e;
    return [e.code, e.message];
  }
}
const folder = (name: string, files: Record<string, string | Buffer> = {}) => {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
  return dir;
};
const errno = (code: string) => Object.assign(new Error(`${code}: raw message`), { code });

describe('reasonOf: each file-system error in words', () => {
  it.each([
    ['EACCES', 'permission denied'], ['EPERM', 'permission denied'], ['EBUSY', 'the file is in use by another program'],
    ['ENOSPC', 'no space left on the device'], ['EDQUOT', 'disk quota exceeded'], ['EROFS', 'the file system is read-only'],
    ['ENOTDIR', 'a part of the path is a file, not a folder'], ['ENAMETOOLONG', 'the path is too long'],
    ['EISDIR', 'a folder is in the way of a file'], ['EIO', 'EIO: raw message'],
  ])('%s → %s', (code, words) => {
    expect(reasonOf(errno(code))).toBe(words);
  });
  it('anything else: its message, or itself as text', () => {
    expect([reasonOf(new Error('plain')), reasonOf('text'), reasonOf(null)]).toEqual(['plain', 'text', 'null']);
  });
});

describe('checkSaveTarget', () => {
  it('a new name in an existing folder, or deeper, is fine (false: no model there yet); a model folder is replaceable (true)', () => {
    expect(checkSaveTarget(path.join(tmp, 'new-model'))).toBe(false);
    expect(checkSaveTarget(path.join(tmp, 'not', 'yet', 'made'))).toBe(false);
    expect(checkSaveTarget(folder('a-model', { 'model.json': '{}', 'weights.bin': '' }))).toBe(true);
    expect(checkSaveTarget(folder('empty'))).toBe(true);
  });
  it.each([
    ['the root', () => '/', 'bad-file', 'cannot save model to /: not a folder name'],
    ['a name of 81 characters', () => path.join(tmp, 'n'.repeat(81)), 'invalid-request', /: the name has 81 characters; at most 80 are allowed$/],
    ['a name not in NFC', () => path.join(tmp, 'cafe\u0301'), 'invalid-request', /: write the name in Unicode NFC form$/],
    ['a link', () => { const l = path.join(tmp, 'link'); fs.symlinkSync(folder('link-target'), l); return l; }, 'bad-file', /: it is a link; name a folder$/],
    ['a file', () => { const f = path.join(tmp, 'a-file'); fs.writeFileSync(f, 'x'); return f; }, 'bad-file', /: it is a file, not a folder$/],
    ['a path through a file', () => { const f = path.join(tmp, 'plain-file'); fs.writeFileSync(f, 'x'); return path.join(f, 'deeper', 'model'); }, 'bad-file',
      /: a part of the path is a file, not a folder$/],
    ['a folder of three other files', () => folder('three', { 'a.txt': '', 'b.txt': '', 'model.json': '', 'c.txt': '' }), 'bad-file',
      /: the folder holds other files \(a\.txt, b\.txt, c\.txt\) that saving would replace; choose a new or empty folder$/],
    ['a path with a component too long', () => path.join(tmp, 'x'.repeat(300), 'model'), 'bad-file', /: the path is too long$/],
    ['a folder of four other files', () => folder('four', { 'a.txt': '', 'b.txt': '', 'c.txt': '', 'd.txt': '' }), 'bad-file',
      /: the folder holds other files \(a\.txt, b\.txt, c\.txt, …\) that saving/],
  ] as [string, () => string, string, string | RegExp][])('%s is refused', async (_what, make, code, message) => {
    const dir = make();
    const [gotCode, gotMessage] = await outcome(() => checkSaveTarget(dir));
    expect(gotCode).toBe(code);
    if (typeof message === 'string') expect(gotMessage).toBe(message);
    else expect(gotMessage).toMatch(message);
    expect(gotMessage.startsWith(`cannot save model to ${dir}: `)).toBe(true);
  });
});

describe('statInside: only regular files inside the folder', () => {
  const dir = folder('inside', { 'real.bin': 'abc' });
  it('a regular file, and a link to one inside, are read; a missing file and a dangling link are "not there" (null)', () => {
    fs.symlinkSync(path.join(dir, 'real.bin'), path.join(dir, 'link.bin'));
    fs.symlinkSync(path.join(dir, 'gone.bin'), path.join(dir, 'dangling.bin'));
    expect(statInside(dir, 'real.bin')?.file).toBe(path.join(dir, 'real.bin'));
    expect(statInside(dir, 'link.bin')?.file).toBe(path.join(dir, 'real.bin'));
    expect(statInside(dir, 'link.bin')?.stat.size).toBe(3);
    expect(statInside(dir, 'missing.bin')).toBeNull();
    expect(statInside(dir, 'dangling.bin')).toBeNull();
  });
  it('a link to a sibling folder whose name starts like this one is outside', async () => {
    const sibling = folder('inside-evil', { 'w.bin': 'x' });
    fs.symlinkSync(path.join(sibling, 'w.bin'), path.join(dir, 'prefix.bin'));
    expect(await outcome(() => statInside(dir, 'prefix.bin'))).toEqual(['bad-file',
      `${path.join(dir, 'prefix.bin')} is a link to ${path.join(sibling, 'w.bin')}, outside the model folder; a model's files must be inside its folder`]);
  });
  it('a folder and a socket are named as what they are', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(await outcome(() => statInside(dir, 'sub'))).toEqual(['bad-file', `${path.join(dir, 'sub')} is a folder, not a regular file`]);
    if (process.platform === 'win32') return;
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'sock'), resolve));
    try {
      expect(await outcome(() => statInside(dir, 'sock'))).toEqual(['bad-file', `${path.join(dir, 'sock')} is a socket, not a regular file`]);
    } finally {
      server.close();
    }
  });
  it('a device is named as one (/dev/null: a character device in its own folder)', async () => {
    if (process.platform === 'win32') return;
    expect(await outcome(() => statInside('/dev', 'null'))).toEqual(['bad-file', '/dev/null is a device, not a regular file']);
  });
  it('a path through a file cannot be read, with the reason in words', async () => {
    expect(await outcome(() => statInside(dir, 'real.bin/inner'))).toEqual(['bad-file',
      `cannot read ${path.join(dir, 'real.bin', 'inner')}: a part of the path is a file, not a folder`]);
  });
});

describe('readCheckedFile: exactly the file that was checked', () => {
  it('reads it whole', () => {
    const file = path.join(folder('checked'), 'a.bin');
    fs.writeFileSync(file, Buffer.alloc(100_000, 7));
    expect(readCheckedFile(file, fs.lstatSync(file)).equals(Buffer.alloc(100_000, 7))).toBe(true);
  });
  it.each([
    ['grown', (f: string) => fs.appendFileSync(f, 'more')],
    ['shrunk', (f: string) => fs.truncateSync(f, 1)],
    // Written beside it first, so that the new file cannot reuse the old one's inode.
    ['replaced by another file of the same size', (f: string) => { fs.writeFileSync(`${f}.new`, 'wxyz'); fs.renameSync(`${f}.new`, f); }],
  ])('a file %s after the check is refused', async (what, change) => {
    const file = path.join(folder(`changed-${what.split(' ')[0]}`), 'a.bin');
    fs.writeFileSync(file, 'abcd');
    const stat = fs.lstatSync(file);
    change(file);
    expect(await outcome(() => readCheckedFile(file, stat))).toEqual(['bad-file', `${file} changed while it was being read; try again`]);
  });
  // Each identity check alone: the stat that was checked differs from the opened file in one field only.
  it.each(['ino', 'dev', 'size'] as const)('a checked stat whose %s alone differs is refused', async (field) => {
    const file = path.join(folder(`identity-${field}`), 'a.bin');
    fs.writeFileSync(file, 'abcd');
    const stat = fs.lstatSync(file);
    const other = { ...stat, [field]: stat[field] + 1 } as fs.Stats;
    expect(await outcome(() => readCheckedFile(file, other))).toEqual(['bad-file', `${file} changed while it was being read; try again`]);
  });
  it('a file that vanished cannot be read', async () => {
    const file = path.join(folder('vanished'), 'a.bin');
    fs.writeFileSync(file, 'abcd');
    const stat = fs.lstatSync(file);
    fs.rmSync(file);
    const [code, message] = await outcome(() => readCheckedFile(file, stat));
    expect(code).toBe('bad-file');
    expect(message).toMatch(new RegExp(`^cannot read ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));
  });
});

// ---- model.json and weights, written by hand.
const topology = { class_name: 'Sequential', config: { name: 'm', layers: [] } };
const manifest = (paths: string[], weights: { name: string; shape: number[]; dtype?: string }[]) =>
  [{ paths, weights: weights.map((w) => ({ dtype: 'float32', ...w })) }];
const modelJsonText = (fields: Record<string, unknown>) => JSON.stringify({ modelTopology: topology, weightsManifest: manifest(['w.bin'], []), ...fields });

describe('readModelJson', () => {
  it('takes the topology from modelTopology, or from modelTopology.model_config (Keras files)', () => {
    const plain = folder('json-plain', { 'model.json': modelJsonText({}) });
    expect(readModelJson(plain, plain).modelTopology).toEqual(topology);
    const keras = folder('json-keras', { 'model.json': modelJsonText({ modelTopology: { model_config: topology, keras_version: '2' }, format: 'layers-model' }) });
    expect(readModelJson(keras, keras).modelTopology).toEqual(topology);
  });
  it('a model.json of exactly 16 MiB is read; one byte more is refused before it is read', async () => {
    const text = modelJsonText({});
    const dir = folder('json-limit', { 'model.json': text + ' '.repeat(16 * 1024 * 1024 - text.length) });
    expect(fs.statSync(path.join(dir, 'model.json')).size).toBe(16_777_216);
    expect(readModelJson(dir, dir).modelTopology).toEqual(topology);
    fs.appendFileSync(path.join(dir, 'model.json'), ' ');
    expect(await outcome(() => readModelJson(dir, dir))).toEqual(['bad-file',
      `${path.join(dir, 'model.json')} is 16777217 bytes, more than the 16777216-byte limit for a model.json`]);
  });
  it.each([
    ['a list', '[]', 'is not a TF.js Layers model: expected a JSON object'],
    ['a string', '"model"', 'is not a TF.js Layers model: expected a JSON object'],
    ['null', 'null', 'is not a TF.js Layers model: expected a JSON object'],
    ['a topology whose config is a list', modelJsonText({ modelTopology: { class_name: 'Sequential', config: [] } }),
      'is not a TF.js Layers model: it has no modelTopology with class_name and config'],
    ['a topology whose class_name is a number', modelJsonText({ modelTopology: { class_name: 7, config: {} } }),
      'is not a TF.js Layers model: it has no modelTopology with class_name and config'],
    ['a manifest entry without paths', modelJsonText({ weightsManifest: [{ paths: [], weights: [] }] }),
      'is not a TF.js Layers model: weightsManifest is missing or malformed'],
  ])('%s is refused', async (what, text, reason) => {
    const dir = folder(`json-${what.replace(/\W+/g, '-')}`, { 'model.json': text });
    expect(await outcome(() => readModelJson(dir, dir))).toEqual(['bad-file', `${path.join(dir, 'model.json')} ${reason}`]);
  });
});

describe('checkLayerClasses: every class the topology names must be registered', () => {
  const json = (modelTopology: Record<string, unknown>): ModelJsonFile => ({ modelTopology, weightsManifest: [], raw: {} });
  const unknown = (name: string) => ['bad-file', `m.json: unknown layer class ${name} — this model was not made by LeNet Lab or needs a newer version`];
  it('a registered root and registered layers pass; layers without a class name are not checked here', async () => {
    expect(await outcome(() => checkLayerClasses(json({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense' }, { class_name: 'Conv2D' }, 7, { class_name: 3 }] } }), 'm.json'))).toEqual(['ok', '']);
    expect(await outcome(() => checkLayerClasses(json({ class_name: 'Model', config: 'none' }), 'm.json'))).toEqual(['ok', '']);
  });
  it.each([
    ['the root alone', { class_name: 'EvilModel', config: { layers: [{ class_name: 'Dense' }] } }, unknown('EvilModel')],
    ['a layer alone', { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense' }, { class_name: 'QuantumConv' }] } }, unknown('QuantumConv')],
    ['a name inherited by every object', { class_name: 'Sequential', config: { layers: [{ class_name: 'toString' }] } }, unknown('toString')],
    ['a long name, cut at 80 characters', { class_name: 'Sequential', config: { layers: [{ class_name: 'X'.repeat(200) }] } }, unknown('X'.repeat(80))],
  ])('an unknown class in %s is refused', async (_what, topology, refusal) => {
    expect(await outcome(() => checkLayerClasses(json(topology), 'm.json'))).toEqual(refusal);
  });
});

describe('metaFrom', () => {
  const json = (meta: unknown): ModelJsonFile => ({ modelTopology: topology, weightsManifest: [], raw: { userDefinedMetadata: { lenetLab: meta } } });
  it('names at most three faults, with their paths; a value that is not an object is "(root)"', async () => {
    const [, many] = await outcome(() => metaFrom(json({ formatVersion: 1 }), 'm.json'));
    expect(many).toMatch(/^m\.json has invalid LeNet Lab metadata \([^;]+; [^;]+; [^;]+\)$/);
    expect(many).toMatch(/\(name: /);
    expect(await outcome(() => metaFrom(json(5), 'm.json'))).toEqual(['bad-file', expect.stringMatching(/^m\.json has invalid LeNet Lab metadata \(\(root\): /)]);
  });
  it('a formatVersion of 1 is read as this format, 2 is newer', async () => {
    expect((await outcome(() => metaFrom(json({ formatVersion: 2 }), 'm.json')))[1]).toContain('uses model format 2');
    expect((await outcome(() => metaFrom(json({ formatVersion: 1 }), 'm.json')))[1]).toContain('has invalid LeNet Lab metadata');
  });
  it('null metadata, and a version written as text ("2"), are invalid metadata, not a newer format', async () => {
    expect(await outcome(() => metaFrom(json(null), 'm.json'))).toEqual(['bad-file', expect.stringMatching(/^m\.json has invalid LeNet Lab metadata \(\(root\): /)]);
    expect(await outcome(() => metaFrom(json({ formatVersion: '2' }), 'm.json'))).toEqual(['bad-file', expect.stringMatching(/^m\.json has invalid LeNet Lab metadata \(formatVersion: /)]);
  });
  it('an epoch without its run\'s epoch count takes the history\'s length; one with it keeps it', () => {
    const epoch = { epoch: 1, trainLoss: 1, trainAccuracy: 0.5, testLoss: null, testAccuracy: 0.5, seconds: 1, imagesPerSecond: 1, learningRate: 0.1 };
    const meta = metaFrom(json({
      formatVersion: 1, name: 'm', variant: 'linear', dataset: 'MNIST', recipe: VARIANTS.linear.recipe, backend: 'cpu',
      savedAt: '2026-12-07T05:00:00Z', testAccuracy: null, seed: 0, history: { epochs: [{ ...epoch, epochs: 20 }, { ...epoch, epoch: 2 }] },
    }), 'm.json');
    expect(meta.history.epochs.map((e) => [e.epoch, e.epochs, e.testLoss])).toEqual([[1, 20, Number.NaN], [2, 2, Number.NaN]]);
  });
  it('a fault inside a field is named by its dotted path', async () => {
    const [, message] = await outcome(() => metaFrom(json({ formatVersion: 1, name: 'm', variant: 'linear', dataset: 'MNIST', recipe: {} }), 'm.json'));
    expect(message).toMatch(/^m\.json has invalid LeNet Lab metadata \(recipe\.[a-zA-Z]+: /);
  });
});

describe('checkManifestAgainstVariant (a literal variant of three weights)', () => {
  const expected = new Map([['A/kernel', [2, 3]], ['A/bias', [3]], ['B/kernel', [3, 1]]]);
  const meta = { variant: 'linear' } as ModelMeta;
  const json = (weights: { name: string; shape: number[]; dtype?: string; quantization?: unknown }[]): ModelJsonFile =>
    ({ modelTopology: topology, weightsManifest: [{ paths: ['w.bin'], weights: weights.map((w) => ({ dtype: 'float32', ...w })) }] as never, raw: {} });
  const all = [{ name: 'A/kernel', shape: [2, 3] }, { name: 'A/bias', shape: [3] }, { name: 'B/kernel', shape: [3, 1] }];
  it('the same names and shapes pass, in any order', () => {
    expect(() => checkManifestAgainstVariant(json([...all].reverse()), meta, expected, 'd')).not.toThrow();
  });
  it.each([
    ['one missing', all.slice(1), 'd: the weights do not match the linear variant named in its metadata (missing A/kernel); the model may be from another variant'],
    ['one unexpected', [...all, { name: 'C/kernel', shape: [1] }],
      'd: the weights do not match the linear variant named in its metadata (unexpected C/kernel); the model may be from another variant'],
    ['missing and unexpected', [all[0]!, { name: 'X', shape: [1] }],
      'd: the weights do not match the linear variant named in its metadata (missing A/bias, B/kernel; unexpected X); the model may be from another variant'],
    ['five unexpected (four are named)', [...all, ...['P', 'Q', 'R', 'S', 'T'].map((name) => ({ name, shape: [1] }))],
      'd: the weights do not match the linear variant named in its metadata (unexpected P, Q, R, S); the model may be from another variant'],
    ['a weight listed twice, its long name cut at 80', [...all, { name: 'W'.repeat(200), shape: [1] }, { name: 'W'.repeat(200), shape: [1] }],
      `d: model.json lists the weight ${'W'.repeat(80)} twice`],
    ['a long unexpected name, cut at 80', [...all, { name: 'U'.repeat(200), shape: [1] }],
      `d: the weights do not match the linear variant named in its metadata (unexpected ${'U'.repeat(80)}); the model may be from another variant`],
    ['ten dimensions (eight are shown)', [all[0]!, all[1]!, { name: 'B/kernel', shape: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }],
      'd: shape mismatch for weight B/kernel: model.json says [1,2,3,4,5,6,7,8], the linear variant has [3,1]'],
    ['one more dimension', [all[0]!, all[1]!, { name: 'B/kernel', shape: [3, 1, 1] }],
      'd: shape mismatch for weight B/kernel: model.json says [3,1,1], the linear variant has [3,1]'],
    ['one fewer dimension', [all[0]!, all[1]!, { name: 'B/kernel', shape: [3] }], 'd: shape mismatch for weight B/kernel: model.json says [3], the linear variant has [3,1]'],
    ['a different size', [{ name: 'A/kernel', shape: [3, 2] }, all[1]!, all[2]!], 'd: shape mismatch for weight A/kernel: model.json says [3,2], the linear variant has [2,3]'],
    ['int32 values', [all[0]!, { ...all[1]!, dtype: 'int32' }, all[2]!], 'd: weight A/bias is stored as int32; LeNet Lab models store float32'],
    ['float16 quantisation', [{ ...all[0]!, quantization: { dtype: 'float16' } }, all[1]!, all[2]!],
      'd: weight A/kernel is stored as quantised float16; LeNet Lab models store float32'],
  ])('%s is refused', async (_what, weights, message) => {
    expect(await outcome(() => checkManifestAgainstVariant(json(weights), meta, expected, 'd'))).toEqual(['bad-file', message]);
  });
  it('five missing: four are named', async () => {
    const five = new Map(['P', 'Q', 'R', 'S', 'T'].map((name) => [name, [1]]));
    expect(await outcome(() => checkManifestAgainstVariant(json([]), meta, five, 'd'))).toEqual(['bad-file',
      'd: the weights do not match the linear variant named in its metadata (missing P, Q, R, S); the model may be from another variant']);
  });
});

describe('readWeights', () => {
  const floats = (...values: number[]) => Buffer.from(Float32Array.from(values).buffer);
  const json = (paths: string[], weights: { name: string; shape: number[] }[]): ModelJsonFile =>
    ({ modelTopology: topology, weightsManifest: manifest(paths, weights) as never, raw: {} });
  it('reads weights split over two files, in the manifest\'s order', () => {
    const dir = folder('two-files', { 'w1.bin': floats(1, 2, 3), 'w2.bin': floats(4, 5) });
    const values = readWeights(dir, dir, json(['w1.bin', 'w2.bin'], [{ name: 'a', shape: [2] }, { name: 'b', shape: [3, 1] }]));
    expect([...values.entries()].map(([k, v]) => [k, Array.from(v)])).toEqual([['a', [1, 2]], ['b', [3, 4, 5]]]);
  });
  it.each(['.', '..', 'sub/w.bin', 'sub\\w.bin', '..\\w.bin', 'w\0.bin', '/w.bin'])('the path %j is refused on every OS', async (p) => {
    const dir = folder(`paths-${Buffer.from(p).toString('hex')}`, { 'w.bin': floats(1) });
    expect(await outcome(() => readWeights(dir, dir, json([p], [{ name: 'a', shape: [1] }])))).toEqual(['bad-file',
      `${path.join(dir, 'model.json')}: weights path "${p}" must be a file name inside the model folder`]);
  });
  it('a long path is named by its first 80 characters', async () => {
    const dir = folder('paths-long', { 'w.bin': floats(1) });
    const p = `sub/${'x'.repeat(200)}`;
    expect(await outcome(() => readWeights(dir, dir, json([p], [{ name: 'a', shape: [1] }])))).toEqual(['bad-file',
      `${path.join(dir, 'model.json')}: weights path "${p.slice(0, 80)}" must be a file name inside the model folder`]);
  });
  it('two files a byte short together are refused, both named', async () => {
    const dir = folder('two-short', { 'w1.bin': floats(1, 2, 3), 'w2.bin': Buffer.alloc(7) });
    expect(await outcome(() => readWeights(dir, dir, json(['w1.bin', 'w2.bin'], [{ name: 'a', shape: [5] }])))).toEqual(['bad-file',
      `${dir}: w1.bin, w2.bin holds 19 bytes but model.json's weights manifest describes 20 bytes (truncated or from another model)`]);
  });
  it('one byte short and one byte over are refused; the manifest\'s size counts every dimension', async () => {
    for (const [name, bytes] of [['short', Buffer.alloc(23)], ['over', Buffer.alloc(25)]] as const) {
      const dir = folder(`size-${name}`, { 'w.bin': bytes });
      expect(await outcome(() => readWeights(dir, dir, json(['w.bin'], [{ name: 'a', shape: [2, 3] }])))).toEqual(['bad-file',
        `${dir}: w.bin holds ${bytes.length} bytes but model.json's weights manifest describes 24 bytes (truncated or from another model)`]);
    }
    const exact = folder('size-exact', { 'w.bin': Buffer.alloc(24) });
    expect(readWeights(exact, exact, json(['w.bin'], [{ name: 'a', shape: [2, 3] }])).get('a')).toEqual(new Float32Array(6));
  });
  it('a NaN in the second weight names that weight and the value\'s index in it', async () => {
    const dir = folder('nan-second', { 'w.bin': floats(1, 2, 3, Number.NaN) });
    expect(await outcome(() => readWeights(dir, dir, json(['w.bin'], [{ name: 'a', shape: [2] }, { name: 'b', shape: [2] }])))).toEqual(['bad-file',
      `${dir}: weight b holds NaN (value 1); the run that saved it diverged, so the model cannot predict`]);
  });
});

describe('serialise', () => {
  const meta = { name: 'm' } as ModelMeta;
  it('names the standard model class only for a model of standard layers; a model with LeNet Lab layers keeps its own', async () => {
    for (const [variant, root, custom] of [['linear', 'Model', []], ['lenet5', 'LenetLabModel', ['ScaledTanh', 'TrainableSubsampling', 'MaskedConv2D', 'RbfOutput']]] as const) {
      const { model } = buildVariantModel(variant);
      const { modelJson } = await serialise(model, meta);
      model.dispose();
      expect([(modelJson.modelTopology as Record<string, unknown>).class_name, (modelJson.userDefinedMetadata as Record<string, ModelMeta>).lenetLab!.customLayers]).toEqual([root, custom]);
    }
  });
  // A stand-in for a model whose save hands over less than a model: each missing part alone is a programming error.
  it.each([
    ['no artifacts at all', null],
    ['no topology', { weightSpecs: [], weightData: new ArrayBuffer(0) }],
    ['no weight specs', { modelTopology: {}, weightData: new ArrayBuffer(0) }],
    ['no weight data', { modelTopology: {}, weightSpecs: [] }],
  ])('%s is refused', async (_what, artifacts) => {
    const model = { layers: [], save: async (handler: { save: (a: unknown) => Promise<unknown> }) => (artifacts ? handler.save(artifacts) : undefined) };
    await expect(serialise(model as never, meta)).rejects.toThrow(/^model\.save produced no topology or weights$/);
  });
});

describe('checkTopology names the first difference (the linear variant, built from our specs)', () => {
  const meta = { variant: 'linear' } as ModelMeta;
  let built: ReturnType<typeof buildVariantModel>;
  let own: Record<string, any>;  
  beforeAll(() => {
    built = buildVariantModel('linear');
    own = built.model.toJSON(null, false) as Record<string, unknown>;
  });
  afterAll(() => built.model.dispose());
  const check = (edit: (t: Record<string, any>) => void) => {  
    const topologyCopy = structuredClone(own);
    edit(topologyCopy);
    return outcome(() => checkTopology({ modelTopology: topologyCopy, weightsManifest: [], raw: {} }, meta, built.model, 'd'));
  };
  const refusal = (difference: string) => ['bad-file',
    `d: the layers do not match the linear variant named in its metadata (${difference}); the model may be from another variant or edited`];
  it('its own topology passes, with other seeds, writer versions, and either model class', async () => {
    expect(await check(() => {})).toEqual(['ok', '']);
    expect(await check((t) => { t.keras_version = 'tfjs-layers 0.0.1'; t.backend = 'other'; t.class_name = 'Model'; })).toEqual(['ok', '']);
    expect(await check((t) => { t.class_name = 'LenetLabModel'; })).toEqual(['ok', '']);
  });
  it.each([
    ['a layer too many', (t: Record<string, any>) => t.config.layers.push({}), `config.layers: 4 entries, expected 3`],  
    ['layers that are not a list', (t: Record<string, any>) => { t.config.layers = { a: 1 }; }, 'config.layers: {"a":1}, expected a list'],  
    ['a config that is not an object', (t: Record<string, any>) => { t.config = 'x'.repeat(100); }, `config: "${'x'.repeat(56)}…, expected an object`],  
    ['a field removed', (t: Record<string, any>) => { delete t.config.name; }, 'config.name: nothing, expected "%NAME%"'],  
    ['an extra field', (t: Record<string, any>) => { t.config.extra = 1; }, 'config.extra: 1, expected nothing'],  
    ['another root class', (t: Record<string, any>) => { t.class_name = 'Sequential'; }, 'class_name: "Sequential", expected "LenetLabModel"'],  
    ['a value of 60 characters as JSON, shown whole', (t: Record<string, any>) => { t.config.name = 'n'.repeat(58); }, `config.name: "${'n'.repeat(58)}", expected "%NAME%"`],
    ['a value of 61 characters as JSON, cut', (t: Record<string, any>) => { t.config.name = 'n'.repeat(59); }, `config.name: "${'n'.repeat(56)}…, expected "%NAME%"`],
    // Keys compared in sorted order, so the difference named does not depend on the order a file writes them.
    ['two differences: the first key in sorted order', (t: Record<string, any>) => { delete t.config.name; t.config.layers.push({}); }, 'config.layers: 4 entries, expected 3'],
    ['a root that is a list', (t: Record<string, any>) => { Object.keys(t).forEach((k) => delete t[k]); t.length = 0; }, 'class_name: nothing, expected "LenetLabModel"'],  
  ])('%s', async (_what, edit, difference) => {
    expect(await check(edit)).toEqual(refusal(difference.replace('%NAME%', own.config.name)));
  });
});

describe('model files (.lenetlab)', () => {
  it.each([
    ['a missing file', () => path.join(tmp, 'none.lenetlab'), 'not-found', (f: string) => `model file not found: ${f}`],
    ['a folder', () => folder('a-folder.lenetlab'), 'bad-file', (f: string) => `${f} is not a regular file`],
    ['a path through a file', () => { const f = path.join(tmp, 'flat'); fs.writeFileSync(f, ''); return path.join(f, 'm.lenetlab'); }, 'bad-file',
      (f: string) => `cannot read ${f}: a part of the path is a file, not a folder`],
    ['one byte over the limit', () => { const f = path.join(tmp, 'big.lenetlab'); fs.writeFileSync(f, ''); fs.truncateSync(f, MAX_MODEL_FILE_BYTES + 1); return f; }, 'bad-file',
      (f: string) => `${f} is ${MAX_MODEL_FILE_BYTES + 1} bytes, more than the ${MAX_MODEL_FILE_BYTES}-byte limit for a model file`],
  ] as [string, () => string, string, (f: string) => string][])('%s is refused', async (_what, make, code, message) => {
    const file = make();
    expect(await outcome(() => readModelFile(file))).toEqual([code, message(file)]);
  });
  it('the limit itself is read, through a link', () => {
    const file = path.join(tmp, 'limit.lenetlab');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_MODEL_FILE_BYTES);
    fs.symlinkSync(file, path.join(tmp, 'limit-link.lenetlab'));
    expect(readModelFile(path.join(tmp, 'limit-link.lenetlab')).length).toBe(MAX_MODEL_FILE_BYTES);
  });
  it.each([
    [0, 'f is model file version 0; this LeNet Lab reads version 1'],
    [2, 'f is model file version 2; this LeNet Lab reads version 1 (it needs a newer LeNet Lab)'],
  ])('version %s is refused', async (version, message) => {
    const bytes = Buffer.alloc(64);
    bytes.write('LENETLAB', 0, 'latin1');
    bytes.writeUInt32LE(version, 8);
    expect(await outcome(() => unpackModelFile(bytes, 'f'))).toEqual(['bad-file', message]);
  });
});

describe('model folders that cannot be read, and saves that cannot start', () => {
  it('a path with a component too long cannot be read, with the reason in words', async () => {
    const dir = path.join(tmp, 'y'.repeat(300), 'model');
    expect(await outcome(() => readModelMeta(dir))).toEqual(['bad-file', `cannot read model folder ${dir}: the path is too long`]);
  });
  it('invalid metadata is a programming error (not a user error), found before the model is touched', async () => {
    await expect(saveModel({} as never, path.join(tmp, 'never-saved'), { name: '' } as never)).rejects.toThrow(/^saveModel: invalid metadata: /);
    expect(fs.existsSync(path.join(tmp, 'never-saved'))).toBe(false);
  });
  it('a model file is named after its model', () => {
    expect(modelFileName('Ana’s model')).toBe('Ana’s model.lenetlab');
  });
});
