import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SIZE,
  fitToDisplays,
  loadWindowState,
  MIN_SIZE,
  parseWindowState,
  saveWindowState,
  type Rect,
  type WindowState,
} from '../../main/window-state.js';

const laptop: Rect = { x: 0, y: 25, width: 1440, height: 875 };
const projectorRight: Rect = { x: 1440, y: 0, width: 1920, height: 1080 };
const state = (bounds: Rect, extra: Partial<WindowState> = {}): WindowState =>
  ({ bounds, maximized: false, fullScreen: false, theme: 'system', ...extra });

describe('parseWindowState', () => {
  it('reads what saveWindowState writes, with defaults for missing flags', () => {
    expect(parseWindowState('{"bounds":{"x":10,"y":20,"width":1000,"height":700}}')).toEqual(state({ x: 10, y: 20, width: 1000, height: 700 }));
    expect(parseWindowState(JSON.stringify(state({ x: 1, y: 2, width: 1000, height: 700 }, { maximized: true, theme: 'dark' }))))
      .toMatchObject({ maximized: true, theme: 'dark' });
  });

  it.each([
    ['', 'empty file'],
    ['{', 'truncated JSON'],
    ['null', 'null'],
    ['{"bounds":{"x":"10","y":0,"width":800,"height":600}}', 'string coordinate'],
    ['{"bounds":{"x":0,"y":0,"width":0,"height":600}}', 'zero width'],
    ['{"bounds":{"x":1e308,"y":0,"width":800,"height":600}}', 'huge coordinate'],
    ['{"bounds":{"x":0.5,"y":0,"width":800,"height":600}}', 'fraction'],
    ['{"bounds":{"x":0,"y":0,"width":800,"height":600},"theme":"purple"}', 'unknown theme'],
  ])('treats %j (%s) as nothing saved', (text) => {
    expect(parseWindowState(text)).toBeNull();
  });
});

describe('fitToDisplays', () => {
  it('opens at the default size, centred, on first run', () => {
    expect(fitToDisplays(null, [laptop])).toEqual({ bounds: { ...DEFAULT_SIZE }, maximized: false, fullScreen: false, theme: 'system' });
  });

  it('keeps a place that is on screen', () => {
    const saved = state({ x: 100, y: 80, width: 1100, height: 700 }, { maximized: true, theme: 'light' });
    expect(fitToDisplays(saved, [laptop])).toEqual({ bounds: saved.bounds, maximized: true, fullScreen: false, theme: 'light' });
  });

  it('keeps a place on a second display that is still there', () => {
    const saved = state({ x: 1600, y: 100, width: 1200, height: 800 });
    expect(fitToDisplays(saved, [laptop, projectorRight]).bounds).toEqual(saved.bounds);
  });

  it('brings the window back when its display is gone (the projector was unplugged)', () => {
    const placement = fitToDisplays(state({ x: 1600, y: 100, width: 1200, height: 800 }), [laptop]);
    expect(placement.bounds.x).toBeUndefined(); // centred by Electron on the primary display
    expect(placement.bounds).toMatchObject({ width: 1200, height: 800 });
  });

  it('pulls a half-off-screen window fully onto the display and shrinks one larger than it', () => {
    const placement = fitToDisplays(state({ x: 1000, y: 500, width: 3000, height: 2000 }), [laptop]);
    expect(placement.bounds).toEqual({ x: laptop.x, y: laptop.y, width: laptop.width, height: laptop.height });
    const nudged = fitToDisplays(state({ x: 1200, y: 600, width: 1000, height: 700 }), [laptop]);
    expect(nudged.bounds).toEqual({ x: laptop.width - 1000, y: laptop.y + laptop.height - 700, width: 1000, height: 700 });
  });

  it('does not treat a sliver of title bar as visible', () => {
    const placement = fitToDisplays(state({ x: -1190, y: 100, width: 1200, height: 800 }), [laptop]);
    expect(placement.bounds.x).toBeUndefined();
  });

  it('always lands inside some display and respects the minimum size when it fits', () => {
    const rect = fc.record({
      x: fc.integer({ min: -5000, max: 5000 }),
      y: fc.integer({ min: -5000, max: 5000 }),
      width: fc.integer({ min: 1, max: 6000 }),
      height: fc.integer({ min: 1, max: 4000 }),
    });
    const display = fc.record({
      x: fc.integer({ min: -4000, max: 4000 }),
      y: fc.integer({ min: -2000, max: 2000 }),
      width: fc.integer({ min: 800, max: 4000 }),
      height: fc.integer({ min: 600, max: 2500 }),
    });
    fc.assert(fc.property(rect, fc.array(display, { minLength: 1, maxLength: 3 }), (bounds, displays) => {
      const { bounds: placed } = fitToDisplays(state(bounds), displays);
      const primary = displays[0]!;
      if (placed.x === undefined || placed.y === undefined) {
        return placed.width <= primary.width && placed.height <= primary.height
          && placed.width >= Math.min(MIN_SIZE.width, primary.width) && placed.height >= Math.min(MIN_SIZE.height, primary.height);
      }
      return displays.some((d) => placed.x! >= d.x && placed.y! >= d.y
        && placed.x! + placed.width <= d.x + d.width && placed.y! + placed.height <= d.y + d.height);
    }), { numRuns: 1000 });
  });
});

describe('load and save', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('round-trips through an atomic write and leaves no temp files', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lenet-window-state-'));
    const file = path.join(dir, 'nested', 'window-state.json');
    const saved = state({ x: 5, y: 6, width: 1000, height: 700 }, { fullScreen: true, theme: 'dark' });
    await saveWindowState(file, saved);
    await saveWindowState(file, saved);
    expect(await loadWindowState(file)).toEqual(saved);
    expect(readdirSync(path.dirname(file))).toEqual(['window-state.json']);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(saved);
  });

  it('starts fresh from a missing or corrupt file', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lenet-window-state-'));
    expect(await loadWindowState(path.join(dir, 'absent.json'))).toBeNull();
    writeFileSync(path.join(dir, 'bad.json'), '{"bounds":');
    expect(await loadWindowState(path.join(dir, 'bad.json'))).toBeNull();
  });
});
