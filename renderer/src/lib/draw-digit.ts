// Paints a grayscale digit onto a canvas at its native resolution (CSS scales it
// up with image-rendering: pixelated). Ink is drawn dark on light paper, like the pad.

/** values: rows × cols; `max` is the value of full ink (255 for dataset bytes, 1 for floats). */
export function drawDigit(canvas: HTMLCanvasElement, values: ArrayLike<number>, rows: number, cols: number, max: number, inverted = true): void {
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  const context = canvas.getContext('2d');
  if (!context) return;
  const image = context.createImageData(cols, rows);
  const pixels = image.data;
  const count = rows * cols;
  for (let i = 0; i < count; i++) {
    const ink = Math.min(1, Math.max(0, (Number(values[i]) || 0) / max));
    const level = Math.round(255 * (inverted ? 1 - ink : ink));
    const j = i * 4;
    pixels[j] = level;
    pixels[j + 1] = level;
    pixels[j + 2] = level;
    pixels[j + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}
