// When the window's page cannot load (a damaged install, a missing file, a renderer that dies at start),
// the window shows this page instead of staying hidden: what happened, where the log file is, and what to
// try. It is a self-contained data: page with no scripts (its CSP allows none), built here from plain strings.

export interface LoadFailure {
  /** What failed, in a few words ("The page did not load", "The window did not open in time"). */
  what: string;
  /** Chromium's or the app's own detail, shown as is. */
  detail: string;
  /** The log folder, for the teacher (Help > Open Log Folder opens it too). */
  logFolder: string;
  appVersion: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

/** The page's HTML. Every value is escaped; the page runs nothing and loads nothing. */
export function errorPageHtml({ what, detail, logFolder, appVersion }: LoadFailure): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>LeNet Lab could not start</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 48px auto; max-width: 720px; padding: 0 24px; color: #1b1d21; background: #fff; }
  @media (prefers-color-scheme: dark) { body { color: #e8eaed; background: #16181c; } code, pre { background: #262a30; } }
  h1 { font-size: 24px; } pre, code { background: #f1f3f5; border-radius: 4px; padding: 2px 6px; }
  pre { padding: 12px; white-space: pre-wrap; word-break: break-word; }
</style></head>
<body>
<h1>LeNet Lab could not show its window</h1>
<p><strong>${escapeHtml(what)}.</strong></p>
<pre>${escapeHtml(detail)}</pre>
<h2>What to try</h2>
<ol>
  <li>Quit LeNet Lab and start it again.</li>
  <li>If it happens again, install LeNet Lab again (your saved models are kept).</li>
  <li>Send the log file to your teacher or IT: <strong>Help &gt; Open Log Folder</strong> shows it. It is in<br><code>${escapeHtml(logFolder)}</code></li>
</ol>
<p>LeNet Lab ${escapeHtml(appVersion)}</p>
</body></html>`;
}

export const errorPageUrl = (failure: LoadFailure): string => `data:text/html;charset=utf-8,${encodeURIComponent(errorPageHtml(failure))}`;

/** Chromium's net error for a load that was replaced by another one: not a failure. */
const ERR_ABORTED = -3;
/** How long a page may take to become ready before the window is shown anyway (a busy 2-core school PC). */
export const SHOW_WINDOW_AFTER_MS = 20_000;

/** The slice of BrowserWindow this watcher uses (a fake in tests). */
export interface WatchedWindow {
  once(event: 'ready-to-show', listener: () => void): unknown;
  isDestroyed(): boolean;
  isVisible(): boolean;
  show(): void;
  loadURL(url: string): Promise<void>;
  webContents: {
    on(event: 'did-fail-load', listener: (event: unknown, errorCode: number, errorDescription: string, validatedURL: string, isMainFrame: boolean) => void): unknown;
    on(event: 'preload-error', listener: (event: unknown, preloadPath: string, error: Error) => void): unknown;
  };
}

export interface LoadWatchOptions {
  log: (line: string) => void;
  failure: Omit<LoadFailure, 'what' | 'detail'>;
  /** Where the real page lives: only its failures turn into the error page. */
  isAppUrl: (url: string) => boolean;
  showAfterMs?: number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * Shows the error page when the app's page fails to load, and shows the window after a while whatever
 * happens, so a user never faces an app that runs with no window. Returns a stop function.
 */
export function watchPageLoad(window: WatchedWindow, options: LoadWatchOptions): () => void {
  const setTimer = options.setTimer ?? ((run, ms) => setTimeout(run, ms));
  const clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as NodeJS.Timeout));
  let failed = false;
  const showIfHidden = (): void => {
    if (!window.isDestroyed() && !window.isVisible()) window.show();
  };
  const fail = (what: string, detail: string): void => {
    options.log(`${what}: ${detail}`);
    if (failed || window.isDestroyed()) return;
    failed = true;
    void window.loadURL(errorPageUrl({ ...options.failure, what, detail })).catch(() => {}).finally(showIfHidden);
  };
  const timer = setTimer(() => {
    options.log(`the window was not ready after ${Math.round((options.showAfterMs ?? SHOW_WINDOW_AFTER_MS) / 1000)} s; showing it anyway`);
    showIfHidden();
  }, options.showAfterMs ?? SHOW_WINDOW_AFTER_MS);
  window.once('ready-to-show', () => clearTimer(timer));
  window.webContents.on('did-fail-load', (_event, errorCode, errorDescription, validatedURL, isMainFrame) => {
    if (!isMainFrame || errorCode === ERR_ABORTED || !options.isAppUrl(validatedURL)) return;
    fail('The page did not load', `${errorDescription} (${errorCode}) for ${validatedURL}`);
  });
  window.webContents.on('preload-error', (_event, preloadPath, error) => {
    fail('The window\'s bridge to the trainer did not load', `${preloadPath}: ${error?.message ?? String(error)}`);
  });
  return () => clearTimer(timer);
}
