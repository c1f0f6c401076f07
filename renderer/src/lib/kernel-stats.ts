// Kernel statistics for the Kernels view: link strengths of big layers and one unit's kernels.
// HWIO layout ([kH, kW, in, out]), as tfjs stores conv kernels. Pure.
import type { TensorLike } from './draw-tensor.js';

/** ‖W‖ of every (input, output) kernel of a layer, laid out rows = inputs, cols = outputs. */
export function linkNorms(kernel: TensorLike): Float32Array {
  const [kh = 0, kw = 0, ins = 0, outs = 0] = kernel.shape;
  const norms = new Float32Array(ins * outs);
  for (let r = 0; r < kh; r++) for (let c = 0; c < kw; c++) {
    const base = (r * kw + c) * ins * outs;
    for (let i = 0; i < ins * outs; i++) norms[i] = norms[i]! + kernel.data[base + i]! ** 2;
  }
  for (let i = 0; i < norms.length; i++) norms[i] = Math.sqrt(norms[i]!);
  return norms;
}

/** Norms are all well above zero: colour them from the smallest to the largest so differences show. */
export function normRange(norms: Float32Array): { min: number; max: number; shifted: Float32Array } {
  let min = Infinity, max = 0;
  for (const v of norms) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) min = 0;
  return { min, max: Math.max(max, min + 1e-9), shifted: norms.map((v) => v - min) };
}

/** The kernels of one output unit as a [kh, kw, in, 1] tensor. */
export function unitKernel(kernel: TensorLike, output: number): { shape: number[]; data: Float32Array } {
  const [kh = 0, kw = 0, ins = 0, outs = 0] = kernel.shape;
  const data = new Float32Array(kh * kw * ins);
  for (let p = 0; p < kh * kw * ins; p++) data[p] = kernel.data[p * outs + output]!;
  return { shape: [kh, kw, ins, 1], data };
}

/** What the pointer is over in a map of link strengths. */
export interface NormHover { layer: string; inputName: string; input: number; output: number; norm: number }
