// Every kind of hostile input a student can hand LeNet Lab, in one table: each row is a case, the way in (the
// CLI or the IPC contract, the real entry points), and the message that must name the fault. Adding a case is
// one line. Each must fail cleanly: a typed error or exit code 2, one line, no stack trace, no crash.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../cli/commands.js';
import { runCli } from '../../cli/lenet-lab.js';
import { parseRequest } from '../../common/contract.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-hostile-'));
const shippedModel = path.resolve('assets/models/modern');

interface Outcome { code: number; text: string }

async function cli(...argv: string[]): Promise<Outcome> {
  let text = '';
  const io: Io = { out: (l) => (text += l + '\n'), log: (t) => (text += t), interactive: false };
  const code = await runCli(argv, io);
  return { code, text };
}

/** The contract's validation, as every host applies it to a train request. */
async function trainRequest(recipe: Record<string, unknown>): Promise<Outcome> {
  const result = parseRequest('train', { variant: 'modern', recipe });
  return result.ok ? { code: 0, text: '' } : { code: 2, text: result.error.message };
}

// ---- IDX folders: a valid small set, then one file broken per case.
const u32 = (...values: number[]) => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};
const idxImages = (n: number, rows = 28, cols = 28) => Buffer.concat([u32(0x803, n, rows, cols), Buffer.alloc(n * rows * cols, 7)]);
const idxLabels = (labels: number[]) => Buffer.concat([u32(0x801, labels.length), Buffer.from(labels)]);
const IDX = { trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte', testImages: 't10k-images-idx3-ubyte', testLabels: 't10k-labels-idx1-ubyte' };

function idxFolder(name: string, broken: Partial<Record<keyof typeof IDX, Buffer | { gz: Buffer }>>): string {
  const dir = path.join(tmp, `idx-${name}`);
  fs.mkdirSync(dir);
  const files: Record<keyof typeof IDX, Buffer | { gz: Buffer }> = {
    trainImages: idxImages(4), trainLabels: idxLabels([1, 2, 3, 4]), testImages: idxImages(2), testLabels: idxLabels([5, 6]), ...broken,
  };
  for (const [key, content] of Object.entries(files) as [keyof typeof IDX, Buffer | { gz: Buffer }][]) {
    if (Buffer.isBuffer(content)) fs.writeFileSync(path.join(dir, IDX[key]), content);
    else fs.writeFileSync(path.join(dir, IDX[key] + '.gz'), content.gz);
  }
  return dir;
}

// ---- Model folders: the shipped model, copied and then damaged.
function modelFolder(name: string, damage: (dir: string) => void): string {
  const dir = path.join(tmp, `model-${name}`);
  fs.cpSync(shippedModel, dir, { recursive: true });
  damage(dir);
  return dir;
}
const editModelJson = (dir: string, edit: (json: Record<string, any>) => void) => {
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json));
};

// ---- Images.
function png(name: string, width: number, height: number, fill: number): string {
  const image = new PNG({ width, height });
  image.data.fill(fill);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, PNG.sync.write(image));
  return file;
}
/** A PNG header that declares a huge image, with no pixel data behind it. */
function pngHeaderOnly(name: string, width: number, height: number, depth = 8, colorType = 0): string {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const chunk = Buffer.concat([u32(13), Buffer.from('IHDR'), ihdr, u32(zlib.crc32 ? zlib.crc32(Buffer.concat([Buffer.from('IHDR'), ihdr])) : 0)]);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk]));
  return file;
}

/** A PNG whose IHDR declares `depth`, with image data that inflates far beyond any valid image of its size. */
function pngWithDepth(name: string, depth: number): string {
  const file = pngHeaderOnly(name, 64, 64, depth, 0);
  const bytes = fs.readFileSync(file).subarray(0, 33);
  const data = zlib.deflateSync(Buffer.alloc(64 * 1024 * 1024));
  const chunk = (type: string, body: Buffer) => Buffer.concat([u32(body.length), Buffer.from(type), body, u32(zlib.crc32(Buffer.concat([Buffer.from(type), body])))]);
  fs.writeFileSync(file, Buffer.concat([bytes, chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]));
  return file;
}

/** A gzip member written by hand: optional file-name field, then the given raw deflate data. */
function gzipWith(deflated: Buffer, original: Buffer, fileName?: Buffer): Buffer {
  const header = Buffer.from([0x1f, 0x8b, 8, fileName ? 0x08 : 0, 0, 0, 0, 0, 0, 0xff]);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(original), 0);
  trailer.writeUInt32LE(original.length % 2 ** 32, 4);
  return Buffer.concat([header, ...(fileName ? [fileName, Buffer.from([0])] : []), deflated, trailer]);
}
const idxBomb = () => Buffer.concat([u32(0x803, 2, 28, 28), Buffer.alloc(64 * 1024 * 1024)]);
/** 14,000 empty stored deflate blocks (5 bytes each): 70 KB of compressed data that inflate to nothing. */
const emptyBlocks = () => Buffer.concat(Array.from({ length: 14_000 }, () => Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])));

/** A FIFO, and a writer that releases a reader after 3 s: a loader that opens it fails instead of hanging. */
function fifo(file: string): void {
  fs.rmSync(file, { force: true });
  execFileSync('mkfifo', [file]);
  spawn('sh', ['-c', `sleep 3; : > "${file}"`], { stdio: 'ignore', detached: true }).unref();
}
const writeFloat = (dir: string, index: number, value: number) => {
  const file = path.join(dir, 'weights.bin');
  const bytes = fs.readFileSync(file);
  bytes.writeFloatLE(value, 4 * index);
  fs.writeFileSync(file, bytes);
};
const unix = process.platform !== 'win32';
// ---- One-file models (.lenetlab): the shipped model packed by hand, then damaged.
function modelFile(name: string, edit: (json: Record<string, any>, weights: Buffer) => void = () => {}, tamper: (file: Buffer) => Buffer = (f) => f): string {
  const json = JSON.parse(fs.readFileSync(path.join(shippedModel, 'model.json'), 'utf8'));
  const weights = Buffer.from(fs.readFileSync(path.join(shippedModel, 'weights.bin')));
  edit(json, weights);
  const body = Buffer.from(JSON.stringify(json));
  const header = Buffer.from(JSON.stringify({ files: [{ name: 'model.json', bytes: body.length }, { name: 'weights.bin', bytes: weights.length }] }));
  const pre = Buffer.alloc(16);
  pre.write('LENETLAB', 0, 'latin1');
  pre.writeUInt32LE(1, 8);
  pre.writeUInt32LE(header.length, 12);
  const file = path.join(tmp, `${name}.lenetlab`);
  fs.writeFileSync(file, tamper(Buffer.concat([pre, header, body, weights])));
  return file;
}

/** The contract's validation of any request, as every host applies it. */
async function ipcRequest(name: Parameters<typeof parseRequest>[0], request: unknown): Promise<Outcome> {
  const result = parseRequest(name, request);
  return result.ok ? { code: 0, text: '' } : { code: 2, text: result.error.message };
}

type Case = [what: string, run: () => Promise<Outcome>, fault: RegExp];
// Built when the file is collected, so that each case is its own test: mutation testing then reruns only the
// cases that reach a changed line.
const cases: Case[] = (() => {
  const predict = (file: string) => () => cli('predict', '--model', shippedModel, file, '--json');
  const evalData = (dir: string) => () => cli('eval', '--model', shippedModel, '--data', dir);
  const evalModel = (dir: string) => () => cli('eval', '--model', dir, '--limit', '10');
  const importFile = (file: string) => () => cli('import', file, '--models', path.join(tmp, 'imports'));
  const train = (...flags: string[]) => () => cli('train', '--variant', 'modern', '--limit', '100', '--out', path.join(tmp, 'never'), ...flags);
  return [
    // IDX files
    ['IDX: wrong magic', evalData(idxFolder('magic', { testImages: Buffer.concat([u32(0x1234, 2, 28, 28), Buffer.alloc(2 * 784)]) })), /t10k-images.*magic/],
    ['IDX: truncated', evalData(idxFolder('truncated', { testImages: idxImages(2).subarray(0, 900) })), /t10k-images.*truncated/],
    ['IDX: header counts larger than the file', evalData(idxFolder('counts', { testImages: Buffer.concat([u32(0x803, 9000, 28, 28), Buffer.alloc(2 * 784)]) })), /t10k-images.*9000/],
    ['IDX: 0 images', evalData(idxFolder('empty', { testImages: idxImages(0), testLabels: idxLabels([]) })), /t10k-images.*(0 images|no images|zero)/i],
    ['IDX: a label above 9', evalData(idxFolder('label', { testLabels: idxLabels([5, 12]) })), /t10k-labels.*12/],
    ['IDX: images and labels disagree', evalData(idxFolder('disagree', { testLabels: idxLabels([5, 6, 7]) })), /t10k.*(2|3).*(2|3)/],
    ['IDX: a gzip bomb', evalData(idxFolder('bomb', { testImages: { gz: zlib.gzipSync(Buffer.concat([u32(0x803, 2, 28, 28), Buffer.alloc(64 * 1024 * 1024)])) } })), /t10k-images/],
    ['IDX: a huge declared dimension', evalData(idxFolder('huge', { testImages: Buffer.concat([u32(0x803, 2, 100000, 100000), Buffer.alloc(10)]) })), /t10k-images.*100000/],
    // Model folders
    ['model: missing weights', evalModel(modelFolder('noweights', (d) => fs.rmSync(path.join(d, 'weights.bin')))), /weights\.bin/],
    ['model: model.json is not JSON', evalModel(modelFolder('notjson', (d) => fs.writeFileSync(path.join(d, 'model.json'), '{ this is not json'))), /model\.json.*JSON/i],
    ['model: a shape mismatch', evalModel(modelFolder('shape', (d) => editModelJson(d, (j) => { j.weightsManifest[0].weights[0].shape = [3, 3, 1, 6]; }))), /shape|bytes/i],
    ['model: an unknown layer class', evalModel(modelFolder('class', (d) => editModelJson(d, (j) => { j.modelTopology.config.layers[1].class_name = 'QuantumConv'; }))), /QuantumConv/],
    ['model: weights from another variant', evalModel(modelFolder('variant', (d) => editModelJson(d, (j) => { j.userDefinedMetadata.lenetLab.variant = 'lenet5'; }))), /lenet5/],
    ['IDX: a gzip file-name field over 64 KiB hiding a bomb', evalData(idxFolder('longname', { testImages: { gz: gzipWith(zlib.deflateRawSync(idxBomb()), idxBomb(), Buffer.alloc(70 * 1024, 0x61)) } })),
      /t10k-images-idx3-ubyte\.gz: gzip data decompresses to more than expected \(the header declares 2 images of 28×28 \(1584 bytes\)\); trailing data or a gzip bomb/],
    ['IDX: 70 KB of empty deflate blocks before a bomb', evalData(idxFolder('padding', { testImages: { gz: gzipWith(Buffer.concat([emptyBlocks(), zlib.deflateRawSync(idxBomb())]), idxBomb()) } })),
      /t10k-images-idx3-ubyte\.gz: corrupt gzip data: its first 64 KiB of compressed data hold no IDX header/],
    // Hostile model folders (issue 14): refused before anything is read or built
    ...(unix ? [
      ['model: weights.bin is a FIFO', evalModel(modelFolder('fifo', (d) => fifo(path.join(d, 'weights.bin')))), /weights\.bin is a named pipe \(FIFO\), not a regular file/] as Case,
      ['model: model.json is a FIFO', evalModel(modelFolder('fifo-json', (d) => fifo(path.join(d, 'model.json')))), /model\.json is a named pipe \(FIFO\), not a regular file/] as Case,
      ['model: weights.bin links to /dev/zero', evalModel(modelFolder('zero', (d) => { fs.rmSync(path.join(d, 'weights.bin')); fs.symlinkSync('/dev/zero', path.join(d, 'weights.bin')); })),
        /weights\.bin is a link to \/dev\/zero, outside the model folder/] as Case,
    ] : []),
    ['model: weights.bin links outside the folder', evalModel(modelFolder('outside', (d) => {
      fs.renameSync(path.join(d, 'weights.bin'), `${d}-elsewhere.bin`);
      fs.symlinkSync(`${d}-elsewhere.bin`, path.join(d, 'weights.bin'));
    })), /weights\.bin is a link to .*-elsewhere\.bin, outside the model folder/],
    ['model: C5 declares 1,000,000 filters', evalModel(modelFolder('c5', (d) => editModelJson(d, (j) => { j.modelTopology.config.layers.find((l: { name: string }) => l.name === 'C5').config.filters = 1_000_000; }))),
      /the layers do not match the modern variant named in its metadata \(config\.layers\[5\]\.config\.filters: 1000000, expected 120\)/],
    ['model: weights.bin listed six times', evalModel(modelFolder('six', (d) => editModelJson(d, (j) => { j.weightsManifest[0].paths = Array(6).fill('weights.bin'); }))),
      /model\.json: the weights manifest lists weights\.bin twice/],
    ['model: a sparse 200 MB weights.bin', evalModel(modelFolder('sparse', (d) => fs.truncateSync(path.join(d, 'weights.bin'), 200 * 1024 * 1024))),
      /weights\.bin holds 209715200 bytes but model\.json's weights manifest describes \d+ bytes/],
    ['model: NaN weights (predict)', () => cli('predict', '--model', modelFolder('nan', (d) => writeFloat(d, 3, Number.NaN)), png('ink.png', 40, 40, 0)),
      /weight C1\/kernel holds NaN \(value 3\); the run that saved it diverged, so the model cannot predict/],
    ['model: Inf weights', evalModel(modelFolder('inf', (d) => writeFloat(d, 0, Number.POSITIVE_INFINITY))), /weight C1\/kernel holds an infinite value \(value 0\)/],
    // Images
    ['image: not an image', predict((() => { const f = path.join(tmp, 'notes.png'); fs.writeFileSync(f, 'just some text'); return f; })()), /PNG or JPEG/],
    ['image: 0×0', predict(pngHeaderOnly('zero.png', 0, 0)), /0×0|empty|zero/i],
    ['image: 20000×20000', predict(pngHeaderOnly('huge.png', 20000, 20000)), /20000×20000/],
    ['image: all blank', predict(png('blank.png', 64, 64, 255)), /no ink/],
    ['image: PNG bit depth 255 over a 64 MiB inflate', predict(pngWithDepth('depth255.png', 255)), /bit depth 255 is not valid for grayscale images \(allowed: 1, 2, 4, 8, 16\)/],
    ['image: PNG bit depth 16 for a palette', predict(pngHeaderOnly('palette16.png', 8, 8, 16, 3)), /bit depth 16 is not valid for palette images \(allowed: 1, 2, 4, 8\)/],
    // Flags checked before training starts (issue 14 item 2), with the limits saving uses
    ['flags: --seed 2147483648', train('--seed', '2147483648'), /^error: option '--seed <n>' argument '2147483648' is invalid\. --seed must be a whole number ≤ 2147483647, got "2147483648"/],
    ['flags: --seed 2147483647 is accepted (then --out / fails)', train('--seed', '2147483647', '--out', '/'), /^lenet-lab: cannot save model to \/: not a folder name\n$/],
    ['flags: --out name of 81 characters', train('--out', path.join(tmp, 'n'.repeat(81))), /cannot save model to .*: the name has 81 characters; at most 80 are allowed\n$/],
    ['flags: --out CON', train('--out', path.join(tmp, 'CON')), /cannot save model to .*CON: "CON" is a device name on Windows and cannot name a folder there\n$/],
    ['flags: --out ending in a dot', train('--out', path.join(tmp, 'model.')), /cannot save model to .*model\.: a name cannot end with a dot or a space \(Windows drops them\)\n$/],
    ['flags: --out over a folder of other files', train('--out', (() => { const d = path.join(tmp, 'documents'); fs.mkdirSync(d); fs.writeFileSync(path.join(d, 'thesis.tex'), 'x'); return d; })()),
      /cannot save model to .*documents: the folder holds other files \(thesis\.tex\) that saving would replace; choose a new or empty folder\n$/],
    ['flags: --lr 0x10', train('--lr', '0x10'), /--lr must be a number written in decimal \(like 0\.01 or 1e-3\), got "0x10"/],
    ['flags: --lr Infinity', train('--lr', 'Infinity'), /--lr must be a number written in decimal \(like 0\.01 or 1e-3\), got "Infinity"/],
    ['name: CON (IPC)', async () => { const r = parseRequest('saveModel', { name: 'con.txt' }); return r.ok ? { code: 0, text: '' } : { code: 2, text: r.error.message }; },
      /^saveModel: name: "con" is a device name on Windows and cannot name a folder there$/],
    // Training recipes
    ['recipe: zero learning rate', train('--lr', '0'), /learning rate must be > 0/],
    ['recipe: negative learning rate', train('--lr', '-0.5'), /learning rate must be > 0/],
    ['recipe: NaN learning rate (CLI)', train('--lr', 'NaN'), /--lr must be a number/],
    ['recipe: NaN learning rate (IPC)', () => trainRequest({ learningRate: NaN }), /learningRate/],
    ['recipe: a batch larger than the dataset', train('--batch', '128'), /larger than the 100 training images/],
    ['recipe: 0 epochs', train('--epochs', '0'), /--epochs must be a whole number ≥ 1/],
    ['recipe: 0 epochs (IPC)', () => trainRequest({ epochs: 0 }), /epochs must be at least 1/],
    ['recipe: an absurd learning rate', () => trainRequest({ learningRate: 1e12 }), /learning rate must be ≤ 1000/],
    ['recipe: an absurd batch', train('--batch', '10000000'), /batchSize/],
    ['recipe: an absurd epoch count', () => trainRequest({ epochs: 1e6 }), /epochs/],
    ['recipe: a fractional batch (IPC)', () => trainRequest({ batchSize: 2.5 }), /batchSize/],
    ['recipe: momentum of 1 (IPC)', () => trainRequest({ momentum: 1 }), /momentum must be < 1/],
    // One-file models (import is checked like Open; nothing lands in the models folder)
    ['model file: a zip, not a model file', importFile((() => { const f = path.join(tmp, 'a.lenetlab'); fs.writeFileSync(f, 'PK\u0003\u0004 zip'); return f; })()), /not a LeNet Lab model file/],
    ['model file: truncated', importFile(modelFile('cut', undefined, (f) => f.subarray(0, f.length - 1))), /truncated/],
    ['model file: bytes after the end', importFile(modelFile('long', undefined, (f) => Buffer.concat([f, Buffer.from('x')]))), /extra bytes/],
    ['model file: a declared size over the limit', importFile(modelFile('big', undefined, (f) => { const g = Buffer.from(f); g.writeUInt32LE(5000, 12); return g; })), /5000 bytes, more than/],
    ['model file: a topology bomb', importFile(modelFile('bomb', (j) => { j.modelTopology.config.layers[1].config.filters = 1000000; })), /do not match|shape/],
    ['model file: NaN weights', importFile(modelFile('nan', (_j, w) => w.writeFloatLE(NaN, 0))), /NaN/],
    ['model file: weights from another variant', importFile(modelFile('variant', (j) => { j.userDefinedMetadata.lenetLab.variant = 'lenet5'; })), /lenet5/],
    ['model file: a name that is a path', () => cli('import', modelFile('ok'), '--models', path.join(tmp, 'imports'), '--name', '../outside'), /cannot import as/],
    ['model file: a device name inside it', importFile(modelFile('con', (j) => { j.userDefinedMetadata.lenetLab.name = 'NUL'; })), /give a name/],
    ['model file: an upload over the frame limit (IPC)', () => ipcRequest('importModel', { base64: 'A'.repeat(1_000_004) }), /base64/],
    ['CSV: an unknown export (IPC)', () => ipcRequest('exportCsv', { kind: 'passwords' }), /kind/],
    ['history: a folder that is not a string (IPC)', () => ipcRequest('modelHistory', { dir: ['..'] }), /dir/],
  ];
})();

describe('hostile input', () => {
  it('lists every case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(51);
  });

  it.each(cases)('%s fails cleanly with a message naming the fault', async (what, run, fault) => {
    const started = /training modern/;
    const { code, text } = await run();
    if (process.env.SHOW_HOSTILE) process.stdout.write(`${what}: ${text.trim().split('\n').pop()}\n`);
    expect(code, `${what}: exit code (output: ${text})`).toBe(2);
    expect(text, what).toMatch(fault);
    expect(text, `${what}: no stack trace`).not.toMatch(/\n\s+at \S+ \(/);
    if (what.startsWith('flags:')) expect(text, `${what}: refused before training`).not.toMatch(started);
  });

  it('no refused model file left anything in the models folder', () => {
    expect(fs.existsSync(path.join(tmp, 'imports')) ? fs.readdirSync(path.join(tmp, 'imports')) : []).toEqual([]);
  });

  it('predict prints the good files before failing for the bad one', async () => {
    const blank = png('blank2.png', 40, 40, 255);
    const ink = path.join(tmp, 'one.png');
    const image = new PNG({ width: 40, height: 40 });
    image.data.fill(255);
    for (let y = 8; y < 32; y++) for (let x = 18; x < 22; x++) image.data.fill(0, (y * 40 + x) * 4, (y * 40 + x) * 4 + 3);
    fs.writeFileSync(ink, PNG.sync.write(image));
    const { code, text } = await cli('predict', '--model', shippedModel, ink, blank, '--json');
    expect(code).toBe(2);
    const lines = text.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ file: ink, digit: 1 });
    expect(lines[1]).toEqual({ file: blank, error: expect.stringMatching(/no ink/) });
    expect(lines[1]).not.toHaveProperty('digit');
  });
});
