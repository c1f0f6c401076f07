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

/** Cells of the paper grid are about this many pixels (at least), about 16 across the shorter side. */
const PAPER_CELL_MIN = 8;
const PAPER_CELLS_ACROSS = 16;
/** The paper level of a cell: the quantile with this share of its pixels on the ink side, so strokes that cover
 *  up to this share of a cell do not darken it. */
const PAPER_QUANTILE = 0.8;
/** Degree of the paper surface: 4 follows a lens's vignetting (≈ 1 − k·r⁴) and a soft shadow. */
const PAPER_DEGREE = 4;
/** Cells this far on the ink side of the surface (a share of the contrast) are ink, at the end of the fit. */
const PAPER_INLIER_DEPTH = INK_NOISE_THRESHOLD;
/** At a glance, a cell whose brightest 5% (darkest, for chalk) lie at the border's level is paper: a bold stroke
 *  covering up to 95% of a cell leaves it clean, while a shadow or a dark corner moves the whole cell. */
const GLANCE_QUANTILE = 0.95;
/** A surface within this share of the contrast of the border's median everywhere is evenly lit paper: it reads as
 *  that one level, exactly as a clean canvas always has. Unevenness this small cannot lift paper to ink. */
const FLAT_DEPTH = INK_NOISE_THRESHOLD / 2;

/** `stride`: cells of 16 pixels or more are sampled at every other pixel of every other row (their quantiles do
 *  not need every pixel, and the pad's 280×280 canvas stays cheap). */
interface PaperGrid {
  nx: number; ny: number; degree: number; terms: number; stride: number;
  /** Each cell's first and past-the-end column (and row): windows around points spread evenly from edge to edge. */
  cols: Int32Array; rows: Int32Array;
}

/**
 * Cells as windows around `count` points spread evenly from the first pixel to the last, clipped by the image:
 * the outermost cells sit on the edges and corners themselves, so the fit is pinned there rather than extrapolated
 * (a polynomial extrapolated half a cell to a dark corner overshoots).
 */
function cellWindows(size: number, count: number): Int32Array {
  const spacing = (size - 1) / (count - 1);
  const half = Math.max(0, Math.floor((spacing - 1) / 2)); // 2·half + 1 ≤ spacing: windows never overlap
  const windows = new Int32Array(2 * count);
  for (let i = 0; i < count; i++) {
    const centre = Math.round(i * spacing);
    windows[2 * i] = Math.max(0, centre - half);
    windows[2 * i + 1] = Math.min(size, centre + half + 1);
  }
  return windows;
}

/**
 * Each cell's paper level (`level`) and most inky value (`inkiest`), measured as offsets from `surface` (null:
 * from 0), so that inside a cell a lit gradient does not bias the quantile toward its bright side.
 */
function cellLevels(
  data: ArrayLike<number>, width: number, height: number, grid: PaperGrid, darkInk: boolean,
  surface: Float64Array | null, level: Float64Array, inkiest: Float64Array,
): void {
  const { nx, ny, stride } = grid;
  // One histogram per cell of the band: of values 0…255, or of offsets −255…255 from the surface.
  const bins = surface ? 511 : 256, zero = surface ? 255 : 0;
  const histograms = new Uint32Array(nx * bins);
  const samples = new Uint32Array(nx);
  const row = new Float64Array(width);
  for (let cy = 0; cy < ny; cy++) {
    const y0 = grid.rows[2 * cy]!, y1 = grid.rows[2 * cy + 1]!;
    histograms.fill(0);
    samples.fill(0);
    for (let y = y0; y < y1; y += stride) {
      if (surface) paperRow(surface, grid.degree, y, width, height, row);
      for (let cx = 0; cx < nx; cx++) {
        const hist = cx * bins + zero;
        const x1 = grid.cols[2 * cx + 1]!;
        for (let x = grid.cols[2 * cx]!; x < x1; x += stride) {
          const offset = Math.round((Number(data[y * width + x]) || 0) - row[x]!);
          histograms[hist + (offset > 255 ? 255 : offset < -zero ? -zero : offset)]!++;
          samples[cx]!++;
        }
      }
    }
    for (let cx = 0; cx < nx; cx++) {
      const x0 = grid.cols[2 * cx]!, x1 = grid.cols[2 * cx + 1]!;
      const centre = surface ? evaluatePaper(surface, grid.degree, centred(x0 + x1 - 1, width), centred(y0 + y1 - 1, height)) : 0;
      // Walk from the ink side: PAPER_QUANTILE of the cell lies at or beyond its paper level on the ink side.
      const inkSide = Math.ceil(PAPER_QUANTILE * samples[cx]!);
      const k = cy * nx + cx;
      let seen = 0;
      inkiest[k] = NaN;
      for (let step = 0; step < bins; step++) {
        const bin = darkInk ? step : bins - 1 - step;
        const n = histograms[cx * bins + bin]!;
        if (n === 0) continue;
        if (Number.isNaN(inkiest[k]!)) inkiest[k] = centre + bin - zero;
        seen += n;
        if (seen >= inkSide) { level[k] = centre + bin - zero; break; }
      }
    }
  }
}

/**
 * Fits the paper's level under uneven light (vignetting, a shadow): a polynomial in (u, v) ∈ [−1, 1]² of degree
 * ≤ 4, fitted by least squares to each grid cell's paper level, refitted without the cells that read as ink (a
 * bold stroke filling a cell) with a threshold that halves each round, from half the deepest ink's contrast down to
 * PAPER_INLIER_DEPTH, until the set settles; then once more with each cell's level re-measured against the surface.
 * Cells at the edges and corners are fitted like any other, so a dark corner is paper while a stroke along the
 * edge, filling only part of its cells, stays ink. Null when the paper is evenly lit.
 */
function fitPaperSurface(data: ArrayLike<number>, width: number, height: number, flat: number, darkInk: boolean): PaperSurface | null {
  const cell = Math.max(PAPER_CELL_MIN, Math.round(Math.min(width, height) / PAPER_CELLS_ACROSS));
  const nx = Math.round((width - 1) / cell) + 1, ny = Math.round((height - 1) / cell) + 1;
  let degree = Math.min(PAPER_DEGREE, nx - 1, ny - 1);
  while (degree >= 1 && nx * ny < 2 * termCount(degree)) degree--;
  if (degree < 1) return null;
  const grid: PaperGrid = {
    nx, ny, degree, terms: termCount(degree), stride: cell >= 16 ? 2 : 1, cols: cellWindows(width, nx), rows: cellWindows(height, ny),
  };
  const { terms } = grid;
  const cells = nx * ny;
  const level = new Float64Array(cells);
  const inkiest = new Float64Array(cells);
  const basis = new Float64Array(cells * terms);
  for (let cy = 0; cy < ny; cy++) {
    const v = centred(grid.rows[2 * cy]! + grid.rows[2 * cy + 1]! - 1, height);
    for (let cx = 0; cx < nx; cx++) {
      paperTerms(centred(grid.cols[2 * cx]! + grid.cols[2 * cx + 1]! - 1, width), v, degree, basis, (cy * nx + cx) * terms);
    }
  }
  if (evenAtAGlance(data, width, height, grid, flat, darkInk)) return null;
  cellLevels(data, width, height, grid, darkInk, null, level, inkiest);

  const inlier = new Uint8Array(cells).fill(1);
  const fitted = new Float64Array(cells);
  const fit = (): Float64Array | null => {
    const coeffs = leastSquares(basis, level, inlier, terms);
    if (coeffs) for (let k = 0; k < cells; k++) fitted[k] = evaluateTerms(coeffs, basis, k * terms);
    return coeffs;
  };
  let coeffs = fit();
  if (!coeffs) return null;
  let deepest = 0;
  for (let k = 0; k < cells; k++) deepest = Math.max(deepest, inkDepth(fitted[k]!, inkiest[k]!, darkInk));
  let threshold = deepest / 2;
  for (let round = 0; round < 12; round++) {
    threshold = Math.max(PAPER_INLIER_DEPTH, threshold);
    let changed = false;
    for (let k = 0; k < cells; k++) {
      const keep = inkDepth(fitted[k]!, level[k]!, darkInk) <= threshold ? 1 : 0;
      if (keep !== inlier[k]) { inlier[k] = keep; changed = true; }
    }
    if (!changed && threshold === PAPER_INLIER_DEPTH) break;
    if (changed) coeffs = fit();
    if (!coeffs) return null;
    threshold /= 2;
  }
  if (isFlat(coeffs, grid, fitted, flat, darkInk)) return null;
  cellLevels(data, width, height, grid, darkInk, coeffs, level, inkiest);
  coeffs = fit();
  if (!coeffs) return null;
  let brightest = 0;
  for (let k = 0; k < cells; k++) if (inlier[k]) brightest = Math.max(brightest, fitted[k]!);
  // What the polynomial misses (a shadow's sharp edge or apex), cell by cell: each kept cell's residual; an ink
  // cell borrows the mean of its kept neighbours' (none: 0).
  const residual = new Float64Array(cells);
  for (let k = 0; k < cells; k++) if (inlier[k]) residual[k] = level[k]! - fitted[k]!;
  for (let cy = 0; cy < ny; cy++) {
    for (let cx = 0; cx < nx; cx++) {
      if (inlier[cy * nx + cx]) continue;
      let sum = 0, n = 0;
      for (let y = Math.max(0, cy - 1); y <= Math.min(ny - 1, cy + 1); y++) {
        for (let x = Math.max(0, cx - 1); x <= Math.min(nx - 1, cx + 1); x++) if (inlier[y * nx + x]) { sum += residual[y * nx + x]!; n++; }
      }
      const borrowed = n > 0 ? sum / n : 0;
      // A cell its neighbours' residual explains is paper after all (a shadow's apex the polynomial missed).
      const own = level[cy * nx + cx]! - fitted[cy * nx + cx]!;
      residual[cy * nx + cx] = inkDepth(fitted[cy * nx + cx]! + borrowed, level[cy * nx + cx]!, darkInk) <= PAPER_INLIER_DEPTH ? own : borrowed;
    }
  }
  return { coeffs, degree, brightest, residual, columns: nx, across: lerpTable(grid.cols, width), down: lerpTable(grid.rows, height) };
}

/**
 * The fitted paper: the polynomial (coefficients in `paperTerms` order), its brightest level over the kept cells,
 * and the cells' residuals, added bilinearly between cell centres (`across`, `down`: each pixel's cell and weight).
 */
interface PaperSurface {
  coeffs: Float64Array; degree: number; brightest: number; residual: Float64Array; columns: number;
  across: { cell: Int32Array; weight: Float64Array }; down: { cell: Int32Array; weight: Float64Array };
}

/** For each pixel along an axis: the cell whose centre is at or before it (clamped) and the weight of the next. */
function lerpTable(windows: Int32Array, size: number): { cell: Int32Array; weight: Float64Array } {
  const count = windows.length / 2;
  const centre = (i: number): number => (windows[2 * i]! + windows[2 * i + 1]! - 1) / 2;
  const cell = new Int32Array(size), weight = new Float64Array(size);
  let i = 0;
  for (let p = 0; p < size; p++) {
    while (i < count - 2 && centre(i + 1) <= p) i++;
    cell[p] = i;
    weight[p] = Math.min(1, Math.max(0, (p - centre(i)) / (centre(i + 1) - centre(i))));
  }
  return { cell, weight };
}

/** The paper's level along row `y`: the polynomial plus the cells' residuals. */
function surfaceRow(surface: PaperSurface, y: number, width: number, height: number, out: Float64Array): void {
  paperRow(surface.coeffs, surface.degree, y, width, height, out);
  const { residual, across, down } = surface;
  const nx = surface.columns;
  const j = down.cell[y]!, wy = down.weight[y]!;
  for (let x = 0; x < width; x++) {
    const i = across.cell[x]!, wx = across.weight[x]!;
    const top = residual[j * nx + i]! + wx * (residual[j * nx + i + 1]! - residual[j * nx + i]!);
    const bottom = residual[(j + 1) * nx + i]! + wx * (residual[(j + 1) * nx + i + 1]! - residual[(j + 1) * nx + i]!);
    out[x] = out[x]! + top + wy * (bottom - top);
  }
}


/**
 * Evenly lit paper at a glance, without a fit (the common case, a clean canvas): in every cell the paper-side 5%
 * lies within FLAT_DEPTH of the border's median, or the cell is plainly ink (its paper level deeper than half the
 * deepest ink). Counts stand in for the quantiles: the paper-side 5% lies in the band when fewer than 95% of the
 * samples lie beyond it on the ink side and fewer than 5% beyond it on the paper side.
 */
function evenAtAGlance(data: ArrayLike<number>, width: number, height: number, grid: PaperGrid, flat: number, darkInk: boolean): boolean {
  const { nx, ny, stride } = grid;
  const sign = darkInk ? 1 : -1;
  const contrast = darkInk ? Math.max(1, flat) : Math.max(1, 255 - flat);
  // Depth of ink = sign·(flat − v) / contrast; the band is |depth| ≤ FLAT_DEPTH.
  let deepest = 0;
  for (let y = 0; y < height; y += stride) {
    for (let x = 0; x < width; x += stride) deepest = Math.max(deepest, sign * (flat - (Number(data[y * width + x]) || 0)));
  }
  const band = FLAT_DEPTH * contrast, plain = deepest / 2;
  const beyond = new Uint32Array(nx), within = new Uint32Array(nx), deep = new Uint32Array(nx), samples = new Uint32Array(nx);
  for (let cy = 0; cy < ny; cy++) {
    const y0 = grid.rows[2 * cy]!, y1 = grid.rows[2 * cy + 1]!;
    beyond.fill(0); within.fill(0); deep.fill(0); samples.fill(0);
    for (let y = y0; y < y1; y += stride) {
      for (let cx = 0; cx < nx; cx++) {
        const x1 = grid.cols[2 * cx + 1]!;
        for (let x = grid.cols[2 * cx]!; x < x1; x += stride) {
          const depth = sign * (flat - (Number(data[y * width + x]) || 0));
          if (depth > band) beyond[cx]!++;
          else if (depth >= -band) within[cx]!++;
          if (depth > plain) deep[cx]!++;
          samples[cx]!++;
        }
      }
    }
    for (let cx = 0; cx < nx; cx++) {
      const inBand = beyond[cx]! < Math.ceil(GLANCE_QUANTILE * samples[cx]!) && samples[cx]! - beyond[cx]! - within[cx]! < Math.ceil((1 - GLANCE_QUANTILE) * samples[cx]!);
      if (!inBand && deep[cx]! < Math.ceil(PAPER_QUANTILE * samples[cx]!)) return false;
    }
  }
  return true;
}

/** Whether the surface stays within FLAT_DEPTH of the flat level at every cell and at the image's corners. */
function isFlat(coeffs: Float64Array, grid: PaperGrid, fitted: Float64Array, flat: number, darkInk: boolean): boolean {
  const within = (f: number): boolean => Math.abs(inkDepth(flat, f, darkInk)) <= FLAT_DEPTH;
  for (let k = 0; k < fitted.length; k++) if (!within(fitted[k]!)) return false;
  for (const [u, v] of [[-1, -1], [1, -1], [-1, 1], [1, 1]] as const) if (!within(evaluatePaper(coeffs, grid.degree, u, v))) return false;
  return true;
}

function evaluateTerms(coeffs: Float64Array, basis: Float64Array, at: number): number {
  let f = 0;
  for (let t = 0; t < coeffs.length; t++) f += coeffs[t]! * basis[at + t]!;
  return f;
}
function evaluatePaper(coeffs: Float64Array, degree: number, u: number, v: number): number {
  const terms = new Float64Array(coeffs.length);
  paperTerms(u, v, degree, terms, 0);
  return evaluateTerms(coeffs, terms, 0);
}

const termCount = (degree: number): number => ((degree + 1) * (degree + 2)) / 2;
/** A pixel coordinate (given doubled, 2·x, so cell centres stay whole) mapped to [−1, 1] across the image. */
const centred = (twice: number, size: number): number => (size > 1 ? (twice - (size - 1)) / (size - 1) : 0);
/** The terms Tᵢ(u)·Tⱼ(v) (i + j ≤ degree), ordered by i then j, written at `out[at…]`. */
function paperTerms(u: number, v: number, degree: number, out: Float64Array, at: number): void {
  for (let i = 0; i <= degree; i++) {
    const ti = chebyshev(i, u);
    for (let j = 0; j <= degree - i; j++) out[at++] = ti * chebyshev(j, v);
  }
}
/** Chebyshev polynomial Tₙ(x): bounded by 1 on [−1, 1], so the fit's equations stay well conditioned. */
function chebyshev(n: number, x: number): number {
  let previous = 1, current = x;
  if (n === 0) return 1;
  for (let k = 1; k < n; k++) { const next = 2 * x * current - previous; previous = current; current = next; }
  return current;
}
/** How far `value` lies on the ink side of the paper level `paper`, as a share of the paper-to-full-ink contrast. */
function inkDepth(paper: number, value: number, darkInk: boolean): number {
  return darkInk ? (paper - value) / Math.max(1, paper) : (value - paper) / Math.max(1, 255 - paper);
}

/** Least squares over the rows marked in `use` (normal equations, Gaussian elimination with partial pivoting). */
function leastSquares(basis: Float64Array, values: Float64Array, use: Uint8Array, terms: number): Float64Array | null {
  const a = new Float64Array(terms * (terms + 1)); // [AᵀA | Aᵀb], row-major
  let rows = 0;
  for (let k = 0; k < values.length; k++) {
    if (!use[k]) continue;
    rows++;
    const at = k * terms;
    for (let r = 0; r < terms; r++) {
      const br = basis[at + r]!;
      for (let c = r; c < terms; c++) a[r * (terms + 1) + c]! += br * basis[at + c]!;
      a[r * (terms + 1) + terms]! += br * values[k]!;
    }
  }
  if (rows < terms) return null;
  const w = terms + 1;
  for (let r = 1; r < terms; r++) for (let c = 0; c < r; c++) a[r * w + c] = a[c * w + r]!; // AᵀA is symmetric
  for (let col = 0; col < terms; col++) {
    let pivot = col;
    for (let r = col + 1; r < terms; r++) if (Math.abs(a[r * w + col]!) > Math.abs(a[pivot * w + col]!)) pivot = r;
    if (!(Math.abs(a[pivot * w + col]!) > 1e-9 * rows)) return null; // the kept cells cannot pin the surface down
    if (pivot !== col) for (let c = 0; c < w; c++) { const t = a[col * w + c]!; a[col * w + c] = a[pivot * w + c]!; a[pivot * w + c] = t; }
    for (let r = col + 1; r < terms; r++) {
      const factor = a[r * w + col]! / a[col * w + col]!;
      for (let c = col; c < w; c++) a[r * w + c]! -= factor * a[col * w + c]!;
    }
  }
  const x = new Float64Array(terms);
  for (let r = terms - 1; r >= 0; r--) {
    let sum = a[r * w + terms]!;
    for (let c = r + 1; c < terms; c++) sum -= a[r * w + c]! * x[c]!;
    x[r] = sum / a[r * w + r]!;
  }
  return x;
}

/** The paper surface along row `y` into `out` (Horner in u, with each power's coefficient a polynomial in v). */
function paperRow(coeffs: Float64Array, degree: number, y: number, width: number, height: number, out: Float64Array): void {
  const v = centred(2 * y, height);
  const inU = new Float64Array(degree + 1);
  let t = 0;
  for (let i = 0; i <= degree; i++) {
    let sum = 0;
    for (let j = 0; j <= degree - i; j++) sum += coeffs[t++]! * chebyshev(j, v);
    inU[i] = sum;
  }
  for (let x = 0; x < width; x++) {
    const u = centred(2 * x, width);
    // Σ inU[i]·Tᵢ(u), the Tᵢ by their recurrence.
    let previous = 1, current = u, f = inU[0]! + (degree > 0 ? inU[1]! * u : 0);
    for (let i = 2; i <= degree; i++) {
      const next = 2 * u * current - previous;
      previous = current;
      current = next;
      f += inU[i]! * next;
    }
    out[x] = f;
  }
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
  // The background is one level, the border's median, unless the paper is lit unevenly: then a smooth surface.
  const flat = borderMedian(data, width, height);
  const darkInk = flat >= 128;
  const surface = fitPaperSurface(data, width, height, flat, darkInk);
  // Full ink is black for dark ink; for chalk on a board it is white dimmed by the light where the board is dim
  // (the board's level over its brightest level), else a dim corner's chalk would read as faint ink.
  const chalkScale = surface && !darkInk && surface.brightest >= 32 ? (255 - surface.brightest) / surface.brightest : 0;
  const paper = new Float64Array(width).fill(flat);
  const ink = new Float32Array(count);
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++) {
    if (surface) surfaceRow(surface, y, width, height, paper);
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = Number(data[i]) || 0;
      const background = paper[x]!;
      const contrast = darkInk ? background : chalkScale > 0 ? chalkScale * background : 255 - background;
      const t = (darkInk ? background - v : v - background) / Math.max(1, contrast);
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
