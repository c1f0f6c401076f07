// Test-set evaluation (run by the worker) and a cache of dataset images for the
// confusion-matrix drill-down, the mistakes gallery and the feature-map picker.
import type { EvalResult, LabApi, LabError } from '../../../common/contract.js';
import { decodeBase64 } from '../lib/wire-tensor.js';
import type { ModelStore } from './model.svelte.js';

export interface DigitSample {
  split: 'train' | 'test';
  index: number;
  label: number;
  rows: number;
  cols: number;
  /** rows × cols, 0 = background, 255 = ink. */
  pixels: Uint8Array;
}

const MAX_PER_REQUEST = 1000;

export class EvaluationStore {
  result = $state.raw<EvalResult | null>(null);
  running = $state(false);
  error = $state.raw<LabError | null>(null);
  /** model.version when the result was computed; differs from it once the weights moved on. */
  resultVersion = $state(-1);
  private cache = new Map<string, DigitSample>();

  constructor(private readonly lab: LabApi, private readonly model: ModelStore) {}

  /** True once the weights moved on since the result was computed. */
  stale = $derived.by(() => this.result !== null && this.resultVersion !== this.model.version);
  /** The result while it still describes the page's current weights (null once they changed). */
  current = $derived<EvalResult | null>(this.stale ? null : this.result);

  async run(limit?: number): Promise<EvalResult | null> {
    if (this.running) return this.result;
    this.running = true;
    this.error = null;
    const version = this.model.version;
    try {
      const result = await this.lab.evaluate(limit === undefined ? {} : { limit });
      if (!result.ok) {
        this.error = result.error;
        return null;
      }
      this.result = result.value;
      this.resultVersion = version;
      return result.value;
    } finally {
      this.running = false;
    }
  }

  /** Dataset images by index (cached), in the order asked. Throws a LabError-shaped Error on failure. */
  async images(indices: readonly number[], split: 'train' | 'test' = 'test'): Promise<DigitSample[]> {
    const missing = [...new Set(indices.filter((index) => !this.cache.has(`${split}:${index}`)))];
    for (let from = 0; from < missing.length; from += MAX_PER_REQUEST) {
      const chunk = missing.slice(from, from + MAX_PER_REQUEST);
      const result = await this.lab.samples({ split, indices: chunk });
      if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
      const { rows, cols, labels } = result.value;
      const bytes = decodeBase64(result.value.images);
      chunk.forEach((index, i) => {
        const size = rows * cols;
        this.cache.set(`${split}:${index}`, {
          split, index, rows, cols, label: labels[i] ?? -1,
          pixels: bytes.slice(i * size, (i + 1) * size),
        });
      });
    }
    return indices.map((index) => this.cache.get(`${split}:${index}`)!).filter(Boolean);
  }

  /** The same image as the drawing pad's format: 28×28 floats, 0 = background, 1 = ink. */
  static toPixels28(sample: DigitSample): Float32Array {
    const out = new Float32Array(sample.pixels.length);
    for (let i = 0; i < out.length; i++) out[i] = sample.pixels[i]! / 255;
    return out;
  }
}
