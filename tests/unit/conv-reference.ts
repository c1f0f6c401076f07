// Plain reference loops for the four kinds of convolution, written from the definitions and sharing no
// code with common/convolution: the oracles of convolution.test.ts and cli-conv.test.ts.
import type { ConvSettings, FeatureMaps, Padding } from '../../common/convolution/index.js';

/** Output length and zeros before, for a forward convolution, by TF's rules. */
function forwardAxis(n: number, k: number, s: number, d: number, p: Padding): { out: number; before: number } {
  const span = d * (k - 1) + 1;
  if (p === 'same') {
    const out = Math.ceil(n / s);
    return { out, before: Math.floor(Math.max(0, (out - 1) * s + span - n) / 2) };
  }
  const pad = p === 'valid' ? 0 : p;
  return { out: Math.floor((n + 2 * pad - span) / s) + 1, before: pad };
}

export function refForward(x: FeatureMaps, s: ConvSettings, kernel: Float32Array, bias: Float32Array | null): FeatureMaps {
  const [h, w, c] = x.shape;
  const { kernelSize: k, stride: st, dilation: d, filters: f } = s;
  const r = forwardAxis(h, k, st, d, s.padding);
  const q = forwardAxis(w, k, st, d, s.padding);
  const out = new Float32Array(r.out * q.out * f);
  for (let i = 0; i < r.out; i++) for (let j = 0; j < q.out; j++) for (let o = 0; o < f; o++) {
    let acc = bias ? bias[o]! : 0;
    for (let m = 0; m < k; m++) for (let n = 0; n < k; n++) for (let ch = 0; ch < c; ch++) {
      const y = i * st + d * m - r.before;
      const z = j * st + d * n - q.before;
      if (y < 0 || z < 0 || y >= h || z >= w) continue;
      acc += x.data[(y * w + z) * c + ch]! * kernel[((m * k + n) * c + ch) * f + o]!;
    }
    out[(i * q.out + j) * f + o] = acc;
  }
  return { shape: [r.out, q.out, f], data: out };
}

export function refSeparable(x: FeatureMaps, s: ConvSettings, dw: Float32Array, pw: Float32Array, dwBias: Float32Array | null, bias: Float32Array | null): { mid: FeatureMaps; out: FeatureMaps } {
  const [h, w, c] = x.shape;
  const { kernelSize: k, stride: st, dilation: d, filters: f, depthMultiplier: mult } = s;
  const r = forwardAxis(h, k, st, d, s.padding);
  const q = forwardAxis(w, k, st, d, s.padding);
  const cm = c * mult;
  const mid = new Float32Array(r.out * q.out * cm);
  for (let i = 0; i < r.out; i++) for (let j = 0; j < q.out; j++) for (let ch = 0; ch < c; ch++) for (let e = 0; e < mult; e++) {
    let acc = dwBias ? dwBias[ch * mult + e]! : 0;
    for (let m = 0; m < k; m++) for (let n = 0; n < k; n++) {
      const y = i * st + d * m - r.before;
      const z = j * st + d * n - q.before;
      if (y >= 0 && z >= 0 && y < h && z < w) acc += x.data[(y * w + z) * c + ch]! * dw[((m * k + n) * c + ch) * mult + e]!;
    }
    mid[(i * q.out + j) * cm + ch * mult + e] = acc;
  }
  const out = new Float32Array(r.out * q.out * f);
  for (let p = 0; p < r.out * q.out; p++) for (let o = 0; o < f; o++) {
    let acc = bias ? bias[o]! : 0;
    for (let ch = 0; ch < cm; ch++) acc += mid[p * cm + ch]! * pw[ch * f + o]!;
    out[p * f + o] = acc;
  }
  return { mid: { shape: [r.out, q.out, cm], data: mid }, out: { shape: [r.out, q.out, f], data: out } };
}

/** Transposed by scattering: X[a, b, c]·W[m, n, o, c] lands on Y[a·S − P + D·m, b·S − P + D·n, o]. */
export function refTransposed(x: FeatureMaps, s: ConvSettings, kernel: Float32Array, bias: Float32Array | null): FeatureMaps {
  const [h, w, c] = x.shape;
  const { kernelSize: k, stride: st, dilation: d, filters: f, outputPadding: op } = s;
  const span = d * (k - 1) + 1;
  const axis = (n: number) => {
    if (s.padding === 'same') return { out: n * st, before: Math.floor(Math.max(0, span - st) / 2) };
    const p = s.padding === 'valid' ? 0 : s.padding;
    return { out: (n - 1) * st - 2 * p + span + op, before: p };
  };
  const r = axis(h);
  const q = axis(w);
  const out = new Float32Array(r.out * q.out * f);
  for (let i = 0; i < r.out * q.out; i++) for (let o = 0; o < f; o++) out[i * f + o] = bias ? bias[o]! : 0;
  for (let a = 0; a < h; a++) for (let b = 0; b < w; b++) for (let ch = 0; ch < c; ch++) for (let m = 0; m < k; m++) for (let n = 0; n < k; n++) {
    const y = a * st - r.before + d * m;
    const z = b * st - q.before + d * n;
    if (y < 0 || z < 0 || y >= r.out || z >= q.out) continue;
    for (let o = 0; o < f; o++) out[(y * q.out + z) * f + o] += x.data[(a * w + b) * c + ch]! * kernel[((m * k + n) * f + o) * c + ch]!;
  }
  return { shape: [r.out, q.out, f], data: out };
}

