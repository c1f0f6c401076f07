// `lenet-lab conv`: the JSON object (fields, layouts, numbers against reference loops), the PNG sheet, and the errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../engine/data/dataset.js';
import { runCli } from '../../cli/lenet-lab.js';
import type { Io } from '../../cli/commands.js';
import type { ConvSettings, FeatureMaps } from '../../common/convolution/index.js';
import { refForward, refSeparable, refTransposed } from './conv-reference.js';

const run = async (...argv: string[]) => {
  const out: string[] = [];
  let err = '';
  const io: Io = { out: (l) => out.push(l), log: (t) => (err += t), interactive: false };
  const code = await runCli(argv, io);
  return { code, out, err };
};

interface Tensor { shape: number[]; data: number[] }
interface ConvJson {
  kind: string; stride: number; padding: 'valid' | 'same' | number; dilation: number; params: number; macs: number;
  input: Tensor; weights: Record<string, Tensor>; bias: Tensor | null; output: Tensor;
}
const conv = async (...argv: string[]): Promise<ConvJson> => {
  const r = await run('conv', ...argv, '--json');
  expect(r.code, r.err).toBe(0);
  expect(r.out).toHaveLength(1);
  return JSON.parse(r.out[0]!) as ConvJson;
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lenet-conv-'));
const f32 = (t: Tensor) => Float32Array.from(t.data);
const maps = (t: Tensor): FeatureMaps => ({ shape: t.shape as [number, number, number], data: f32(t) });
const settingsOf = (j: ConvJson, kernelSize: number, filters: number): ConvSettings => ({
  kind: j.kind as ConvSettings['kind'], kernelSize, stride: j.stride, padding: j.padding, dilation: j.dilation, filters,
  depthMultiplier: 1, outputPadding: 0, useBias: j.bias !== null, depthwiseBias: 'depthwiseBias' in j.weights,
});
function expectOutput(j: ConvJson, expected: FeatureMaps): void {
  expect(j.output.shape).toEqual(expected.shape);
  const worst = j.output.data.reduce((m, v, i) => Math.max(m, Math.abs(v - expected.data[i]!)), 0);
  expect(worst).toBeLessThan(1e-4);
}
const test = loadDataset({ kind: 'mnist' }).test;

describe('lenet-lab conv --json', () => {
  it('standard, by default: test digit 0, six random 5×5 kernels, stride 1, valid; the output is their convolution', async () => {
    const j = await conv('--kind', 'standard');
    expect(Object.keys(j)).toEqual(['kind', 'stride', 'padding', 'dilation', 'params', 'macs', 'input', 'weights', 'bias', 'output']);
    expect(j).toMatchObject({ kind: 'standard', stride: 1, padding: 'valid', dilation: 1, params: 156, macs: 24 * 24 * 25 * 6 });
    expect(j.input.shape).toEqual([28, 28, 1]);
    expect(j.input.data).toEqual(Array.from(test.images.subarray(0, 784), (v) => Math.fround(v / 255)));
    expect(Object.keys(j.weights)).toEqual(['kernel']);
    expect(j.weights.kernel!.shape).toEqual([5, 5, 1, 6]);
    expect(j.bias!.shape).toEqual([6]);
    expectOutput(j, refForward(maps(j.input), settingsOf(j, 5, 6), f32(j.weights.kernel!), f32(j.bias!)));
  });

  it('dilated: dilation 2 by default, a 20×20 output', async () => {
    const j = await conv('--kind', 'dilated');
    expect(j).toMatchObject({ kind: 'dilated', stride: 1, dilation: 2, params: 156, macs: 20 * 20 * 25 * 6 });
    expectOutput(j, refForward(maps(j.input), settingsOf(j, 5, 6), f32(j.weights.kernel!), f32(j.bias!)));
  });

  it('transposed: stride 2 by default, kernel in conv2dTranspose\'s [kh, kw, out, in], a 59×59 output', async () => {
    const j = await conv('--kind', 'transposed');
    expect(j).toMatchObject({ kind: 'transposed', stride: 2, dilation: 1, padding: 'valid', params: 156, macs: 28 * 28 * 25 * 6 });
    expect(j.weights.kernel!.shape).toEqual([5, 5, 6, 1]);
    expect(j.output.shape).toEqual([59, 59, 6]);
    expectOutput(j, refTransposed(maps(j.input), settingsOf(j, 5, 6), f32(j.weights.kernel!), f32(j.bias!)));
  });

  it('depthwise separable: the six S2 maps of the digit, depthwise [5, 5, 6, 1] then pointwise [1, 1, 6, 16]', async () => {
    const j = await conv('--kind', 'depthwise-separable');
    expect(j).toMatchObject({ kind: 'depthwise-separable', stride: 1, dilation: 1, params: 262, macs: 24_600 });
    expect(j.input.shape).toEqual([14, 14, 6]);
    // The shipped model's S2 follows ReLU and max pooling: non-negative, with ink in every map.
    expect(Math.min(...j.input.data)).toBeGreaterThanOrEqual(0);
    for (let c = 0; c < 6; c++) expect(j.input.data.filter((_, i) => i % 6 === c).some((v) => v > 0)).toBe(true);
    expect(Object.keys(j.weights)).toEqual(['depthwise', 'pointwise']);
    expect(j.weights.depthwise!.shape).toEqual([5, 5, 6, 1]);
    expect(j.weights.pointwise!.shape).toEqual([1, 1, 6, 16]);
    const ref = refSeparable(maps(j.input), settingsOf(j, 5, 16), f32(j.weights.depthwise!), f32(j.weights.pointwise!), null, f32(j.bias!));
    expectOutput(j, ref.out);
  });

  it('leaves no tensor behind, the shipped model it loads for the S2 maps included', async () => {
    await conv('--kind', 'depthwise-separable'); // the backend is ready and the dataset cached
    const before = tf.memory().numTensors;
    await conv('--kind', 'depthwise-separable', '--digit', '1');
    await conv('--kind', 'standard', '--digit', '1');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes every setting: kernel size, stride, same or numeric padding, filters, digit and seed', async () => {
    const j = await conv('--kind', 'standard', '--kernel-size', '3', '--stride', '2', '--padding', 'same', '--filters', '2', '--digit', '5', '--seed', '7');
    expect(j).toMatchObject({ stride: 2, padding: 'same', params: 3 * 3 * 2 + 2 });
    expect(j.output.shape).toEqual([14, 14, 2]);
    expect(j.input.data).toEqual(Array.from(test.images.subarray(5 * 784, 6 * 784), (v) => Math.fround(v / 255)));
    expectOutput(j, refForward(maps(j.input), settingsOf(j, 3, 2), f32(j.weights.kernel!), f32(j.bias!)));
    const again = await conv('--kind', 'standard', '--kernel-size', '3', '--stride', '2', '--padding', 'same', '--filters', '2', '--digit', '5', '--seed', '7');
    expect(again.weights.kernel!.data).toEqual(j.weights.kernel!.data);
    const other = await conv('--kind', 'standard', '--kernel-size', '3', '--filters', '2', '--seed', '8');
    expect(other.weights.kernel!.data).not.toEqual(j.weights.kernel!.data);
    const padded = await conv('--kind', 'dilated', '--padding', '2', '--stride', '2');
    expect(padded).toMatchObject({ padding: 2, stride: 2, dilation: 2 });
    expect(padded.output.shape).toEqual([12, 12, 6]); // ⌊(28 + 4 − 9) / 2⌋ + 1
    expectOutput(padded, refForward(maps(padded.input), settingsOf(padded, 5, 6), f32(padded.weights.kernel!), f32(padded.bias!)));
  });

  it('reads a digit from an image file like the drawing pad', async () => {
    const png = new PNG({ width: 60, height: 60 });
    for (let i = 0; i < 3600; i++) {
      const ink = Math.abs((i % 60) - 30) < 4 && Math.floor(i / 60) > 10 && Math.floor(i / 60) < 50; // a "1"
      png.data.set(ink ? [0, 0, 0, 255] : [255, 255, 255, 255], i * 4);
    }
    const file = path.join(tmp, 'one.png');
    fs.writeFileSync(file, PNG.sync.write(png));
    const j = await conv('--kind', 'standard', '--image', file);
    expect(j.input.shape).toEqual([28, 28, 1]);
    // Centred like MNIST: ink in the middle column, none in the corners.
    expect(j.input.data[14 * 28 + 14]).toBeGreaterThan(0.5);
    expect(j.input.data[0]).toBe(0);
  });
});

describe('lenet-lab conv --out', () => {
  it('writes the output maps as one PNG sheet, diverging colours centred at zero on a shared scale', async () => {
    const file = path.join(tmp, 'maps.png');
    const r = await run('conv', '--kind', 'standard', '--out', file, '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out[0]!) as ConvJson;
    const sheet = PNG.sync.read(fs.readFileSync(file));
    // Six 24×24 maps, zoomed 5×, in one row with 4 px gutters.
    expect([sheet.width, sheet.height]).toEqual([6 * 120 + 7 * 4, 120 + 8]);
    const pixel = (x: number, y: number) => Array.from(sheet.data.subarray((y * sheet.width + x) * 4, (y * sheet.width + x) * 4 + 3));
    expect(pixel(0, 0)).toEqual([200, 200, 200]);
    expect(sheet.data.filter((_, i) => i % 4 === 3).every((alpha) => alpha === 255)).toBe(true); // opaque, gutters and maps
    expect(r.err).toMatch(/^backend: \w+ \(.+\)\n/);
    // The gutter just left of each map stays grey: each map's colours land inside it, channel by channel.
    for (let map = 0; map < 6; map++) {
      for (let y = 4; y < 124; y++) expect(pixel(3 + map * 124, y), `left of map ${map}, row ${y}`).toEqual([200, 200, 200]);
    }
    // The largest |value| is the scale: it saturates to RdBu's darkest red or blue.
    const data = j.output.data;
    const at = data.reduce((best, v, i) => (Math.abs(v) > Math.abs(data[best]!) ? i : best), 0);
    const [y, x, map] = [Math.floor(at / 6 / 24), Math.floor(at / 6) % 24, at % 6];
    expect(pixel(4 + map * 124 + x * 5 + 2, 4 + y * 5 + 2)).toEqual(data[at]! > 0 ? [178, 24, 43] : [33, 102, 172]);
    expect(fs.readdirSync(tmp).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('lenet-lab conv --out, nine maps', () => {
  it('eight maps a row, the ninth on a second row; every clearly signed value is drawn red (positive) or blue (negative) in its place', async () => {
    const file = path.join(tmp, 'nine.png');
    const r = await run('conv', '--kind', 'standard', '--filters', '9', '--out', file, '--json');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out[0]!) as ConvJson;
    const scale = j.output.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(r.err).toContain(`wrote 9 output maps to ${file} (blue −${scale.toPrecision(3)} … white 0 … red +${scale.toPrecision(3)})\n`);
    const sheet = PNG.sync.read(fs.readFileSync(file));
    // 24×24 maps zoomed 5× (120 px), 4 px gutters: 8 columns and 2 rows.
    expect([sheet.width, sheet.height]).toEqual([8 * 120 + 9 * 4, 2 * 120 + 3 * 4]);
    const pixel = (x: number, y: number) => Array.from(sheet.data.subarray((y * sheet.width + x) * 4, (y * sheet.width + x) * 4 + 3));
    expect(pixel(4 + 124 + 60, 4 + 124 + 60)).toEqual([200, 200, 200]); // where a tenth map would be: gutter grey
    let checked = 0;
    for (let map = 0; map < 9; map++) {
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 24; x++) {
          const v = j.output.data[(y * 24 + x) * 9 + map]!;
          if (Math.abs(v) < 0.2 * scale) continue;
          const [red, , blue] = pixel(4 + (map % 8) * 124 + x * 5 + 2, 4 + Math.floor(map / 8) * 124 + y * 5 + 2);
          expect(v > 0 ? red! > blue! : blue! > red!, `map ${map} (${x}, ${y}) = ${v}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('lenet-lab conv as text: the value range', () => {
  it('is the output\'s smallest and largest value, to three places', async () => {
    const text = await run('conv', '--kind', 'dilated', '--seed', '3');
    const j = await conv('--kind', 'dilated', '--seed', '3');
    const min = Math.min(...j.output.data), max = Math.max(...j.output.data);
    expect(text.out.at(-1)).toBe(`output values from ${min.toFixed(3)} to ${max.toFixed(3)}`);
  });
});

describe('lenet-lab conv errors', () => {
  it.each([
    ['an unknown kind', ['--kind', 'pointy'], /argument 'pointy' is invalid/],
    ['no kind', [], /--kind/],
    ['stride 0', ['--kind', 'standard', '--stride', '0'], /stride must be a whole number from 1 to 8, got 0/],
    ['dilation 0', ['--kind', 'dilated', '--dilation', '0'], /dilation must be a whole number from 1 to 8, got 0/],
    ['a kernel size past the limit', ['--kind', 'standard', '--kernel-size', '16'], /kernel size must be a whole number from 1 to 15, got 16/],
    ['a dilated kernel larger than the padded input', ['--kind', 'dilated', '--kernel-size', '11', '--dilation', '3'], /dilated by 3 spans 31 pixels .* larger than the padded input: H \+ 2P = 28 \+ 2·0 = 28/],
    ['a kernel larger than the S2 maps', ['--kind', 'depthwise-separable', '--kernel-size', '15'], /the 15×15 kernel is larger than the padded input: H \+ 2P = 14 \+ 2·0 = 14/],
    ['dilation on a standard convolution', ['--kind', 'standard', '--dilation', '2'], /use the dilated kind/],
    ['a non-number stride', ['--kind', 'standard', '--stride', 'two'], /--stride must be a whole number, got "two"/],
    ['a fractional kernel size', ['--kind', 'standard', '--kernel-size', '2.5'], /--kernel-size must be a whole number, got "2.5"/],
    ['an unknown padding', ['--kind', 'standard', '--padding', 'full'], /--padding must be valid, same or a whole number of pixels, got "full"/],
    ['a negative padding', ['--kind', 'standard', '--padding', '-1'], /--padding must be valid, same or a whole number/],
    ['too many filters', ['--kind', 'standard', '--filters', '65'], /filters must be a whole number from 1 to 64, got 65/],
    ['a digit past the test set', ['--kind', 'standard', '--digit', '10000'], /--digit must be a test digit number from 0 to 9999, got 10000/],
    ['a digit below zero', ['--kind', 'standard', '--digit', '-1'], /--digit must be a test digit number from 0 to 9999, got -1/],
    ['both --digit and --image', ['--kind', 'standard', '--digit', '1', '--image', 'x.png'], /--digit or --image, not both/],
    ['a missing image', ['--kind', 'standard', '--image', path.join(os.tmpdir(), 'no-such-digit.png')], /no-such-digit\.png/],
    ['transposed padding beyond the kernel\'s span', ['--kind', 'transposed', '--kernel-size', '1', '--stride', '1', '--padding', '1'], /more than the kernel's span − 1 = 0/],
    // Whole numbers in plain digits only: Number() alone would take these.
    ['a stride in exponent notation', ['--kind', 'standard', '--stride', '1e0'], /--stride must be a whole number, got "1e0"$/m],
    ['a stride with a plus sign', ['--kind', 'standard', '--stride', '+1'], /--stride must be a whole number, got "\+1"$/m],
    ['filters in hexadecimal', ['--kind', 'standard', '--filters', '0x10'], /--filters must be a whole number, got "0x10"$/m],
    ['an empty seed', ['--kind', 'standard', '--seed', ''], /--seed must be a whole number, got ""$/m],
    ['a fractional dilation', ['--kind', 'dilated', '--dilation', '1.5'], /--dilation must be a whole number, got "1\.5"$/m],
    ['a digit by name', ['--kind', 'standard', '--digit', 'seven'], /--digit must be a whole number, got "seven"$/m],
    ['a negative stride (a whole number, refused by its range)', ['--kind', 'standard', '--stride', '-1'], /stride must be a whole number from 1 to 8, got -1/],
    ['a padding with a unit', ['--kind', 'standard', '--padding', '2px'], /--padding must be valid, same or a whole number of pixels, got "2px"$/m],
    ['a padding with a sign', ['--kind', 'standard', '--padding', '+2'], /--padding must be valid, same or a whole number of pixels, got "\+2"$/m],
    ['a padding past its limit (two digits)', ['--kind', 'standard', '--padding', '17'], /padding must be a whole number from 0 to 16, got 17/],
  ])('exits 2 with a one-line reason for %s', async (_, argv, message) => {
    const r = await run('conv', ...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('backend:') && !l.startsWith('(run with --help'))).toHaveLength(1);
    expect(r.out).toEqual([]);
  });

  it('padding "valid" and "same" by name, and 16 pixels (two digits), are accepted', async () => {
    expect((await conv('--kind', 'standard', '--padding', 'valid')).output.shape).toEqual([24, 24, 6]);
    expect((await conv('--kind', 'standard', '--padding', 'same')).output.shape).toEqual([28, 28, 6]);
    expect((await conv('--kind', 'standard', '--padding', ' 16 ')).output.shape).toEqual([56, 56, 6]);
  });

  it('the last test digit (9999) is read', async () => {
    const j = await conv('--kind', 'standard', '--digit', '9999');
    expect(j.input.data).toEqual(Array.from(test.images.subarray(9999 * 784, 10000 * 784), (v) => Math.fround(v / 255)));
  });

  it('accepts the largest settings that fit and writes nothing when refused', async () => {
    // D·(K−1) + 1 = 3·9 + 1 = 28: exactly the digit, a 1×1 output.
    expect((await conv('--kind', 'dilated', '--kernel-size', '10', '--dilation', '3')).output.shape).toEqual([1, 1, 6]);
    expect((await conv('--kind', 'standard', '--kernel-size', '15', '--stride', '8', '--filters', '64')).output.shape).toEqual([2, 2, 64]);
    expect((await conv('--kind', 'depthwise-separable', '--kernel-size', '14', '--filters', '1')).output.shape).toEqual([1, 1, 1]);
    const file = path.join(tmp, 'never.png');
    expect((await run('conv', '--kind', 'dilated', '--kernel-size', '11', '--dilation', '3', '--out', file)).code).toBe(2);
    expect(fs.existsSync(file)).toBe(false);
  });
});
