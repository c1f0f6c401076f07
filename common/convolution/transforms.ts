// Digit transforms for the "what CNNs solve" panels: shift, rotate and scale a 28×28 digit
// (0 = background, 1 = ink) with bilinear sampling; whatever leaves the frame is lost, what enters is background.
import { MNIST_SIDE } from '../preprocess.js';

export const SHIFT_RANGE = { min: -6, max: 6 } as const;
export const ROTATION_RANGE = { min: -90, max: 90 } as const;
export const SCALE_RANGE = { min: 0.5, max: 1.5 } as const;

export interface DigitTransform {
  /** Pixels right (negative: left). */
  dx?: number;
  /** Pixels down (negative: up). */
  dy?: number;
  /** Degrees, counter-clockwise on screen. */
  degrees?: number;
  /** Size factor about the centre (> 1 enlarges). */
  scale?: number;
}

/** Bilinear sample of a side×side image at (x, y); outside the frame is background (0). */
function sample(pixels: ArrayLike<number>, side: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const px = (c: number, r: number): number => (c >= 0 && r >= 0 && c < side && r < side ? pixels[r * side + c]! : 0);
  return (1 - fy) * ((1 - fx) * px(x0, y0) + fx * px(x0 + 1, y0)) + fy * ((1 - fx) * px(x0, y0 + 1) + fx * px(x0 + 1, y0 + 1));
}

/**
 * A digit moved, turned and resized about the frame's centre: each output pixel reads the source at the
 * inverse transform of its own position. Scale first, then rotate, then shift.
 */
export function transformDigit(pixels: ArrayLike<number>, t: DigitTransform, side = MNIST_SIDE): Float32Array {
  if (pixels.length !== side * side) throw new RangeError(`transformDigit: expected ${side * side} pixels, got ${pixels.length}`);
  const { dx = 0, dy = 0, degrees = 0, scale = 1 } = t;
  if (![dx, dy, degrees, scale].every(Number.isFinite) || scale <= 0) throw new RangeError('transformDigit: shift, angle and scale must be finite, scale > 0');
  const centre = (side - 1) / 2;
  const angle = (degrees * Math.PI) / 180;
  // Exact quarter turns, so rotating by 90° four times gives the digit back.
  const cos = Number.isInteger(degrees / 90) ? Math.round(Math.cos(angle)) : Math.cos(angle);
  const sin = Number.isInteger(degrees / 90) ? Math.round(Math.sin(angle)) : Math.sin(angle);
  const out = new Float32Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const u = x - dx - centre;
      const v = y - dy - centre;
      // Counter-clockwise on screen (y points down): the inverse turns clockwise.
      const sx = (cos * u - sin * v) / scale + centre;
      const sy = (sin * u + cos * v) / scale + centre;
      out[y * side + x] = sample(pixels, side, sx, sy);
    }
  }
  return out;
}

export const shiftDigit = (pixels: ArrayLike<number>, dx: number, dy = 0): Float32Array => transformDigit(pixels, { dx, dy });
export const rotateDigit = (pixels: ArrayLike<number>, degrees: number): Float32Array => transformDigit(pixels, { degrees });
export const scaleDigit = (pixels: ArrayLike<number>, scale: number): Float32Array => transformDigit(pixels, { scale });
