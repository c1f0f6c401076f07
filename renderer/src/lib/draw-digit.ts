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

/**
 * The digit as a PNG data: URL (for an SVG <image>), inside a border of `pad` paper pixels on every
 * side — e.g. the 28×28 MNIST digit in the network's 32×32 input.
 */
export function digitDataUrl(values: ArrayLike<number>, rows: number, cols: number, max: number, pad = 0): string {
  const width = cols + 2 * pad;
  const height = rows + 2 * pad;
  const padded = new Float32Array(width * height);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) padded[(r + pad) * width + c + pad] = Number(values[r * cols + c]) || 0;
  }
  const canvas = document.createElement('canvas');
  drawDigit(canvas, padded, height, width, max);
  return canvas.toDataURL('image/png');
}
