// `lenet-lab conv`: one convolution of a digit, of any of the four kinds, for handouts and tests.
// The numbers come from common/convolution (tfjs operations on the engine's backend).
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PNG } from 'pngjs';
import { UserError } from '../common/errors.js';
import { divergingRgb } from '../common/colormap.js';
import { preprocessDrawing } from '../common/preprocess.js';
import { createPredictor } from '../common/network/predict.js';
import { getVariant } from '../common/network/variants.js';
import {
  CONV_KINDS, checkSettings, convCounts, convolve, defaultConvSettings, presetWeights, type ConvKind, type ConvSettings, type FeatureMaps, type Padding, type WeightTensor,
} from '../common/convolution/index.js';
import { initBackend } from '../engine/backends/ladder.js';
import { loadDataset } from '../engine/data/dataset.js';
import { decodeImageFile } from '../engine/data/image-file.js';
import { loadModel } from '../engine/io/model-store.js';
import { writeFileAtomic } from '../main/atomic-file.js';
import { defaultModelDir, type Io } from './commands.js';

export interface ConvFlags {
  kind: ConvKind;
  kernelSize?: number;
  stride?: number;
  padding?: Padding;
  dilation?: number;
  filters?: number;
  digit?: number;
  image?: string;
  seed?: number;
  out?: string;
  json?: boolean;
}

/** Whole numbers only; the limits are checked with the other settings, in one place (checkSettings). */
const wholeNumber = (flag: string) => (value: string): number => {
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
};

const paddingFlag = (value: string): Padding => {
  if (value === 'valid' || value === 'same') return value;
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(`--padding must be valid, same or a whole number of pixels, got "${value}"`);
  return Number(value);
};

export function registerConvCommand(program: Command, io: Io): void {
  program.command('conv')
    .description('one convolution of a test digit (standard, depthwise separable, transposed or dilated): numbers, sizes and counts')
    .addOption(new Option('--kind <kind>', 'which convolution').choices([...CONV_KINDS]).makeOptionMandatory())
    .option('--kernel-size <K>', 'K×K kernels (default 5, as in LeNet-5)', wholeNumber('--kernel-size'))
    .option('--stride <S>', 'step of the window (default 1; 2 for transposed)', wholeNumber('--stride'))
    .option('--padding <P>', 'valid, same or a number of zero pixels on each side (default valid)', paddingFlag)
    .option('--dilation <D>', 'spacing of the kernel taps (default 2 for dilated, else 1)', wholeNumber('--dilation'))
    .option('--filters <F>', 'output channels (default 6 like C1; 16 like C3 for depthwise separable)', wholeNumber('--filters'))
    .option('--digit <N>', 'test digit number N of the MNIST test set (default 0)', wholeNumber('--digit'))
    .option('--image <file>', 'a PNG or JPEG of a digit instead, read like the drawing pad')
    .option('--seed <N>', 'seed of the random kernels (default 0)', wholeNumber('--seed'))
    .option('--out <file>', 'write the output maps as one PNG sheet (blue negative, white zero, red positive)')
    .option('--json', 'one JSON object on stdout: settings, counts, input, weights, bias and output (row-major HWC)')
    .action(async (flags: ConvFlags) => convCommand(flags, io));
}

const tensorJson = (t: WeightTensor | FeatureMaps) => ({ shape: [...t.shape], data: Array.from(t.data) });

/** The digit as a 28×28 map (ink 1, background 0), and a caption saying which. */
function readDigit(flags: ConvFlags): { pixels: Float32Array; caption: string } {
  if (flags.image !== undefined && flags.digit !== undefined) throw new UserError('invalid-request', 'give --digit or --image, not both');
  if (flags.image !== undefined) {
    const { pixels, hasInk } = preprocessDrawing(decodeImageFile(flags.image));
    if (!hasInk) throw new UserError('bad-file', `${flags.image}: no ink: the image is blank, so there is no digit to convolve`);
    return { pixels, caption: flags.image };
  }
  const test = loadDataset({ kind: 'mnist' }).test;
  const index = flags.digit ?? 0;
  if (index < 0 || index >= test.count) throw new UserError('invalid-request', `--digit must be a test digit number from 0 to ${test.count - 1}, got ${index}`);
  const side = test.rows * test.cols;
  return { pixels: Float32Array.from(test.images.subarray(index * side, (index + 1) * side), (v) => v / 255), caption: `test digit #${index} (a ${test.labels[index]})` };
}

/** The six S2 maps of the digit from the shipped model: a real multi-channel input. */
async function s2Maps(pixels: Float32Array): Promise<FeatureMaps> {
  const { model, meta } = await loadModel(defaultModelDir());
  const predictor = createPredictor(model, getVariant(meta.variant));
  try {
    const s2 = predictor.predict(pixels).activations.find((a) => a.id === 'S2')!;
    return { shape: s2.shape as [number, number, number], data: s2.data };
  } finally {
    predictor.dispose();
    model.dispose();
  }
}

/** The output maps side by side, up to 8 a row, zoomed to about 120 px, on one shared symmetric colour scale. */
export function mapSheet(maps: FeatureMaps): { png: Buffer; scale: number } {
  const [h, w, f] = maps.shape;
  const zoom = Math.max(1, Math.round(120 / Math.max(h, w)));
  const gap = 4;
  const columns = Math.min(f, 8);
  const rows = Math.ceil(f / columns);
  const width = columns * w * zoom + (columns + 1) * gap;
  const height = rows * h * zoom + (rows + 1) * gap;
  const png = new PNG({ width, height });
  png.data.fill(0xc8); // grey gutters, so a white (all-zero) map still shows its edge
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  let scale = 0;
  for (const v of maps.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  for (let map = 0; map < f; map++) {
    const left = gap + (map % columns) * (w * zoom + gap);
    const top = gap + Math.floor(map / columns) * (h * zoom + gap);
    for (let y = 0; y < h * zoom; y++) {
      for (let x = 0; x < w * zoom; x++) {
        const rgb = divergingRgb(maps.data[(Math.floor(y / zoom) * w + Math.floor(x / zoom)) * f + map]!, scale);
        const o = ((top + y) * width + left + x) * 4;
        png.data[o] = rgb[0];
        png.data[o + 1] = rgb[1];
        png.data[o + 2] = rgb[2];
      }
    }
  }
  return { png: PNG.sync.write(png), scale };
}

export async function convCommand(flags: ConvFlags, io: Io): Promise<void> {
  const defaults = defaultConvSettings(flags.kind);
  const settings: ConvSettings = {
    ...defaults,
    ...(flags.kernelSize !== undefined && { kernelSize: flags.kernelSize }),
    ...(flags.stride !== undefined && { stride: flags.stride }),
    ...(flags.padding !== undefined && { padding: flags.padding }),
    ...(flags.dilation !== undefined && { dilation: flags.dilation }),
    ...(flags.filters !== undefined && { filters: flags.filters }),
  };
  checkSettings(settings);
  const { pixels, caption } = readDigit(flags);
  const backend = await initBackend();
  io.log(`backend: ${backend.name} (${backend.note})\n`);
  // Depthwise separable needs several channels for its two stages to differ: the digit's six S2 maps.
  const input: FeatureMaps = settings.kind === 'depthwise-separable' ? await s2Maps(pixels) : { shape: [28, 28, 1], data: pixels };
  // Checks every setting against this input (one-line errors) before any weight is made.
  const counts = convCounts(settings, input.shape);
  const weights = presetWeights(settings, input.shape[2], 'random', { seed: flags.seed ?? 0 });
  const result = convolve(input, settings, weights);
  if (flags.out !== undefined) {
    const { png, scale } = mapSheet(result.output);
    await writeFileAtomic(path.resolve(flags.out), png);
    io.log(`wrote ${result.output.shape[2]} output maps to ${path.resolve(flags.out)} (blue −${scale.toPrecision(3)} … white 0 … red +${scale.toPrecision(3)})\n`);
  }
  if (flags.json) {
    const weightJson = 'kernel' in weights
      ? { kernel: tensorJson(weights.kernel) }
      : { depthwise: tensorJson(weights.depthwise), pointwise: tensorJson(weights.pointwise), ...(weights.depthwiseBias && { depthwiseBias: tensorJson(weights.depthwiseBias) }) };
    io.out(JSON.stringify({
      kind: settings.kind, stride: settings.stride, padding: settings.padding, dilation: settings.dilation,
      params: counts.params, macs: counts.macs, input: tensorJson(input), weights: weightJson,
      bias: weights.bias ? tensorJson(weights.bias) : null, output: tensorJson(result.output),
    }));
    return;
  }
  const g = result.geometry;
  const [oh, ow, oc] = result.output.shape;
  io.out(`${settings.kind} convolution of ${caption}${settings.kind === 'depthwise-separable' ? ', as its six S2 maps from the shipped model' : ''}`);
  io.out(`input ${input.shape.join('×')} · ${settings.kernelSize}×${settings.kernelSize} kernels, stride ${settings.stride}, padding ${settings.padding}, dilation ${settings.dilation}, ${settings.filters} filters, random from seed ${flags.seed ?? 0}`);
  io.out(`output ${oh}×${ow}×${oc}: H' = ${g.rows.formula} = ${g.rows.filled}${g.rows.filled === g.cols.filled ? '' : `; W' = ${g.cols.filled}`}`);
  io.out(`parameters: ${counts.paramsFormula}`);
  io.out(`multiply-adds: ${counts.macsFormula}`);
  let min = Infinity, max = -Infinity;
  for (const v of result.output.data) { min = Math.min(min, v); max = Math.max(max, v); }
  io.out(`output values from ${min.toFixed(3)} to ${max.toFixed(3)}`);
}
