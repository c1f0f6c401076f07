// A run's record, kept with its saved model: per-batch loss and accuracy, gradient norms, and the Filters
// timeline (snapshots of the C1 and C3 kernels). Isomorphic: the worker records it, the store saves it inside
// model.json's LeNet Lab metadata, the contract carries it to the page.
//
// Every series is bounded whatever the run's length: when one is full, every other point is dropped and only
// every 2nd (then 4th, …) later point is kept, so a series always spans the whole run evenly. The last point
// of a series is always the run's last. Snapshots are stored as 8 bits a value over each kernel's own
// [min, max] (what a colour map shows anyway), which keeps 30 snapshots near 100 KB.
import { z } from 'zod';
import type { TrainerEvent, WireTensor } from './protocol.js';
import { decodeBase64, encodeBase64, wireToFloat32 } from './network/wire.js';

export const MAX_BATCH_POINTS = 1000;
export const MAX_GRADIENT_POINTS = 500;
export const MAX_SNAPSHOTS = 30;
/** The kernels the Filters timeline shows. */
export const SNAPSHOT_WEIGHTS: readonly string[] = ['C1/kernel', 'C3/kernel'];
/** The largest kernel a snapshot may hold (C3: 5·5·6·16 = 2,400 values). */
const MAX_SNAPSHOT_VALUES = 16_384;
const MAX_LAYERS = 32;

// JSON turns NaN/±Infinity into null; read them back as NaN (a diverged run's last losses).
const Num = z.union([z.number(), z.nan(), z.null()]).transform((v) => v ?? Number.NaN);
const Count = z.number().int().min(0).max(1e9);

export const BatchPoint = z.strictObject({ step: Count, epoch: Count, batch: Count, loss: Num, accuracy: Num });
export type BatchPoint = z.output<typeof BatchPoint>;

export const GradientPoint = z.strictObject({ step: Count, epoch: Count, batch: Count, norms: z.array(Num).max(MAX_LAYERS) });
export type GradientPoint = z.output<typeof GradientPoint>;

/** One kernel, quantised: value = min + q / 255 · (max − min). */
export const SnapshotKernel = z.strictObject({
  name: z.string().max(80),
  shape: z.array(z.number().int().min(1).max(MAX_SNAPSHOT_VALUES)).min(1).max(4),
  min: z.number(),
  max: z.number(),
  /** base64 of one byte a value. */
  q: z.string().max(4 * Math.ceil(MAX_SNAPSHOT_VALUES / 3)),
}).superRefine((k, ctx) => {
  const count = k.shape.reduce((a, d) => a * d, 1);
  if (count > MAX_SNAPSHOT_VALUES) ctx.addIssue({ code: 'custom', message: `${count} values, more than ${MAX_SNAPSHOT_VALUES}` });
  else if (k.q.length !== 4 * Math.ceil(count / 3)) ctx.addIssue({ code: 'custom', message: `q does not hold ${count} values` });
  if (!(k.min <= k.max)) ctx.addIssue({ code: 'custom', message: 'min is above max' });
});
export type SnapshotKernel = z.output<typeof SnapshotKernel>;

export const Snapshot = z.strictObject({ step: Count, epoch: Count, batch: Count, kernels: z.array(SnapshotKernel).max(SNAPSHOT_WEIGHTS.length) });
export type Snapshot = z.output<typeof Snapshot>;

export const RunRecord = z.strictObject({
  batches: z.array(BatchPoint).max(MAX_BATCH_POINTS),
  /** The layers gradient norms are listed for, in GradientPoint.norms' order. */
  gradientLayers: z.array(z.string().max(80)).max(MAX_LAYERS),
  gradients: z.array(GradientPoint).max(MAX_GRADIENT_POINTS),
  snapshots: z.array(Snapshot).max(MAX_SNAPSHOTS),
}).superRefine((r, ctx) => {
  if (r.gradients.some((g) => g.norms.length !== r.gradientLayers.length)) {
    ctx.addIssue({ code: 'custom', message: 'a gradient point does not list one norm per layer' });
  }
});
export type RunRecord = z.output<typeof RunRecord>;

/** A bounded series that thins itself evenly (see the header). */
class Thinned<T> {
  items: T[] = [];
  private stride = 1;
  private seen = 0;
  private pendingLast: T | null = null;
  constructor(private readonly max: number) {}
  add(item: T): void {
    const keep = this.seen % this.stride === 0;
    this.seen++;
    if (!keep) {
      this.pendingLast = item;
      return;
    }
    this.pendingLast = null;
    if (this.items.length >= this.max) {
      this.items = this.items.filter((_, i) => i % 2 === 0);
      this.stride *= 2;
    }
    this.items.push(item);
  }
  /** The points, ending with the last one added. */
  final(): T[] {
    if (!this.pendingLast) return [...this.items];
    const out = this.items.length >= this.max ? this.items.slice(0, -1) : [...this.items];
    out.push(this.pendingLast);
    return out;
  }
}

export function quantiseKernel(tensor: WireTensor): SnapshotKernel {
  const values = wireToFloat32(tensor);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) min = max = 0;
  const span = max - min;
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    q[i] = span > 0 && Number.isFinite(v) ? Math.round(((v - min) / span) * 255) : 0;
  }
  return { name: tensor.name, shape: tensor.shape, min, max, q: encodeBase64(q) };
}

/** A stored kernel back as a float32 WireTensor (the Filters view's format). */
export function kernelToWire(kernel: SnapshotKernel): WireTensor {
  const q = decodeBase64(kernel.q);
  const values = new Float32Array(q.length);
  const step = (kernel.max - kernel.min) / 255;
  for (let i = 0; i < q.length; i++) values[i] = kernel.min + q[i]! * step;
  return { name: kernel.name, shape: kernel.shape, data: encodeBase64(values) };
}

/** Collects a run's record from its trainer events. */
export class RunRecorder {
  private readonly batches = new Thinned<BatchPoint>(MAX_BATCH_POINTS);
  private readonly gradients = new Thinned<GradientPoint>(MAX_GRADIENT_POINTS);
  private readonly snapshots = new Thinned<Snapshot>(MAX_SNAPSHOTS);
  private gradientLayers: string[] = [];

  add(event: TrainerEvent): void {
    switch (event.type) {
      case 'batch':
        this.batches.add({ step: event.step, epoch: event.epoch, batch: event.batch, loss: event.loss, accuracy: event.accuracy });
        break;
      case 'gradients': {
        const layers = event.norms.map((n) => n.layer).slice(0, MAX_LAYERS);
        if (this.gradientLayers.length === 0) this.gradientLayers = layers;
        if (layers.join('\n') !== this.gradientLayers.join('\n')) break;
        this.gradients.add({ step: event.step, epoch: event.epoch, batch: event.batch, norms: event.norms.slice(0, MAX_LAYERS).map((n) => n.norm) });
        break;
      }
      case 'weights': {
        const kernels = event.tensors.filter((t) => SNAPSHOT_WEIGHTS.includes(t.name)).map(quantiseKernel);
        if (kernels.length > 0) this.snapshots.add({ step: event.step, epoch: event.epoch, batch: event.batch, kernels });
        break;
      }
      default:
        break;
    }
  }

  record(): RunRecord {
    return { batches: this.batches.final(), gradientLayers: this.gradientLayers, gradients: this.gradients.final(), snapshots: this.snapshots.final() };
  }
}
