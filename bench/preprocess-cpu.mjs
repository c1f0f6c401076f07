// Dev helper: CPU time of preprocessDrawing for one 280×280 image (the drawing pad's size), after `npm run build:node`:
// the pad's clean canvas (a bold anti-aliased "8" on white) and the same drawing photographed with dark corners.
// CPU time (process.cpuUsage), not wall time: the machine is shared. Median and range of 7 rounds.
//   node bench/preprocess-cpu.mjs
import { preprocessDrawing } from '../dist/common/preprocess.js';

const S = 280;
const pad = new Uint8ClampedArray(S * S);
for (let y = 0; y < S; y++) {
  for (let x = 0; x < S; x++) {
    const d = Math.min(Math.abs(Math.hypot(x - 140, y - 85) - 50), Math.abs(Math.hypot(x - 140, y - 185) - 60));
    pad[y * S + x] = 255 * Math.min(1, Math.max(0, d - 9)); // 18 px strokes, 1 px of anti-aliasing
  }
}
const photo = new Uint8ClampedArray(S * S);
for (let i = 0; i < pad.length; i++) {
  const x = i % S, y = (i / S) | 0;
  photo[i] = (20 + pad[i] * 0.85) * (1 - 0.5 * (Math.hypot(x - 139.5, y - 139.5) / 197.3) ** 4); // vignetting 0.5
}
const cpuMs = (img, calls) => {
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) preprocessDrawing({ data: img, width: S, height: S });
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / calls;
};
for (const [name, img] of [['pad (clean canvas)', pad], ['photo (dark corners)', photo]]) {
  cpuMs(img, 100); // warm-up
  const rounds = Array.from({ length: 7 }, () => cpuMs(img, 100)).sort((a, b) => a - b);
  console.log(`${name.padEnd(22)} median ${rounds[3].toFixed(3)} ms CPU  (min ${rounds[0].toFixed(3)}, max ${rounds[6].toFixed(3)})`);
}
