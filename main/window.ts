// The one app window, created under Electron's security defaults, spelled out
// in the BrowserWindow call itself so Electronegativity checks the real values.
import { BrowserWindow, nativeTheme } from 'electron';
import { APP_ENTRY_URL } from './app-protocol.js';
import { MIN_SIZE, saveWindowState, type ThemeSource, type WindowPlacement, type WindowState } from './window-state.js';

export interface MainWindowOptions {
  preloadPath: string;
  placement: WindowPlacement;
  isDev: boolean;
}

export function createMainWindow({ preloadPath, placement, isDev }: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    ...placement.bounds,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'LeNet Lab',
    show: false, // shown on ready-to-show: no white flash in dark mode
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181c' : '#ffffff',
    webPreferences: {
      preload: preloadPath, // eng-disable PRELOAD_JS_CHECK -- our own bundled dist/preload/preload.cjs, read from the app; it exposes only the contract's functions via contextBridge (no ipcRenderer, no Node)
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
      devTools: isDev,
    },
  });
  window.once('ready-to-show', () => {
    if (placement.maximized) window.maximize();
    if (placement.fullScreen) window.setFullScreen(true);
    window.show();
  });
  void window.loadURL(APP_ENTRY_URL);
  return window;
}

/** The window's current state, for saving. */
export function windowStateOf(window: BrowserWindow, theme: ThemeSource): WindowState {
  return { bounds: window.getNormalBounds(), maximized: window.isMaximized(), fullScreen: window.isFullScreen(), theme };
}

/**
 * Save the window's place a moment after it stops moving, and when it closes. `adjust` lets the caller
 * change what is saved (under Wayland: keep the earlier position, which the window cannot know).
 */
export function trackWindowState(window: BrowserWindow, file: string, theme: () => ThemeSource, log: (line: string) => void,
  adjust: (state: WindowState) => WindowState = (state) => state): () => Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  let last: WindowState | null = null;
  const save = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!window.isDestroyed()) last = adjust(windowStateOf(window, theme()));
    if (!last) return;
    await saveWindowState(file, last).catch((e: unknown) => log(`could not save the window state: ${e instanceof Error ? e.message : String(e)}`));
  };
  const later = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void save(), 500);
  };
  window.on('resize', later);
  window.on('move', later);
  window.on('maximize', later);
  window.on('unmaximize', later);
  window.on('enter-full-screen', later);
  window.on('leave-full-screen', later);
  window.on('close', () => void save());
  return save;
}
