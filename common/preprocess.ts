// Turns a drawing (or a photo of a digit) into an MNIST-like 28×28 image, and images into model input.
// ISOMORPHIC: the renderer's drawing pad and the CLI's `predict` both use it, so no node imports here.
//
// MNIST's recipe (LeCun et al.): the digit's bounding box is scaled to fit 20×20 keeping its aspect ratio,
// anti-aliased, then placed in a 28×28 field so that its centre of mass sits at the centre. We measure the
// centre of mass in pixel-index coordinates, where MNIST's own digits have it at (14, 14) within half a pixel.
import { UserError } from './errors.js';

export interface GrayImage {
  /** width × height values, row-major, 0..255. */
  data: ArrayLike<number>;
  width: number;
  height: number;
}

export interface PreprocessedDrawing {
  /** 28×28 ink intensities, row-major, 0 = background, 1 = full ink. */
  pixels: Float32Array;
  /** False for a blank image; then `pixels` is all zeros and there is nothing to classify. */
  hasInk: boolean;
}

/** How a variant maps a 28×28 digit (0 = background, 1 = ink) to its padded input. */
export interface InputNormalisation {
  /** Side of the model's square input; `pad` pixels of background surround the 28×28 digit (size = 28 + 2·pad). */
  size: number;
  pad: number;
  background: number;
  ink: number;
}

export const MNIST_SIDE = 28;
/** The digit's bounding box is scaled to fit this square. */
export const MNIST_FIT_BOX = 20;
/** Where the centre of mass goes, in pixel-index coordinates (x = Σ i·v / Σ v). */
export const MNIST_CENTRE = 14;
/**
 * Ink weaker than this (as a fraction of the background-to-black contrast) is noise: paper grain, JPEG ringing,
 * a faint smudge. MNIST's own digits keep their bounding box at this threshold.
 */
export const INK_NOISE_THRESHOLD = 0.1;

/** Median of the outer ring of pixels: the background, robust to strokes that touch the edge. */
function borderMedian(data: ArrayLike<number>, width: number, height: number): number {
  const histogram = new Uint32Array(256);
  let total = 0;
  const add = (i: number): void => {
    const v = Math.min(255, Math.max(0, Math.round(Number(data[i]) || 0)));
    histogram[v]!++;
    total++;
  };
  for (let x = 0; x < width; x++) {
    add(x);
    if (height > 1) add((height - 1) * width + x);
  }
  for (let y = 1; y < height - 1; y++) {
    add(y * width);
    if (width > 1) add(y * width + width - 1);
  }
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v]!;
    if (seen * 2 >= total) return v;
  }
  return 255;
}

/** For each output index: the first source index and the weights of consecutive source pixels. */
interface ResampleTaps { start: number; weights: number[] }

/**
 * Resampling weights along one axis. Shrinking uses area averaging (each output pixel is the mean of the source
 * area it covers), so thin strokes survive as lighter pixels the way MNIST's anti-aliasing made them; enlarging
 * uses bilinear interpolation between pixel centres.
 */
function resampleTaps(inSize: number, outSize: number): ResampleTaps[] {
  const taps: ResampleTaps[] = [];
  const ratio = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    if (outSize <= inSize) {
      const from = o * ratio;
      const to = Math.min(inSize, (o + 1) * ratio);
      const start = Math.floor(from);
      const weights: number[] = [];
      for (let x = start; x < to; x++) {
        const overlap = Math.min(to, x + 1) - Math.max(from, x);
        weights.push(overlap / ratio);
      }
      taps.push({ start, weights });
    } else {
      const centre = (o + 0.5) * ratio - 0.5;
      const left = Math.floor(centre);
      const frac = centre - left;
      if (left < 0) taps.push({ start: 0, weights: [1] });
      else if (left >= inSize - 1) taps.push({ start: inSize - 1, weights: [1] });
      else taps.push({ start: left, weights: [1 - frac, frac] });
    }
  }
  return taps;
}

/**
 * Makes an MNIST-style 28×28 digit from a grayscale image of any size with ink of either polarity
 * (the background is taken from the border): crop to the ink, fit 20×20 keeping the aspect ratio,
 * centre the centre of mass. Pure; the same function serves the drawing pad and `predict`.
 */
export function preprocessDrawing(img: GrayImage): PreprocessedDrawing {
  const { data, width, height } = img;
  const pixels = new Float32Array(MNIST_SIDE * MNIST_SIDE);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`preprocessDrawing: image size must be whole numbers, got ${width}×${height}`);
  }
  const count = width * height;
  if (data.length < count) {
    throw new RangeError(`preprocessDrawing: a ${width}×${height} image needs ${count} values, got ${data.length}`);
  }
  if (count === 0) return { pixels, hasInk: false };

  // Ink intensity 0..1 relative to the background, whichever way round the image is.
  const background = borderMedian(data, width, height);
  const darkInk = background >= 128;
  const contrast = darkInk ? background : 255 - background;
  const ink = new Float32Array(count);
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = Number(data[i]) || 0;
      const t = (darkInk ? background - v : v - background) / contrast;
      if (!(t >= INK_NOISE_THRESHOLD)) continue;
      ink[i] = t > 1 ? 1 : t;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return { pixels, hasInk: false };

  // Crop, and fit the longer side to 20 pixels.
  const boxW = x1 - x0 + 1;
  const boxH = y1 - y0 + 1;
  const scale = MNIST_FIT_BOX / Math.max(boxW, boxH);
  const outW = Math.min(MNIST_FIT_BOX, Math.max(1, Math.round(boxW * scale)));
  const outH = Math.min(MNIST_FIT_BOX, Math.max(1, Math.round(boxH * scale)));
  const tapsX = resampleTaps(boxW, outW);
  const tapsY = resampleTaps(boxH, outH);

  // Separable resample: rows first (boxH × outW), then columns (outH × outW).
  const rowsDone = new Float32Array(boxH * outW);
  for (let y = 0; y < boxH; y++) {
    const src = (y0 + y) * width + x0;
    for (let ox = 0; ox < outW; ox++) {
      const { start, weights } = tapsX[ox]!;
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k]! * ink[src + start + k]!;
      rowsDone[y * outW + ox] = sum;
    }
  }
  const digit = new Float32Array(outH * outW);
  let strongest = 0;
  for (let oy = 0; oy < outH; oy++) {
    const { start, weights } = tapsY[oy]!;
    for (let ox = 0; ox < outW; ox++) {
      let sum = 0;
      for (let k = 0; k < weights.length; k++) sum += weights[k]! * rowsDone[(start + k) * outW + ox]!;
      digit[oy * outW + ox] = sum;
      if (sum > strongest) strongest = sum;
    }
  }
  // A faint pencil drawing, or thin strokes shrunk to a fraction of a pixel, become full-contrast ink like MNIST's.
  const stretch = 1 / strongest;
  let mass = 0, momentX = 0, momentY = 0;
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const v = Math.min(1, digit[oy * outW + ox]! * stretch);
      digit[oy * outW + ox] = v;
      mass += v;
      momentX += v * ox;
      momentY += v * oy;
    }
  }

  // Shift by whole pixels so the centre of mass lands on the centre, as MNIST did; never push ink off the field.
  const shiftX = Math.min(MNIST_SIDE - outW, Math.max(0, Math.round(MNIST_CENTRE - momentX / mass)));
  const shiftY = Math.min(MNIST_SIDE - outH, Math.max(0, Math.round(MNIST_CENTRE - momentY / mass)));
  for (let oy = 0; oy < outH; oy++) {
    pixels.set(digit.subarray(oy * outW, (oy + 1) * outW), (oy + shiftY) * MNIST_SIDE + shiftX);
  }
  return { pixels, hasInk: true };
}

function checkNormalisation(norm: InputNormalisation): number {
  const side = norm.size - 2 * norm.pad;
  if (side !== MNIST_SIDE) throw new RangeError(`input size ${norm.size} with pad ${norm.pad} does not hold a 28×28 digit`);
  return side;
}

/** A 28×28 digit (0 = background, 1 = ink) as model input: padded to size×size, 0 → background, 1 → ink linearly. */
export function toModelInput(pixels28: ArrayLike<number>, norm: InputNormalisation): Float32Array {
  const side = checkNormalisation(norm);
  if (pixels28.length !== side * side) {
    throw new RangeError(`toModelInput: expected ${side * side} pixels (28×28), got ${pixels28.length}`);
  }
  const { size, pad, background } = norm;
  const range = norm.ink - background;
  const out = new Float32Array(size * size).fill(background);
  for (let y = 0; y < side; y++) {
    const row = (y + pad) * size + pad;
    for (let x = 0; x < side; x++) out[row + x] = background + range * pixels28[y * side + x]!;
  }
  return out;
}

/**
 * Model input for a batch of uint8 dataset images (count × rows × cols, value/255 = ink), written into `out`
 * (count × size × size) when given. One lookup per pixel; equal to `toModelInput` of each image.
 */
export function batchToModelInput(
  images: Uint8Array, count: number, rows: number, cols: number, norm: InputNormalisation, out?: Float32Array,
  /** Optional (dx, dy) per image, each within ±pad: where the digit sits in its padded frame (augmentation). */
  shifts?: Int8Array,
): Float32Array {
  const side = checkNormalisation(norm);
  if (rows !== side || cols !== side) {
    throw new UserError('unsupported', `the dataset's images are ${rows}×${cols}; the models take 28×28 images`);
  }
  const pixelsIn = rows * cols;
  if (images.length < count * pixelsIn) {
    throw new RangeError(`batchToModelInput: ${count} images of ${rows}×${cols} need ${count * pixelsIn} bytes, got ${images.length}`);
  }
  const { size, pad, background } = norm;
  const pixelsOut = size * size;
  const needed = count * pixelsOut;
  const target = out ?? new Float32Array(needed);
  if (target.length < needed) {
    throw new RangeError(`batchToModelInput: output holds ${target.length} values, ${count} images need ${needed}`);
  }
  // Same arithmetic as toModelInput on a Float32Array of value/255, so both give identical floats.
  const range = norm.ink - background;
  const lookup = new Float32Array(256);
  for (let v = 0; v < 256; v++) lookup[v] = background + range * Math.fround(v / 255);

  target.fill(background, 0, needed);
  for (let n = 0; n < count; n++) {
    const src = n * pixelsIn;
    const dx = shifts ? Math.max(-pad, Math.min(pad, shifts[2 * n]!)) : 0;
    const dy = shifts ? Math.max(-pad, Math.min(pad, shifts[2 * n + 1]!)) : 0;
    const dst = n * pixelsOut + (pad + dy) * size + pad + dx;
    for (let y = 0; y < rows; y++) {
      const s = src + y * cols;
      const d = dst + y * size;
      for (let x = 0; x < cols; x++) target[d + x] = lookup[images[s + x]!]!;
    }
  }
  return target;
}

/** Grayscale (0..255) from RGBA pixels, composited over white: a transparent canvas is blank paper. */
export function rgbaToGray(rgba: ArrayLike<number>, width: number, height: number): Uint8ClampedArray {
  const count = width * height;
  if (rgba.length < count * 4) {
    throw new RangeError(`rgbaToGray: a ${width}×${height} image needs ${count * 4} RGBA values, got ${rgba.length}`);
  }
  const gray = new Uint8ClampedArray(count);
  for (let i = 0, j = 0; i < count; i++, j += 4) {
    const luma = 0.299 * rgba[j]! + 0.587 * rgba[j + 1]! + 0.114 * rgba[j + 2]!;
    const alpha = rgba[j + 3]! / 255;
    gray[i] = luma * alpha + 255 * (1 - alpha);
  }
  return gray;
}
