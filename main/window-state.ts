// The window comes back where the user left it: size, place, maximised, theme.
// Pure parts (parse, fit to the current displays) are separate from the file
// I/O so they are tested with made-up screens. A saved place on a monitor that
// is gone (the lab's projector) is pulled back onto a display that exists.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../engine/io/atomic-file.js';

export interface Rect { x: number; y: number; width: number; height: number }
export type ThemeSource = 'system' | 'light' | 'dark';

const Int = z.number().int().min(-100_000).max(100_000);
const SavedWindowState = z.object({
  bounds: z.object({ x: Int, y: Int, width: Int.min(1), height: Int.min(1) }),
  maximized: z.boolean().default(false),
  fullScreen: z.boolean().default(false),
  theme: z.enum(['system', 'light', 'dark']).default('system'),
});
export type WindowState = z.output<typeof SavedWindowState>;

export const DEFAULT_SIZE = { width: 1280, height: 820 } as const;
export const MIN_SIZE = { width: 900, height: 600 } as const;
/** How much of the title bar must be on a display for the saved place to count as visible. */
const MIN_VISIBLE = { width: 120, height: 40 } as const;

/** What to open the window with: bounds without x/y mean "centre it". */
export interface WindowPlacement {
  bounds: { x?: number; y?: number; width: number; height: number };
  maximized: boolean;
  fullScreen: boolean;
  theme: ThemeSource;
}

/** Parse the saved JSON; anything unreadable counts as "nothing saved". */
export function parseWindowState(text: string): WindowState | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = SavedWindowState.safeParse(json);
  return parsed.success ? parsed.data : null;
}

const overlap = (a: Rect, b: Rect): Rect => {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  return { x, y, width: Math.max(0, Math.min(a.x + a.width, b.x + b.width) - x), height: Math.max(0, Math.min(a.y + a.height, b.y + b.height) - y) };
};

const clamp = (value: number, low: number, high: number): number => Math.min(Math.max(value, low), Math.max(low, high));

/**
 * Fit a saved state to the displays there are now (their work areas, primary
 * first). The window keeps its size where it fits, never exceeds the display
 * it lands on, and lies wholly inside that display's work area.
 */
export function fitToDisplays(saved: WindowState | null, workAreas: readonly Rect[]): WindowPlacement {
  const primary = workAreas[0];
  const theme = saved?.theme ?? 'system';
  const sizeFor = (area: Rect | undefined, want: { width: number; height: number }) => ({
    width: area ? clamp(want.width, Math.min(MIN_SIZE.width, area.width), area.width) : Math.max(want.width, MIN_SIZE.width),
    height: area ? clamp(want.height, Math.min(MIN_SIZE.height, area.height), area.height) : Math.max(want.height, MIN_SIZE.height),
  });
  if (!saved) return { bounds: sizeFor(primary, DEFAULT_SIZE), maximized: false, fullScreen: false, theme };

  // The display showing the largest part of the title bar strip, if any shows enough of it.
  const titleBar: Rect = { ...saved.bounds, height: Math.min(saved.bounds.height, MIN_VISIBLE.height) };
  let best: Rect | undefined;
  let bestArea = 0;
  for (const area of workAreas) {
    const shared = overlap(titleBar, area);
    const size = shared.width * shared.height;
    if (shared.width >= Math.min(MIN_VISIBLE.width, saved.bounds.width) && shared.height > 0 && size > bestArea) {
      best = area;
      bestArea = size;
    }
  }
  const flags = { maximized: saved.maximized, fullScreen: saved.fullScreen, theme };
  if (!best) return { bounds: sizeFor(primary, saved.bounds), ...flags };
  const size = sizeFor(best, saved.bounds);
  return {
    bounds: {
      x: clamp(saved.bounds.x, best.x, best.x + best.width - size.width),
      y: clamp(saved.bounds.y, best.y, best.y + best.height - size.height),
      ...size,
    },
    ...flags,
  };
}

export async function loadWindowState(file: string): Promise<WindowState | null> {
  try {
    return parseWindowState(await fs.readFile(file, 'utf8'));
  } catch {
    return null; // first run, or unreadable: start from the defaults
  }
}

export async function saveWindowState(file: string, state: WindowState): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
}
