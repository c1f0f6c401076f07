// The drawing pad's digit: preprocessed like MNIST, then classified in the page.
// Re-classified whenever the model's weights change (live during training).
import { untrack } from 'svelte';
import { preprocessDrawing } from '../../../common/preprocess.js';
import type { Prediction } from '../../../common/network/predict.js';
import type { ModelStore } from './model.svelte.js';
import { inkLength } from '../lib/prediction-text.js';

export interface StrokePoint {
  x: number;
  y: number;
  /** Brush width at this point, in pad pixels (pressure already applied). */
  width: number;
}
export type Stroke = StrokePoint[];

export class DrawingStore {
  /** The pad's strokes in pad coordinates, kept here so the drawing survives switching views. */
  strokes: Stroke[] = [];
  strokeCount = $state(0);
  brushSize = $state(20);
  /** The preprocessed 28×28 digit (0 = background, 1 = ink); null when the pad is blank. */
  pixels28 = $state.raw<Float32Array | null>(null);
  prediction = $state.raw<Prediction | null>(null);
  hasInk = $derived(this.pixels28 !== null);
  /** The strokes' total length in pad pixels, as of the last analysis (a dot is 0). */
  ink = $state(0);
  /** The strokes Clear removed, until something new is drawn: Undo brings them back. */
  cleared = $state.raw<Stroke[] | null>(null);

  constructor(private readonly model: ModelStore) {
    $effect.root(() => {
      $effect(() => {
        void this.model.version;
        untrack(() => this.classify());
      });
    });
  }

  /** A grayscale image of the pad (0..255, white paper) → preprocess and classify. */
  setGray(gray: ArrayLike<number>, width: number, height: number): void {
    const { pixels, hasInk } = preprocessDrawing({ data: gray, width, height });
    this.pixels28 = hasInk ? pixels : null;
    this.ink = inkLength(this.strokes);
    this.classify();
  }

  setBrushSize(size: number): void {
    this.brushSize = size;
  }

  /** A new stroke starts (the pad keeps appending its points to the same array). */
  beginStroke(stroke: Stroke): void {
    this.cleared = null;
    this.strokes.push(stroke);
    this.strokeCount = this.strokes.length;
  }

  /** Drops the last stroke; false when there was none. */
  undoStroke(): boolean {
    if (this.strokes.length === 0) return false;
    this.strokes.pop();
    this.strokeCount = this.strokes.length;
    return true;
  }

  /** Brings back the strokes Clear removed; false when there is nothing to bring back. */
  undoClear(): boolean {
    if (!this.cleared || this.strokes.length > 0) return false;
    this.strokes = this.cleared;
    this.cleared = null;
    this.strokeCount = this.strokes.length;
    return true;
  }

  clear(): void {
    if (this.strokes.length > 0) this.cleared = this.strokes;
    this.strokes = [];
    this.strokeCount = 0;
    this.pixels28 = null;
    this.prediction = null;
  }

  private classify(): void {
    this.prediction = this.pixels28 ? this.model.predict(this.pixels28) : null;
  }
}
