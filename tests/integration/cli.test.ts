import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/dataset.js';
import { readModelMeta } from '../../engine/io/model-store.js';
import { runCli } from '../../cli/lenet-lab.js';
import type { Io } from '../../cli/commands.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  let err = '';
  const io: Io = { out: (l) => out.push(l), log: (t) => (err += t), interactive: false };
  const code = await runCli(argv, io);
  return { code, out, err, json: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-cli-'));

/** Writes an MNIST test digit as a PNG, scaled up and optionally inverted, like a phone photo of a drawing. */
function writeDigitPng(file: string, index: number, opts: { invert?: boolean; scale?: number } = {}): number {
  const test = loadDataset({ kind: 'mnist' }).test;
  const scale = opts.scale ?? 3;
  const size = 28 * scale + 20;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = Math.floor((x - 10) / scale), sy = Math.floor((y - 10) / scale);
      const ink = sx >= 0 && sy >= 0 && sx < 28 && sy < 28 ? test.images[index * 784 + sy * 28 + sx]! : 0;
      const v = opts.invert ? ink : 255 - ink;
      const o = (y * size + x) * 4;
      png.data[o] = png.data[o + 1] = png.data[o + 2] = v;
      png.data[o + 3] = 255;
    }
  }
  fs.writeFileSync(file, PNG.sync.write(png));
  return test.labels[index]!;
}

describe('lenet-lab CLI', () => {
  it('train --json prints epoch, gradients and a done line with the backend and throughput', async () => {
    const r = await run('train', '--variant', 'lenet5', '--epochs', '1', '--limit', '256', '--test-limit', '100', '--seed', '3', '--out', path.join(tmp, 'l5'), '--json');
    expect(r.code, r.err).toBe(0);
    const lines = r.json();
    expect(lines.map((l) => l.type)).toEqual(['gradients', 'epoch', 'done']);
    const done = lines.at(-1)!;
    expect(done).toMatchObject({ type: 'done', reason: 'completed', backend: 'wasm' });
    expect(done.imagesPerSecond).toBeGreaterThan(0);
    // End to end includes the engines' start-up, so it is below the steps' own figure.
    expect(done.startupSeconds).toBeGreaterThan(0);
    expect(done.endToEndImagesPerSecond).toBeGreaterThan(0);
    expect(done.endToEndImagesPerSecond).toBeLessThan(done.imagesPerSecond);
    expect(fs.existsSync(path.join(tmp, 'l5', 'model.json'))).toBe(true);
  });

  it.each([
    ['modern', [] as string[], 0.99],
    ['lenet5', ['--model', 'assets/models/lenet5'], 0.989],
    // The 1998 comparison's earlier rows: the targets (linear 88%, LeNet-1 98.0%, LeNet-4 98.6%).
    ['linear', ['--model', 'assets/models/linear'], 0.88],
    ['lenet1', ['--model', 'assets/models/lenet1'], 0.98],
    ['lenet4', ['--model', 'assets/models/lenet4'], 0.986],
  ])('eval --json: the shipped %s model scores its target over the whole test set, with a confusion matrix', async (variant, flags, target) => {
    const r = await run('eval', ...flags, '--json');
    expect(r.code, r.err).toBe(0);
    const [line] = r.json();
    expect(line).toMatchObject({ type: 'eval', variant, count: 10_000, backend: 'wasm' });
    expect(line!.testAccuracy).toBeGreaterThanOrEqual(target);
    const confusion = line!.confusion as number[][];
    expect(confusion).toHaveLength(10);
    expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(10_000);
    const correct = confusion.reduce((sum, row, i) => sum + row[i]!, 0);
    expect(correct / 10_000).toBeCloseTo(line!.testAccuracy as number, 6);
  });

  it('a model trained on another IDX folder is evaluated on that folder\'s test set by default', async () => {
    // MNIST digits with every label moved up by one: a different dataset that only this model was trained on.
    const mnist = loadDataset({ kind: 'mnist' });
    const dir = path.join(tmp, 'shifted-labels');
    fs.mkdirSync(dir);
    const write = (name: string, magic: number, dims: number[], data: Uint8Array) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
      fs.writeFileSync(path.join(dir, name), Buffer.concat([header, data]));
    };
    const relabel = (labels: Uint8Array) => labels.map((l) => (l + 1) % 10);
    write('train-images-idx3-ubyte', 0x803, [2048, 28, 28], mnist.train.images.subarray(0, 2048 * 784));
    write('train-labels-idx1-ubyte', 0x801, [2048], relabel(mnist.train.labels.subarray(0, 2048)));
    write('t10k-images-idx3-ubyte', 0x803, [500, 28, 28], mnist.test.images.subarray(0, 500 * 784));
    write('t10k-labels-idx1-ubyte', 0x801, [500], relabel(mnist.test.labels.subarray(0, 500)));
    const out = path.join(tmp, 'shifted-model');
    // --data given relative to the working folder is stored absolute, so eval works from any other folder.
    const relative = path.relative(process.cwd(), dir);
    expect(path.isAbsolute(relative)).toBe(false);
    const trained = await run('train', '--variant', 'modern', '--epochs', '2', '--augment-shift', '0', '--data', relative, '--seed', '5', '--out', out, '--json');
    expect(trained.code, trained.err).toBe(0);
    expect(readModelMeta(out).datasetSource).toEqual({ kind: 'folder', dir });
    const done = trained.json().at(-1)!;
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    const own = await run('eval', '--model', out, '--json').finally(() => process.chdir(cwd));
    expect(own.json()[0]).toMatchObject({ dataset: 'shifted-labels', count: 500, testAccuracy: done.testAccuracy });
    expect(done.testAccuracy).toBeGreaterThan(0.5);
    const onMnist = await run('eval', '--model', out, '--data', mnist.dir, '--limit', '500', '--json');
    expect(onMnist.json()[0]!.testAccuracy).toBeLessThan(0.2);
  });

  it('predict reads digits from PNG files, and a blank one fails with "no ink" and exit code 2 after the good ones', async () => {
    const files = [0, 1, 2].map((i) => path.join(tmp, `digit-${i}.png`));
    const labels = files.map((f, i) => writeDigitPng(f, i, { invert: i === 1, scale: 2 + i }));
    const blank = path.join(tmp, 'blank.png');
    const png = new PNG({ width: 50, height: 50 });
    png.data.fill(255);
    fs.writeFileSync(blank, PNG.sync.write(png));
    const r = await run('predict', ...files, blank, '--json');
    expect(r.code).toBe(2);
    const lines = r.json();
    expect(lines.slice(0, 3).map((l) => l.digit)).toEqual(labels);
    expect((lines[0]!.probabilities as number[]).length).toBe(10);
    expect(lines[3]).toEqual({ file: blank, error: expect.stringMatching(/no ink/) });
  });

  it.each([
    ['an unknown variant', ['train', '--variant', 'alexnet', '--out', 'x'], /alexnet/],
    ['a non-numeric epoch count', ['train', '--variant', 'seed', '--epochs', 'many', '--out', 'x'], /--epochs must be a whole number/],
    ['a missing --out', ['train', '--variant', 'seed'], /--out/],
    ['a zero learning rate', ['train', '--variant', 'seed', '--lr', '0', '--out', path.join(tmp, 'never')], /learning rate must be > 0/],
    ['a batch larger than the data', ['train', '--variant', 'seed', '--limit', '10', '--batch', '64', '--out', path.join(tmp, 'never')], /larger than the 10 training images/],
    ['a missing model folder', ['eval', '--model', path.join(tmp, 'nope')], /nope/],
    ['an unknown command', ['fly'], /fly/],
    ['an unknown backend', ['info', '--backend', 'gpu'], /gpu/],
  ])('exits 2 with a one-line reason for %s', async (_, argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 naming the file for a corrupt IDX dataset', async () => {
    const data = path.join(tmp, 'corrupt');
    fs.mkdirSync(data);
    for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
      fs.writeFileSync(path.join(data, name), Buffer.from([0, 0, 8, 3, 0, 0, 0, 1]));
    }
    const r = await run('train', '--variant', 'modern', '--data', data, '--out', path.join(tmp, 'never'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/idx/);
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  it('export and import work as fresh processes (they load a model before any other command set up a backend)', async () => {
    const bin = path.resolve('bin/lenet-lab.js');
    const file = path.join(tmp, 'fresh.lenetlab');
    const exported = await promisify(execFile)(process.execPath, [bin, 'export', '--model', 'assets/models/linear', '--out', file, '--json']);
    expect(JSON.parse(exported.stdout)).toMatchObject({ file, name: 'linear', variant: 'linear' });
    const models = path.join(tmp, 'fresh-models');
    const imported = await promisify(execFile)(process.execPath, [bin, 'import', file, '--models', models, '--json']);
    expect(JSON.parse(imported.stdout)).toMatchObject({ dir: path.join(models, 'linear'), variant: 'linear' });
  });

  it('the installed bin exits 2 without a stack trace', async () => {
    const bin = path.resolve('bin/lenet-lab.js');
    expect(fs.existsSync(path.resolve('dist/cli/lenet-lab.js')), 'run `npm run build` first').toBe(true);
    const result = await promisify(execFile)(process.execPath, [bin, 'eval', '--model', path.join(tmp, 'missing')]).catch((e: { code: number; stderr: string }) => e);
    expect((result as { code: number }).code).toBe(2);
    const stderr = (result as { stderr: string }).stderr;
    expect(stderr.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toHaveLength(1);
    expect(stderr).toMatch(/missing/);
  });
});
