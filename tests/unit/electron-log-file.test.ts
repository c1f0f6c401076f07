// The log file (main/log-file.ts), the error page (main/error-page.ts) and the Wayland placement rules
// (main/window-placement.ts): plain modules, tested without Electron.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorPageHtml, escapeHtml, watchPageLoad, type WatchedWindow } from '../../main/error-page.js';
import { LOG_MAX_LINE, RotatingLog } from '../../main/log-file.js';
import { isNativeWayland, keepSavedPosition, withoutPosition } from '../../main/window-placement.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lenet-log-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const at = () => new Date('2026-01-02T03:04:05.000Z');

describe('RotatingLog', () => {
  it('stamps each line with the time and its source, creating the folder', () => {
    const dir = path.join(tempDir(), '日志 folder');
    const log = new RotatingLog({ dir, now: at });
    log.write('main', 'started');
    log.write('trainer stderr', 'Error: x\r\n    at y\n');
    expect(readFileSync(log.file, 'utf8')).toBe(
      '2026-01-02T03:04:05.000Z [main] started\n2026-01-02T03:04:05.000Z [trainer stderr] Error: x\n2026-01-02T03:04:05.000Z [trainer stderr]     at y\n');
  });

  it('cuts a line at the limit and says how long it was; a line at the limit is kept whole', () => {
    const log = new RotatingLog({ dir: tempDir(), now: at });
    log.write('main', 'a'.repeat(LOG_MAX_LINE));
    log.write('main', 'b'.repeat(LOG_MAX_LINE + 1));
    const [whole, cut] = readFileSync(log.file, 'utf8').split('\n');
    expect(whole).toBe(`2026-01-02T03:04:05.000Z [main] ${'a'.repeat(LOG_MAX_LINE)}`);
    expect(cut).toBe(`2026-01-02T03:04:05.000Z [main] ${'b'.repeat(LOG_MAX_LINE)}… (${LOG_MAX_LINE + 1} characters)`);
  });

  it('rotates past the size limit and keeps only the newest files', () => {
    const dir = tempDir();
    // Each write is 32 (stamp and source) + 67 + 1 = 100 bytes; the limit holds exactly two.
    const log = new RotatingLog({ dir, maxBytes: 200, keep: 2, now: at });
    const line = (n: number): string => `${n}`.padEnd(67, '.');
    log.write('main', line(1));
    log.write('main', line(2));
    expect(statSync(log.file).size).toBe(200);
    expect(existsSync(log.rotatedFile(1))).toBe(false); // at the limit: not rotated yet
    log.write('main', line(3));
    expect(readFileSync(log.rotatedFile(1), 'utf8')).toContain(line(2));
    expect(readFileSync(log.file, 'utf8')).toBe(`2026-01-02T03:04:05.000Z [main] ${line(3)}\n`);
    for (let n = 4; n <= 8; n++) log.write('main', line(n));
    expect(readFileSync(log.file, 'utf8')).toContain(line(7));
    expect(readFileSync(log.rotatedFile(1), 'utf8')).toContain(line(5));
    expect(readFileSync(log.rotatedFile(2), 'utf8')).toContain(line(3));
    expect(existsSync(log.rotatedFile(3))).toBe(false);
  });

  it('a log it cannot write is given up silently', () => {
    const file = path.join(tempDir(), 'not-a-folder');
    writeFileSync(file, 'x');
    const log = new RotatingLog({ dir: file });
    expect(() => log.write('main', 'x')).not.toThrow();
  });
});

describe('the error page', () => {
  it('escapes every value and runs nothing', () => {
    const html = errorPageHtml({ what: 'The page <b>', detail: '"x" & \'y\' <script>alert(1)</script>', logFolder: 'C:\\Users\\张\\logs', appVersion: '1.0' });
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('C:\\Users\\张\\logs');
    expect(html).toContain("content=\"default-src 'none'; style-src 'unsafe-inline'\"");
    expect(escapeHtml('<&>"\'')).toBe('&lt;&amp;&gt;&quot;&#39;');
  });

  class FakeWindow extends EventEmitter {
    readonly webContents = new EventEmitter();
    visible = false;
    loaded: string[] = [];
    isDestroyed(): boolean { return false; }
    isVisible(): boolean { return this.visible; }
    show(): void { this.visible = true; }
    loadURL(url: string): Promise<void> { this.loaded.push(url); return Promise.resolve(); }
  }

  it('shows the window when it is not ready in time, and not when it was', () => {
    vi.useFakeTimers();
    try {
      const slow = new FakeWindow();
      const lines: string[] = [];
      watchPageLoad(slow as unknown as WatchedWindow, { log: (line) => lines.push(line), failure: { logFolder: '/l', appVersion: '1' }, isAppUrl: () => true, showAfterMs: 1000 });
      vi.advanceTimersByTime(999);
      expect(slow.visible).toBe(false);
      vi.advanceTimersByTime(1);
      expect(slow.visible).toBe(true);
      expect(lines[0]).toMatch(/not ready after 1 s/);

      const quick = new FakeWindow();
      watchPageLoad(quick as unknown as WatchedWindow, { log: () => {}, failure: { logFolder: '/l', appVersion: '1' }, isAppUrl: () => true, showAfterMs: 1000 });
      quick.emit('ready-to-show');
      vi.advanceTimersByTime(5000);
      expect(quick.visible).toBe(false); // window.ts shows it on ready-to-show itself
    } finally {
      vi.useRealTimers();
    }
  });

  it('a preload that fails to load shows the error page once', async () => {
    const win = new FakeWindow();
    watchPageLoad(win as unknown as WatchedWindow, { log: () => {}, failure: { logFolder: '/l', appVersion: '1' }, isAppUrl: () => true, showAfterMs: 60_000 });
    win.webContents.emit('preload-error', {}, '/app/preload.cjs', new Error('SyntaxError'));
    win.webContents.emit('did-fail-load', {}, -6, 'ERR_FILE_NOT_FOUND', 'app://lenet-lab/index.html', true);
    expect(win.loaded).toHaveLength(1);
    expect(decodeURIComponent(win.loaded[0]!)).toContain('/app/preload.cjs: SyntaxError');
    await vi.waitFor(() => expect(win.visible).toBe(true));
  });
});

describe('window placement under Wayland', () => {
  it('is native Wayland only on Linux in a Wayland session, unless Ozone is forced to X11', () => {
    expect(isNativeWayland('linux', { WAYLAND_DISPLAY: 'wayland-0' }, '')).toBe(true);
    expect(isNativeWayland('linux', { XDG_SESSION_TYPE: 'wayland' }, '')).toBe(true);
    expect(isNativeWayland('linux', { XDG_SESSION_TYPE: 'x11', DISPLAY: ':0' }, '')).toBe(false);
    expect(isNativeWayland('linux', { WAYLAND_DISPLAY: 'wayland-0' }, 'x11')).toBe(false);
    expect(isNativeWayland('linux', { WAYLAND_DISPLAY: 'wayland-0', ELECTRON_OZONE_PLATFORM_HINT: 'x11' }, '')).toBe(false);
    expect(isNativeWayland('linux', { DISPLAY: ':0' }, 'wayland')).toBe(true);
    expect(isNativeWayland('win32', { WAYLAND_DISPLAY: 'wayland-0' }, '')).toBe(false);
  });

  it('opens at the saved size without a position, and saves the size with the earlier position', () => {
    const placement = { bounds: { x: 100, y: 50, width: 1200, height: 800 }, maximized: true, fullScreen: false, theme: 'dark' as const };
    expect(withoutPosition(placement)).toEqual({ bounds: { width: 1200, height: 800 }, maximized: true, fullScreen: false, theme: 'dark' });
    const now = { bounds: { x: 0, y: 0, width: 1000, height: 700 }, maximized: false, fullScreen: false, theme: 'system' as const };
    expect(keepSavedPosition(now, { ...now, bounds: { x: 300, y: 200, width: 1, height: 1 } }).bounds).toEqual({ x: 300, y: 200, width: 1000, height: 700 });
    expect(keepSavedPosition(now, null).bounds).toEqual({ x: 0, y: 0, width: 1000, height: 700 });
  });
});
