// Electron main process entry: wires the window, the app:// protocol, the
// security guards, IPC, the trainer utility process and the menu together.
// The logic lives in the plain modules next to this file; this one only glues.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  nativeTheme,
  protocol,
  screen,
  session,
  shell,
  utilityProcess,
  type MessageBoxOptions,
  type OpenDialogOptions,
} from 'electron';
import type { InvokeName, MenuCommand, RequestOf, ResponseOf, Result } from '../common/contract.js';
import type { TrainerEvent } from '../common/protocol.js';
import { createLabIntl, matchLocale, type Locale } from '../common/i18n/index.js';
import { createHostHandler } from '../hosts/host-handler.js';
import { WorkerClient, type EmitEvent } from '../hosts/worker-link.js';
import { aboutDetail, PAPER_URL } from './about.js';
import { APP_ORIGIN, APP_SCHEME, createAppProtocolHandler } from './app-protocol.js';
import { writeFileAtomic } from '../engine/io/atomic-file.js';
import { csvHasRows, exportFileName, withExtension } from './export-files.js';
import { watchPageLoad } from './error-page.js';
import { createEventRelay, registerInvokeHandlers, windowSenderGate } from './ipc.js';
import { logFolderIn, RotatingLog } from './log-file.js';
import { buildMenuTemplate, type MenuActions } from './menu.js';
import { denyAllPermissions, hardenWebContents, openExternalSafely, type BlockedListener } from './security.js';
import { runSelfTest, selfTestReportPath, type SelfTestHost } from './self-test.js';
import { appLayout, trainerEnv, utilityWorkerSpawner } from './trainer-process.js';
import { createFileSaver } from './save-file.js';
import {
  defaultModelName,
  quitChoice,
  quitPrompt,
  TaskbarProgress,
  UnsavedModelTracker,
  type ProgressUpdate,
} from './training-monitor.js';
import { createMainWindow, trackWindowState } from './window.js';
import { isNativeWayland, keepSavedPosition, withoutPosition } from './window-placement.js';
import { fitToDisplays, loadWindowState, type ThemeSource } from './window-state.js';

// Before 'ready': every renderer sandboxed, and app:// a standard, secure origin that can use fetch.
app.enableSandbox();
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
// Tests (and a teacher's portable setup) can keep the app's data elsewhere; set before the single-instance lock uses it.
if (process.env.LENET_LAB_USER_DATA_DIR) app.setPath('userData', path.resolve(process.env.LENET_LAB_USER_DATA_DIR));

// The log file (Help > Open Log Folder): main's lines and the trainer's output, also echoed to stderr.
const logFolder = logFolderIn(app.getPath('userData'));
const logFile = new RotatingLog({ dir: logFolder });
const log = (line: string): void => {
  process.stderr.write(`lenet-lab: ${line}\n`);
  logFile.write('main', line);
};
log(`LeNet Lab ${app.getVersion()} starting (Electron ${process.versions.electron}, ${process.platform} ${process.arch}${app.isPackaged ? '' : ', development'})`);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  runApp();
}

function runApp(): void {
  let selfTestReport: string | null = null;
  try {
    selfTestReport = selfTestReportPath(process.env);
  } catch (e) {
    log(e instanceof Error ? e.message : String(e));
    app.exit(2);
    return;
  }
  const isDev = !app.isPackaged;
  const layout = appLayout({
    isPackaged: app.isPackaged,
    appPath: app.getAppPath(),
    resourcesPath: process.resourcesPath,
    userDataPath: app.getPath('userData'),
  });
  let mainWindow: BrowserWindow | null = null;
  let theme: ThemeSource = 'system';
  // The menu and the About box speak the page's language: the system's until the page says otherwise (setLanguage).
  const systemLanguages = (): string[] => {
    try {
      return app.getPreferredSystemLanguages();
    } catch {
      return [app.getLocale()];
    }
  };
  let locale: Locale = matchLocale(systemLanguages());
  let allowClose = false;
  let quitPromptOpen = false;

  const liveWindow = (): BrowserWindow | null => (mainWindow && !mainWindow.isDestroyed() ? mainWindow : null);
  const onBlocked: BlockedListener = (kind, detail) => log(`blocked ${kind}: ${detail.slice(0, 200)}`);

  // Worker events: the taskbar and the unsaved-model tracker see them before the window does.
  const trainerEventListeners = new Set<(event: TrainerEvent) => void>();
  const progress = new TaskbarProgress();
  const unsaved = new UnsavedModelTracker();
  const applyProgress = (update: ProgressUpdate | null): void => {
    if (update) liveWindow()?.setProgressBar(update.fraction, { mode: update.mode });
  };
  const relay = createEventRelay(() => liveWindow()?.webContents ?? null);
  const emit: EmitEvent = (name, payload) => {
    if (name === 'trainerEvent') {
      const event = payload as TrainerEvent; // checked once, where it entered the host (WorkerClient)
      applyProgress(progress.onTrainerEvent(event));
      unsaved.onTrainerEvent(event);
      for (const listener of trainerEventListeners) listener(event);
    } else if (name === 'trainerCrashed') {
      applyProgress(progress.onTrainerCrashed());
      unsaved.onTrainerCrashed();
    }
    relay(name, payload);
  };
  const sendMenuCommand = (command: MenuCommand): void => relay('menuCommand', command);

  const client = new WorkerClient(
    utilityWorkerSpawner(utilityProcess, {
      entry: layout.workerEntry,
      env: trainerEnv(layout, process.env),
      log,
      output: (stream, line) => {
        process.stderr.write(`lenet-lab trainer: ${line}\n`);
        logFile.write(`trainer ${stream}`, line);
      },
    }),
    emit,
    { onDroppedEvent: (name, why) => log(`dropped a malformed ${name} event: ${why}`) },
  );

  /** main's own words (dialogs, the quit prompt) follow the page's language, as the menu does. */
  const words = () => createLabIntl(locale);
  const pickModelFolder = async (): Promise<string | null> => {
    const options: OpenDialogOptions = {
      title: words().t('main.open.title'),
      buttonLabel: words().t('main.open.button'),
      defaultPath: layout.modelsDir,
      properties: ['openDirectory'],
    };
    const window = liveWindow();
    const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
    return picked.canceled ? null : (picked.filePaths[0] ?? null);
  };
  const saveFileFromPage = createFileSaver({
    showSaveDialog: async (options) => {
      const window = liveWindow();
      return window ? dialog.showSaveDialog(window, options) : dialog.showSaveDialog(options);
    },
    writeFile: (target, bytes) => writeFileAtomic(target, bytes),
    folderFor: (kind) => app.getPath(kind === 'png' ? 'pictures' : 'documents'),
    lab: words,
  });
  const handler = createHostHandler(client, {
    pickModelFolder,
    saveFile: saveFileFromPage,
    systemLanguages,
    setLanguage: (next) => {
      if (next === locale) return;
      locale = next;
      log(`language: ${locale}`);
      setMenu();
    },
  });
  const onResult = (name: InvokeName, result: Result<unknown>): void => {
    unsaved.onInvokeResult(name, result);
    if (name === 'restartTrainer' && result.ok) applyProgress(progress.onTrainerRestarted());
  };
  /** Requests made by the main process itself (menu, quit prompt) take the same path as the renderer's. */
  const hostCall = async <K extends InvokeName>(name: K, request: RequestOf<K>): Promise<Result<ResponseOf<K>>> => {
    const result = await handler(name, request);
    onResult(name, result);
    return result as Result<ResponseOf<K>>;
  };

  const messageBox = async (options: MessageBoxOptions): Promise<number> => {
    const window = liveWindow();
    return (window ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options)).response;
  };
  const showError = (message: string, detail: string): Promise<number> => messageBox({ type: 'error', message, detail, buttons: [words().t('aboutBox.ok')] });
  const confirmDiscard = async (action: string): Promise<boolean> => {
    if (!unsaved.hasUnsavedModel) return true;
    const response = await messageBox({
      type: 'warning',
      message: words().t('main.discard.message', { action }),
      detail: words().t('main.discard.detail'),
      buttons: [action, words().t('common.cancel')],
      defaultId: 1,
      cancelId: 1,
    });
    return response === 0;
  };

  const saveFile = async (title: string, defaultName: string, filter: { name: string; extension: '.png' | '.csv' }, data: string | Uint8Array): Promise<void> => {
    const window = liveWindow();
    const options = {
      title,
      defaultPath: path.join(app.getPath(filter.extension === '.png' ? 'pictures' : 'documents'), defaultName),
      filters: [{ name: filter.name, extensions: [filter.extension.slice(1)] }],
    };
    const chosen = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
    if (chosen.canceled || !chosen.filePath) return;
    const target = withExtension(chosen.filePath, filter.extension);
    try {
      await writeFileAtomic(target, data);
    } catch (e) {
      await showError(words().t('main.write.failed'), words().t('main.write.failedDetail', { path: target, detail: e instanceof Error ? e.message : String(e) }));
    }
  };

  const showFolder = async (folder: string, what: string): Promise<void> => {
    await fs.mkdir(folder, { recursive: true });
    const problem = await shell.openPath(folder);
    if (problem) await showError(what, `${folder}: ${problem}`);
  };

  const actions: MenuActions = {
    // The renderer's model picker lists saved and built-in models and offers the folder dialog (openModelDialog).
    openModel: () => sendMenuCommand({ command: 'open-model' }),
    saveModel: () => sendMenuCommand({ command: 'save-model' }),
    showModelsFolder: () => void showFolder(layout.modelsDir, words().t('main.folder.models')),
    openLogFolder: () => void showFolder(logFolder, words().t('main.folder.log')),
    exportViewPng: () => void (async () => {
      const window = liveWindow();
      if (!window) return;
      const image = await window.webContents.capturePage();
      await saveFile(words().t('menu.file.exportPng'), exportFileName('view', new Date()), { name: words().t('main.save.filter.png'), extension: '.png' }, image.toPNG());
    })(),
    exportHistoryCsv: () => void (async () => {
      const csv = await hostCall('historyCsv', {});
      if (!csv.ok) return void (await showError(words().t('main.history.failed'), csv.error.message));
      if (!csvHasRows(csv.value)) return void (await messageBox({ type: 'info', message: words().t('main.history.none'), detail: words().t('main.history.noneDetail'), buttons: [words().t('aboutBox.ok')] }));
      await saveFile(words().t('menu.file.exportCsv'), exportFileName('history', new Date()), { name: words().t('main.save.filter.csv'), extension: '.csv' }, csv.value);
    })(),
    navigate: (view) => sendMenuCommand({ command: 'navigate', view }),
    startOrPause: () => sendMenuCommand({ command: 'start-or-pause' }),
    startLesson: () => sendMenuCommand({ command: 'start-lesson' }),
    stopTraining: () => void (async () => {
      const result = await hostCall('stop', {});
      if (!result.ok) await showError(words().t('main.stop.failed'), result.error.message);
    })(),
    restartTrainer: () => void (async () => {
      if (!(await confirmDiscard(words().t('menu.train.restart')))) return;
      await hostCall('restartTrainer', {});
    })(),
    setTheme: (next) => {
      theme = next;
      nativeTheme.themeSource = next;
      setMenu();
    },
    glossary: () => sendMenuCommand({ command: 'glossary' }),
    // The page switches, remembers the choice and answers with setLanguage, which rebuilds this menu.
    setLocale: (next) => {
      locale = next;
      setMenu();
      sendMenuCommand({ command: 'set-language', locale: next });
    },
    about: () => void (async () => {
      const info = await hostCall('info', {});
      const runtime = { app: app.getVersion(), electron: process.versions.electron, chrome: process.versions.chrome, node: process.versions.node };
      const lab = createLabIntl(locale);
      const detail = aboutDetail(runtime, info.ok ? info.value : null, info.ok ? null : info.error.message, lab);
      const response = await messageBox({
        type: 'info',
        title: lab.t('about.title'),
        message: 'LeNet Lab',
        detail,
        buttons: [lab.t('aboutBox.ok'), lab.t('aboutBox.readPaper')],
        defaultId: 0,
        cancelId: 0,
      });
      if (response === 1) await openExternalSafely(shell, PAPER_URL);
    })(),
  };

  function setMenu(): void {
    Menu.setApplicationMenu(Menu.buildFromTemplate(buildMenuTemplate({ platform: process.platform, isDev, appName: 'LeNet Lab', theme, locale, actions })));
  }

  const confirmQuit = async (window: BrowserWindow): Promise<void> => {
    if (quitPromptOpen) return;
    quitPromptOpen = true;
    try {
      const choice = quitChoice((await dialog.showMessageBox(window, quitPrompt(words()))).response);
      if (choice === 'cancel') return;
      if (choice === 'save') {
        const saved = await hostCall('saveModel', { name: defaultModelName(unsaved.unsavedVariant, new Date()) });
        if (!saved.ok) {
          await showError(words().t('main.quit.saveFailed'), saved.error.message);
          return;
        }
      }
      allowClose = true;
      app.quit();
    } finally {
      quitPromptOpen = false;
    }
  };

  const openWindow = async (): Promise<BrowserWindow> => {
    const saved = await loadWindowState(layout.windowStateFile);
    theme = saved?.theme ?? 'system';
    nativeTheme.themeSource = theme;
    const fitted = fitToDisplays(saved, [screen.getPrimaryDisplay(), ...screen.getAllDisplays()].map((display) => display.workArea));
    const wayland = isNativeWayland(process.platform, process.env, app.commandLine.getSwitchValue('ozone-platform'));
    const placement = wayland ? withoutPosition(fitted) : fitted;
    const window = createMainWindow({ preloadPath: layout.preloadPath, placement, isDev });
    mainWindow = window;
    watchPageLoad(window, { log, failure: { logFolder, appVersion: app.getVersion() }, isAppUrl: (url) => url.startsWith(`${APP_ORIGIN}/`) });
    trackWindowState(window, layout.windowStateFile, () => theme, log, wayland ? (state) => keepSavedPosition(state, saved) : undefined);
    window.on('close', (event) => {
      if (allowClose || !unsaved.hasUnsavedModel) return;
      event.preventDefault();
      void confirmQuit(window);
    });
    window.on('closed', () => {
      if (mainWindow === window) mainWindow = null;
    });
    window.webContents.on('render-process-gone', (_event, details) => {
      log(`the window's renderer stopped (${details.reason})`);
      if (details.reason === 'clean-exit') return;
      void messageBox({
        type: 'error',
        message: words().t('main.gone.message'),
        detail: words().t('main.gone.detail', { reason: details.reason }),
        buttons: [words().t('main.gone.reload'), words().t('main.quit.quit')],
        defaultId: 0,
        cancelId: 1,
      }).then((response) => (response === 0 ? liveWindow()?.webContents.reload() : app.quit()));
    });
    setMenu();
    return window;
  };

  /** LENET_LAB_SELF_TEST: the checks of main/self-test.ts on this window and trainer, then exit 0 or 1. */
  const selfTest = async (window: BrowserWindow, reportPath: string, pageLoaded: Promise<void>): Promise<void> => {
    const host: SelfTestHost = {
      call: hostCall,
      pageLoaded: () => pageLoaded,
      inspectPage: () => window.webContents.executeJavaScript(
        '({ url: location.href, labKeys: Object.keys(globalThis.lab ?? {}), requireType: typeof require, processType: typeof process })'),
      nextTrainerEvent: (match) => new Promise((resolve) => {
        const listener = (event: TrainerEvent): void => {
          const plain = event as unknown as { type: string } & Record<string, unknown>;
          if (!match(plain)) return;
          trainerEventListeners.delete(listener);
          resolve(plain);
        };
        trainerEventListeners.add(listener);
      }),
      screenshot: async () => (window.isDestroyed() ? null : (await window.webContents.capturePage()).toPNG()),
      modelsDir: layout.modelsDir,
      logFile: logFile.file,
      runtime: {
        app: app.getVersion(), electron: process.versions.electron, chrome: process.versions.chrome, node: process.versions.node,
        platform: process.platform, arch: process.arch, packaged: app.isPackaged, resourcesPath: process.resourcesPath,
        // AppRun adds --no-sandbox where Linux user namespaces are blocked (README, "Installing").
        chromiumSandbox: !app.commandLine.hasSwitch('no-sandbox'),
      },
    };
    const report = await runSelfTest(host, reportPath);
    for (const check of report.checks) log(`self-test ${check.ok ? 'ok' : 'FAILED'} ${check.name}: ${check.detail}`);
    log(`self-test ${report.ok ? 'passed' : 'failed'}; report in ${reportPath}`);
    app.exit(report.ok ? 0 : 1);
  };

  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, onBlocked));
  app.on('session-created', (created) => denyAllPermissions(created, onBlocked));
  app.on('second-instance', () => {
    const window = liveWindow();
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => client.dispose());

  void app.whenReady().then(async () => {
    denyAllPermissions(session.defaultSession, onBlocked);
    protocol.handle(APP_SCHEME, createAppProtocolHandler(layout.rendererDir));
    registerInvokeHandlers(ipcMain, { handler, gate: windowSenderGate(liveWindow), onResult });
    client.start();
    const window = await openWindow();
    if (selfTestReport) {
      const pageLoaded = new Promise<void>((resolve, reject) => {
        window.webContents.once('did-finish-load', () => resolve());
        window.webContents.on('did-fail-load', (_event, code, description, url, isMainFrame) => {
          if (isMainFrame && code !== -3) reject(new Error(`${description} (${code}) for ${url}`));
        });
      });
      await selfTest(window, selfTestReport, pageLoaded);
    }
  }).catch((e: unknown) => {
    log(`could not start: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    if (!selfTestReport) dialog.showErrorBox(words().t('main.startFailed'), e instanceof Error ? e.message : String(e));
    app.exit(1);
  });
}
