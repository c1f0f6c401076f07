// chart.js, with only the pieces the charts use registered (keeps the bundle small),
// and the theme colours the charts read from the CSS variables.
import {
  Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip,
} from 'chart.js';

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip);

export { Chart };

export interface ChartTheme {
  text: string;
  /** The page's font stack (with its CJK fonts), so chart.js measures and draws Chinese labels in a font that has them. */
  font: string;
  grid: string;
  series: string[];
}

export function chartTheme(): ChartTheme {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const font = read('--font', 'sans-serif');
  Chart.defaults.font.family = font;
  return {
    text: read('--text-muted', '#666'),
    font,
    grid: read('--chart-grid', 'rgba(128,128,128,0.2)'),
    series: [1, 2, 3, 4, 5, 6, 7, 8].map((i) => read(`--series-${i}`, '#888')),
  };
}

/** Calls `listener` when the OS switches between light and dark. */
export function onThemeChange(listener: () => void): () => void {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
}

/** '#rrggbb' (or '#rgb') with an alpha, as rgba(); other colour strings are returned unchanged. */
export function withAlpha(colour: string, alpha: number): string {
  let hex = colour.trim();
  if (!/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(hex)) return colour;
  if (hex.length === 4) hex = `#${hex[1]}${hex[1]}${hex[2]}${hex[2]}${hex[3]}${hex[3]}`;
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * Runs `work` at most once per `intervalMs` (on an animation frame), however often it is scheduled: live charts
 * redraw a few times a second, which reads as smooth and leaves the CPU to the trainer.
 */
export function intervalThrottle(work: () => void, intervalMs: number): { schedule(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let frame = 0;
  let last = -Infinity;
  const run = () => {
    timer = null;
    frame = requestAnimationFrame(() => {
      frame = 0;
      last = performance.now();
      work();
    });
  };
  return {
    schedule() {
      if (timer !== null || frame) return;
      timer = setTimeout(run, Math.max(0, last + intervalMs - performance.now()));
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      if (frame) cancelAnimationFrame(frame);
      timer = null;
      frame = 0;
    },
  };
}
