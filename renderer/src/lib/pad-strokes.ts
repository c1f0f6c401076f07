// Painting the drawing pad's strokes: black ink on white paper, round caps and joins,
// each segment as wide as the pressure at its end.
import type { Stroke, StrokePoint } from '../stores/drawing.svelte.js';

export const PAD_SIZE = 280;

export function paintPaper(context: CanvasRenderingContext2D): void {
  context.save();
  context.setTransform(1, 0, 0, 1, 0, 0);
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, context.canvas.width, context.canvas.height);
  context.restore();
}

/** Draw the segment ending at stroke[index] (a dot when it is the first point). */
export function paintSegment(context: CanvasRenderingContext2D, stroke: Stroke, index: number): void {
  const point = stroke[index];
  if (!point) return;
  context.strokeStyle = '#000000';
  context.fillStyle = '#000000';
  context.lineCap = 'round';
  context.lineJoin = 'round';
  const previous: StrokePoint | undefined = stroke[index - 1];
  if (!previous) {
    context.beginPath();
    context.arc(point.x, point.y, point.width / 2, 0, Math.PI * 2);
    context.fill();
    return;
  }
  // A quadratic through the midpoints keeps fast strokes smooth instead of polygonal.
  const before = stroke[index - 2];
  context.lineWidth = (previous.width + point.width) / 2;
  context.beginPath();
  if (before) {
    context.moveTo((before.x + previous.x) / 2, (before.y + previous.y) / 2);
    context.quadraticCurveTo(previous.x, previous.y, (previous.x + point.x) / 2, (previous.y + point.y) / 2);
  } else {
    context.moveTo(previous.x, previous.y);
    context.lineTo((previous.x + point.x) / 2, (previous.y + point.y) / 2);
  }
  context.stroke();
}

/** Finish a stroke: the last half-segment to its final point. */
export function paintStrokeEnd(context: CanvasRenderingContext2D, stroke: Stroke): void {
  const last = stroke.at(-1);
  const previous = stroke.at(-2);
  if (!last || !previous) return;
  context.lineWidth = last.width;
  context.lineCap = 'round';
  context.strokeStyle = '#000000';
  context.beginPath();
  context.moveTo((previous.x + last.x) / 2, (previous.y + last.y) / 2);
  context.lineTo(last.x, last.y);
  context.stroke();
}

export function paintStrokes(context: CanvasRenderingContext2D, strokes: readonly Stroke[]): void {
  paintPaper(context);
  for (const stroke of strokes) {
    for (let i = 0; i < stroke.length; i++) paintSegment(context, stroke, i);
    paintStrokeEnd(context, stroke);
  }
}

/**
 * The stroke width at a pointer sample: only pens report real pressure (mice report 0.5 while pressed, touch
 * often 0 or 1), so a pen scales the brush by 0.35 + pressure and everything else draws at the brush size.
 */
export function strokeWidth(brushSize: number, pointerType: string, pressure: number): number {
  if (pointerType !== 'pen' || pressure <= 0) return brushSize;
  return brushSize * (0.35 + 1.0 * pressure);
}
