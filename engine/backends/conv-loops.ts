// Plain loops over Float32Arrays for the convolution and pooling gradients.
// The cpu kernels run them on the cpu backend's own arrays; the wasm kernels use
// them on views of the wasm heap where the SIMD loops of wasm-simd.ts do not apply
// (or cannot be built). Everything is NHWC, filters are
// [filterHeight, filterWidth, inChannels, outChannels].
// Both kernel files also read their geometry from a kernel's attributes here.
import { backend_util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

/** The numbers of one 2-D convolution or pooling window, taken from tfjs's Conv2DInfo. */
export interface ConvGeometry {
  batch: number;
  inHeight: number; inWidth: number; inChannels: number;
  outHeight: number; outWidth: number; outChannels: number;
  filterHeight: number; filterWidth: number;
  strideHeight: number; strideWidth: number;
  dilationHeight: number; dilationWidth: number;
  padTop: number; padLeft: number;
}

export function geometryOf(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight, inWidth: info.inWidth, inChannels: info.inChannels,
    outHeight: info.outHeight, outWidth: info.outWidth, outChannels: info.outChannels,
    filterHeight: info.filterHeight, filterWidth: info.filterWidth,
    strideHeight: info.strideHeight, strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight, dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/** A kernel attribute, as the type that kernel's attributes give it. */
export function attr<T>(attrs: NamedAttrMap | undefined, name: string): T {
  return (attrs as Record<string, unknown> | undefined)?.[name] as T;
}

/**
 * The Conv2DInfo of a channels-last convolution kernel (Conv2D, FusedConv2D or a gradient)
 * from its strides, pad and dimRoundingMode attributes; the gradients have dilation 1.
 */
export function convInfoOf(inShape: Shape4, filterShape: Shape4, attrs: NamedAttrMap | undefined,
  dilations: number | [number, number] = 1): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    inShape, filterShape, attr<number | [number, number]>(attrs, 'strides'), dilations, attr<'same'>(attrs, 'pad'),
    attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode'), false, 'channelsLast');
}

/**
 * The window geometry of a MaxPoolGrad or AvgPoolGrad kernel over input shape `inShape`.
 * Only MaxPoolGrad has a dimRoundingMode attribute (tfjs's AvgPoolGrad ignores one).
 */
export function poolGradGeometry(kernelName: 'MaxPoolGrad' | 'AvgPoolGrad', inShape: Shape4,
  attrs: NamedAttrMap | undefined): ConvGeometry {
  const rounding = kernelName === 'MaxPoolGrad'
    ? attr<'floor' | 'round' | 'ceil' | undefined>(attrs, 'dimRoundingMode') : undefined;
  return geometryOf(backend_util.computePool2DInfo(
    inShape, attr<number | [number, number]>(attrs, 'filterSize'), attr<number | [number, number]>(attrs, 'strides'),
    1, attr<'same'>(attrs, 'pad'), rounding));
}

/**
 * True when every output position sees the whole input with no padding (LeNet's C5:
 * a 5×5 valid convolution of a 5×5 map). Then the im2col matrix is the input itself.
 */
export function windowCoversInput(g: ConvGeometry): boolean {
  return g.outHeight === 1 && g.outWidth === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.filterHeight === g.inHeight && g.filterWidth === g.inWidth &&
    g.dilationHeight === 1 && g.dilationWidth === 1;
}

/**
 * The transposed im2col matrix: colsT[k][p] = x at the input pixel that filter tap
 * k = (fh, fw, ci) meets at output position p = (b, oh, ow); 0 where it falls in padding.
 * colsT has filterHeight·filterWidth·inChannels rows of batch·outHeight·outWidth.
 */
export function im2colTransposed(x: Float32Array, g: ConvGeometry, colsT: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const P = batch * OH * OW;
  const sh = g.strideHeight, sw = g.strideWidth;
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      const dh = fh * g.dilationHeight - g.padTop;
      const dw = fw * g.dilationWidth - g.padLeft;
      // Output columns whose input column is inside the image: [owLo, owHi).
      const owLo = Math.min(OW, Math.max(0, Math.ceil(-dw / sw)));
      const owHi = Math.max(owLo, Math.min(OW, Math.ceil((W - dw) / sw)));
      for (let c = 0; c < C; c++) {
        let o = ((fh * g.filterWidth + fw) * C + c) * P;
        for (let b = 0; b < batch; b++) {
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh + dh;
            if (ih < 0 || ih >= H) {
              colsT.fill(0, o, o + OW);
              o += OW;
              continue;
            }
            if (owLo > 0) colsT.fill(0, o, o + owLo);
            let src = ((b * H + ih) * W + owLo * sw + dw) * C + c;
            const step = sw * C;
            const end = o + owHi;
            for (let i = o + owLo; i < end; i++) {
              colsT[i] = x[src]!;
              src += step;
            }
            if (owHi < OW) colsT.fill(0, o + owHi, o + OW);
            o += OW;
          }
        }
      }
    }
  }
}

/**
 * Scatter-add of the im2col gradient back onto the input: dx (zeroed here) receives,
 * for every output position p and filter tap k, dcols[p][k]. dcols is [P, K] row-major.
 */
export function col2imAdd(dcols: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const FH = g.filterHeight, FW = g.filterWidth;
  const K = FH * FW * C;
  // With unit column stride and dilation, the taps of one filter row cover FW·C
  // consecutive floats of dx, as they do of dcols: one run instead of FW.
  const unitColumns = g.strideWidth === 1 && g.dilationWidth === 1;
  dx.fill(0);
  let p = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, p++) {
        const rowBase = p * K;
        const iw0 = ow * g.strideWidth - g.padLeft;
        const wholeRow = unitColumns && iw0 >= 0 && iw0 + FW <= W;
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * g.strideHeight + fh * g.dilationHeight - g.padTop;
          if (ih < 0 || ih >= H) continue;
          if (wholeRow) {
            let s = rowBase + fh * FW * C;
            let d = ((b * H + ih) * W + iw0) * C;
            const end = d + FW * C;
            for (; d < end; d++, s++) dx[d] = dx[d]! + dcols[s]!;
            continue;
          }
          for (let fw = 0; fw < FW; fw++) {
            const iw = iw0 + fw * g.dilationWidth;
            if (iw < 0 || iw >= W) continue;
            let s = rowBase + (fh * FW + fw) * C;
            let d = ((b * H + ih) * W + iw) * C;
            const end = d + C;
            for (; d < end; d++, s++) dx[d] = dx[d]! + dcols[s]!;
          }
        }
      }
    }
  }
}

/** out[j][i] = a[i][j] for a row-major rows×cols matrix. */
export function transpose2d(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  // Blocked so that both sides stay in cache for the larger matrices.
  const BS = 32;
  for (let i0 = 0; i0 < rows; i0 += BS) {
    const i1 = Math.min(rows, i0 + BS);
    for (let j0 = 0; j0 < cols; j0 += BS) {
      const j1 = Math.min(cols, j0 + BS);
      for (let i = i0; i < i1; i++) {
        let s = i * cols + j0;
        let d = j0 * rows + i;
        for (let j = j0; j < j1; j++, s++, d += rows) out[d] = a[s]!;
      }
    }
  }
}

/**
 * Gradient of max pooling, with tfjs's rule: each window sends its dy to the first
 * position (in row-major window order) holding a value strictly greater than all
 * before it; NaN never wins; overlapping windows add up. dx is zeroed here.
 */
export function maxPoolGrad(x: Float32Array, dy: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  dx.fill(0);
  const effH = (g.filterHeight - 1) * g.dilationHeight + 1;
  const effW = (g.filterWidth - 1) * g.dilationWidth + 1;
  if (g.strideHeight === 2 && g.strideWidth === 2 && g.filterHeight === 2 && g.filterWidth === 2 &&
    g.dilationHeight === 1 && g.dilationWidth === 1 && g.padTop === 0 && g.padLeft === 0 &&
    OH * 2 <= H && OW * 2 <= W) {
    maxPoolGrad2x2(x, dy, g, dx);
    return;
  }
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const hCorner = oh * g.strideHeight - g.padTop;
      let hMin = hCorner;
      while (hMin < 0) hMin += g.dilationHeight;
      const hMax = Math.min(H, hCorner + effH);
      for (let ow = 0; ow < OW; ow++) {
        const wCorner = ow * g.strideWidth - g.padLeft;
        let wMin = wCorner;
        while (wMin < 0) wMin += g.dilationWidth;
        const wMax = Math.min(W, wCorner + effW);
        for (let c = 0; c < C; c++, o++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let ih = hMin; ih < hMax; ih += g.dilationHeight) {
            for (let iw = wMin; iw < wMax; iw += g.dilationWidth) {
              const i = ((b * H + ih) * W + iw) * C + c;
              const v = x[i]!;
              if (v > best) { best = v; at = i; }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + dy[o]!;
        }
      }
    }
  }
}

// LeNet's pools: 2×2 windows, stride 2, no padding, so windows never overlap.
// The comparisons are written as selects: random data makes branches unpredictable.
function maxPoolGrad2x2(x: Float32Array, dy: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const rowStride = W * C;
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      let i00 = ((b * H + oh * 2) * W) * C;
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++, o++) {
          const a = i00 + c, r = a + rowStride;
          const va = x[a]!, vb = x[a + C]!, vc = x[r]!, vd = x[r + C]!;
          // First strict maximum in window order (a, b, c, d); NaN never wins.
          const topB = vb > va || (va !== va && vb === vb);
          const top = topB ? vb : va;
          const topAt = topB ? a + C : a;
          const botD = vd > vc || (vc !== vc && vd === vd);
          const bot = botD ? vd : vc;
          const botAt = botD ? r + C : r;
          const takeBot = bot > top || (top !== top && bot === bot);
          const best = takeBot ? bot : top;
          if (best === best && best !== Number.NEGATIVE_INFINITY) dx[takeBot ? botAt : topAt] = dy[o]!;
        }
        i00 += 2 * C;
      }
    }
  }
}

/**
 * Gradient of average pooling, matching tfjs's cpu backend: every window position
 * inside the input receives dy / (filterHeight·filterWidth). dx is zeroed here.
 */
export function avgPoolGrad(dy: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const scale = 1 / (g.filterHeight * g.filterWidth);
  dx.fill(0);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, o += C) {
        for (let fh = 0; fh < g.filterHeight; fh++) {
          const ih = oh * g.strideHeight + fh * g.dilationHeight - g.padTop;
          if (ih < 0 || ih >= H) continue;
          for (let fw = 0; fw < g.filterWidth; fw++) {
            const iw = ow * g.strideWidth + fw * g.dilationWidth - g.padLeft;
            if (iw < 0 || iw >= W) continue;
            let d = ((b * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++, d++) dx[d] = dx[d]! + dy[o + c]! * scale;
          }
        }
      }
    }
  }
}

// The three direct convolutions below walk the same windows on purpose: merged into one
// loop that switches per filter tap, C1's (six multiply-adds a tap) ran 8-12% slower.
/** dW (zeroed here) = Σ over positions of x-patch ⊗ dy, accumulated tap by tap; for the cpu backend. */
export function convFilterGradDirect(x: Float32Array, dy: Float32Array, g: ConvGeometry, dW: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const FH = g.filterHeight, FW = g.filterWidth;
  dW.fill(0);
  let p = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, p++) {
        const dyRow = p * CO;
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * g.strideHeight + fh * g.dilationHeight - g.padTop;
          if (ih < 0 || ih >= H) continue;
          for (let fw = 0; fw < FW; fw++) {
            const iw = ow * g.strideWidth + fw * g.dilationWidth - g.padLeft;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((b * H + ih) * W + iw) * C;
            let wRow = (fh * FW + fw) * C * CO;
            for (let c = 0; c < C; c++, wRow += CO) {
              const xv = x[xBase + c]!;
              if (xv === 0) continue; // ReLU and padding leave many zeros
              for (let o = 0; o < CO; o++) dW[wRow + o] = dW[wRow + o]! + xv * dy[dyRow + o]!;
            }
          }
        }
      }
    }
  }
}

/** dx (zeroed here) = the filter taps weighted by dy, scattered back; for the cpu backend. */
export function convInputGradDirect(dy: Float32Array, w: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const FH = g.filterHeight, FW = g.filterWidth;
  dx.fill(0);
  let p = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, p++) {
        const dyRow = p * CO;
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * g.strideHeight + fh * g.dilationHeight - g.padTop;
          if (ih < 0 || ih >= H) continue;
          for (let fw = 0; fw < FW; fw++) {
            const iw = ow * g.strideWidth + fw * g.dilationWidth - g.padLeft;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((b * H + ih) * W + iw) * C;
            let wRow = (fh * FW + fw) * C * CO;
            for (let c = 0; c < C; c++, wRow += CO) {
              let s = 0;
              for (let o = 0; o < CO; o++) s += w[wRow + o]! * dy[dyRow + o]!;
              dx[xBase + c] = dx[xBase + c]! + s;
            }
          }
        }
      }
    }
  }
}

/** out = conv2d(x, w) with the same loops; for the cpu backend's forward pass. */
export function convForwardDirect(x: Float32Array, w: Float32Array, g: ConvGeometry, out: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const FH = g.filterHeight, FW = g.filterWidth;
  out.fill(0);
  let p = 0;
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++, p++) {
        const outRow = p * CO;
        for (let fh = 0; fh < FH; fh++) {
          const ih = oh * g.strideHeight + fh * g.dilationHeight - g.padTop;
          if (ih < 0 || ih >= H) continue;
          for (let fw = 0; fw < FW; fw++) {
            const iw = ow * g.strideWidth + fw * g.dilationWidth - g.padLeft;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((b * H + ih) * W + iw) * C;
            let wRow = (fh * FW + fw) * C * CO;
            for (let c = 0; c < C; c++, wRow += CO) {
              const xv = x[xBase + c]!;
              if (xv === 0) continue;
              for (let o = 0; o < CO; o++) out[outRow + o] = out[outRow + o]! + xv * w[wRow + o]!;
            }
          }
        }
      }
    }
  }
}

/**
 * dst = src transposed by `perm` (rank 4): dst axis i is src axis perm[i].
 * When the last axis stays last, whole rows move at once.
 */
export function permute4(src: Float32Array, shape: readonly [number, number, number, number],
  perm: readonly [number, number, number, number], dst: Float32Array): void {
  const stride = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const [p0, p1, p2, p3] = perm;
  const n0 = shape[p0]!, n1 = shape[p1]!, n2 = shape[p2]!, n3 = shape[p3]!;
  const s0 = stride[p0]!, s1 = stride[p1]!, s2 = stride[p2]!, s3 = stride[p3]!;
  let d = 0;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        let s = i0 * s0 + i1 * s1 + i2 * s2;
        if (s3 === 1) {
          const end = d + n3;
          for (; d < end; d++, s++) dst[d] = src[s]!;
        } else {
          for (let i3 = 0; i3 < n3; i3++, d++, s += s3) dst[d] = src[s]!;
        }
      }
    }
  }
}

/**
 * col2im from the transposed layout, for one input channel and unit strides:
 * dcolsT[k][p] with k = (fh, fw) and p = (b, oh, ow). Each (k, b, oh) is one run of
 * output columns landing on consecutive input pixels. dx is zeroed here.
 */
export function col2imTransposedSingleChannel(dcolsT: Float32Array, g: ConvGeometry, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  const P = batch * OH * OW;
  dx.fill(0);
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      const row = (fh * g.filterWidth + fw) * P;
      const dh = fh * g.dilationHeight - g.padTop;
      const dw = fw * g.dilationWidth - g.padLeft;
      const owLo = Math.min(OW, Math.max(0, -dw));
      const owHi = Math.max(owLo, Math.min(OW, W - dw));
      for (let b = 0; b < batch; b++) {
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh + dh;
          if (ih < 0 || ih >= H) continue;
          let s = row + (b * OH + oh) * OW + owLo;
          let d = (b * H + ih) * W + owLo + dw;
          const end = d + (owHi - owLo);
          for (; d < end; d++, s++) dx[d] = dx[d]! + dcolsT[s]!;
        }
      }
    }
  }
}
