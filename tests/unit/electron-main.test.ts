// main/main.ts, the glue, run against an in-memory stand-in for the electron
// module: what it sets up before and after 'ready', how IPC, worker events,
// the taskbar, the menu and the quit prompt are wired. The stand-in records
// calls and plays the OS's part (dialogs answer, windows close).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { INVOKE_NAMES, eventChannelId, invokeChannelId, type ModelSummary } from '../../common/contract.js';

const fake = vi.hoisted(() => {
  // vi.hoisted runs before imports: only what is required inside is available.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EventEmitter: Emitter } = require('node:events') as typeof import('node:events');
  const calls: string[] = [];
  const state = {
    userData: '',
    appPath: '',
    windows: [] as unknown[],
    messageBoxResponses: [] as number[],
    messageBoxes: [] as { message?: string; buttons?: string[] }[],
    workers: [] as unknown[],
    ipcHandlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
    protocolHandlers: new Map<string, unknown>(),
    privileged: [] as unknown[],
    menu: null as unknown,
    permissionHandlers: {} as Record<string, unknown>,
    openedExternal: [] as string[],
    openedPaths: [] as string[],
    /** Worker answers by channel; a function gets the request. */
    answers: {} as Record<string, unknown>,
    received: [] as { name: string; request: unknown }[],
  };

  class FakeContents extends Emitter {
    readonly mainFrame = { url: 'app://lenet-lab/index.html' };
    readonly sent: [string, unknown][] = [];
    windowOpenHandler: unknown = null;
    send(channel: string, payload: unknown): void { this.sent.push([channel, payload]); }
    isDestroyed(): boolean { return false; }
    setWindowOpenHandler(handler: unknown): void { this.windowOpenHandler = handler; }
    reload(): void { calls.push('reload'); }
    capturePage(): Promise<{ toPNG(): Uint8Array }> { return Promise.resolve({ toPNG: () => new Uint8Array([137, 80, 78, 71]) }); }
  }
  class FakeWindow extends Emitter {
    readonly webContents = new FakeContents();
    readonly progress: [number, unknown][] = [];
    loadedUrl = '';
    destroyed = false;
    constructor(readonly options: Record<string, unknown>) {
      super();
      state.windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    loadURL(url: string): Promise<void> { this.loadedUrl = url; return Promise.resolve(); }
    isDestroyed(): boolean { return this.destroyed; }
    visible = false;
    isVisible(): boolean { return this.visible; }
    show(): void { this.visible = true; }
    maximize(): void {}
    setFullScreen(): void {}
    isMinimized(): boolean { return false; }
    restore(): void {}
    focus(): void {}
    getNormalBounds() { return { x: 10, y: 20, width: 1100, height: 700 }; }
    isMaximized(): boolean { return false; }
    isFullScreen(): boolean { return false; }
    setProgressBar(fraction: number, options: unknown): void { this.progress.push([fraction, options]); }
    /** The user clicks the close button: returns whether the window really closed. */
    tryClose(): boolean {
      let prevented = false;
      this.emit('close', { preventDefault: () => { prevented = true; } });
      if (!prevented) {
        this.destroyed = true;
        this.emit('closed');
      }
      return !prevented;
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PassThrough } = require('node:stream') as typeof import('node:stream');
  class FakeChild extends Emitter {
    readonly stdout = new PassThrough();
    readonly stderr = new PassThrough();
    constructor(readonly modulePath: string, readonly options: Record<string, unknown>) {
      super();
      state.workers.push(this);
    }
    postMessage(message: { kind: string; id: number; name: string; request: unknown }): void {
      state.received.push({ name: message.name, request: message.request });
      const answer = state.answers[message.name];
      const value = typeof answer === 'function' ? (answer as (r: unknown) => unknown)(message.request) : answer;
      queueMicrotask(() => this.emit('message', { kind: 'result', id: message.id, result: { ok: true, value } }));
    }
    kill(): boolean { queueMicrotask(() => this.emit('exit', 15)); return true; }
  }

  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    enableSandbox: () => calls.push('enableSandbox'),
    setPath: () => {},
    getPath: (name: string) => {
      // main.ts asks for userData at import (the log folder): the temp folder exists by then.
      if (!state.userData) state.userData = mkdtemp(path.join(os.tmpdir(), 'lenet-main-'));
      return name === 'userData' ? state.userData : path.join(state.userData, name);
    },
    getAppPath: () => state.appPath,
    // X11, whatever the machine running the tests uses: the saved position below is asserted.
    commandLine: { getSwitchValue: (name: string) => (name === 'ozone-platform' ? 'x11' : ''), hasSwitch: () => false },
    getVersion: () => '0.1.0',
    getPreferredSystemLanguages: () => ['en-US', 'zh-Hans-CN'],
    getLocale: () => 'en-US',
    requestSingleInstanceLock: () => { calls.push('requestSingleInstanceLock'); return true; },
    whenReady: () => new Promise<void>((resolve) => setTimeout(() => { calls.push('ready'); resolve(); }, 5)),
    quit: () => calls.push('quit'),
    exit: (code: number) => calls.push(`exit ${code}`),
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const path = require('node:path') as typeof import('node:path');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const os = require('node:os') as typeof import('node:os');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mkdtemp = (require('node:fs') as typeof import('node:fs')).mkdtempSync;

  const electron = {
    app,
    BrowserWindow: FakeWindow,
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => { calls.push('registerSchemesAsPrivileged'); state.privileged.push(...schemes); },
      handle: (scheme: string, handler: unknown) => { calls.push(`protocol.handle ${scheme}`); state.protocolHandlers.set(scheme, handler); },
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: unknown) => { state.permissionHandlers.request = h; },
        setPermissionCheckHandler: (h: unknown) => { state.permissionHandlers.check = h; },
        setDevicePermissionHandler: (h: unknown) => { state.permissionHandlers.device = h; },
        setDisplayMediaRequestHandler: (h: unknown) => { state.permissionHandlers.displayMedia = h; },
        setBluetoothPairingHandler: (h: unknown) => { state.permissionHandlers.bluetoothPairing = h; },
        on: (event: string, h: unknown) => { state.permissionHandlers[event] = h; },
      },
    },
    ipcMain: {
      handle: (channel: string, handler: (event: unknown, ...args: unknown[]) => unknown) => state.ipcHandlers.set(channel, handler),
      removeHandler: (channel: string) => state.ipcHandlers.delete(channel),
    },
    dialog: {
      showMessageBox: async (_window: unknown, options: { message?: string; buttons?: string[] }) => {
        state.messageBoxes.push(options);
        return { response: state.messageBoxResponses.shift() ?? 0 };
      },
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      showSaveDialog: async () => ({ canceled: true }),
      showErrorBox: (title: string) => calls.push(`errorBox ${title}`),
    },
    Menu: {
      buildFromTemplate: (template: unknown) => template,
      setApplicationMenu: (menu: unknown) => { state.menu = menu; },
    },
    nativeTheme: { themeSource: 'system', shouldUseDarkColors: false },
    screen: {
      getPrimaryDisplay: () => ({ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }),
      getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
    },
    shell: {
      openExternal: async (url: string) => { state.openedExternal.push(url); },
      openPath: async (folder: string) => { state.openedPaths.push(folder); return ''; },
    },
    utilityProcess: { fork: (modulePath: string, _args: string[], options: Record<string, unknown>) => new FakeChild(modulePath, options) },
  };
  return { calls, state, electron, FakeWindow, FakeChild };
});

vi.mock('electron', () => fake.electron);

type Window = InstanceType<typeof fake.FakeWindow>;
type Child = InstanceType<typeof fake.FakeChild>;
const summary: ModelSummary = {
  name: 'x', dir: '/m/x', variant: 'lenet5', dataset: 'MNIST', backend: 'cpu', testAccuracy: 0.98,
  savedAt: '2025-01-01T00:00:00.000Z', builtin: false, unsaved: false,
};
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const window = (): Window => fake.state.windows[0] as Window;
const worker = (): Child => fake.state.workers.at(-1) as Child;
const fromOurFrame = () => ({ sender: window().webContents, senderFrame: window().webContents.mainFrame });
const menuItem = (label: string): { click: () => void } => {
  const walk = (items: { label?: string; submenu?: unknown }[]): unknown =>
    items.map((item) => (item.label === label ? item : Array.isArray(item.submenu) ? walk(item.submenu as never[]) : null)).find(Boolean);
  const found = walk(fake.state.menu as never[]);
  if (!found) throw new Error(`no menu item ${label}`);
  return found as { click: () => void };
};

beforeAll(async () => {
  fake.state.appPath = '/repo';
  fake.state.answers = {
    info: { appVersion: '0.1.0', transport: 'electron', backend: 'cpu', backendNote: 'test', versions: { 'tfjs-core': '4.22.0' },
      dataset: { name: 'MNIST', dir: '/mnist', trainCount: 60000, testCount: 10000 }, modelsDir: '/m', canOpenDialogs: true },
    status: { phase: 'idle', runId: null },
    saveModel: (request: { name: string }) => ({ ...summary, name: request.name }),
  };
  await import('../../main/main.js');
  await vi.waitFor(() => expect(fake.state.windows).toHaveLength(1));
});
afterAll(async () => {
  await new Promise((resolve) => setTimeout(resolve, 200)); // let the window-state writes of the close attempts finish
  rmSync(fake.state.userData, { recursive: true, force: true });
});

describe('main process wiring', () => {
  it('logs main\'s lines and both of the trainer\'s streams to <userData>/logs, and Help opens that folder', async () => {
    const logFile = path.join(fake.state.userData, 'logs', 'lenet-lab.log');
    worker().stdout.write('backend: wasm\n');
    worker().stderr.write('a warning from tfjs\n');
    await vi.waitFor(() => {
      const text = readFileSync(logFile, 'utf8');
      expect(text).toMatch(/\[main\] LeNet Lab 0\.1\.0 starting/);
      expect(text).toMatch(/\[trainer stdout\] backend: wasm\n/);
      expect(text).toMatch(/\[trainer stderr\] a warning from tfjs\n/);
    });
    menuItem('Open Log Folder').click();
    await vi.waitFor(() => expect(fake.state.openedPaths).toContain(path.join(fake.state.userData, 'logs')));
  });

  it('a page that fails to load shows the error page in a visible window, naming the log folder', async () => {
    const win = window();
    win.webContents.emit('did-fail-load', {}, -3, 'ERR_ABORTED', 'app://lenet-lab/index.html', true); // replaced by another load: not a failure
    win.webContents.emit('did-fail-load', {}, -6, 'ERR_FILE_NOT_FOUND', 'https://x.example/frame', false); // a subframe
    expect(win.loadedUrl).toBe('app://lenet-lab/index.html');
    win.webContents.emit('did-fail-load', {}, -6, 'ERR_FILE_NOT_FOUND', 'app://lenet-lab/index.html', true);
    expect(win.loadedUrl).toMatch(/^data:text\/html/);
    const page = decodeURIComponent(win.loadedUrl.slice(win.loadedUrl.indexOf(',') + 1));
    expect(page).toContain('ERR_FILE_NOT_FOUND (-6)');
    expect(page).toContain(path.join(fake.state.userData, 'logs'));
    await vi.waitFor(() => expect(win.isVisible()).toBe(true));
    win.loadedUrl = 'app://lenet-lab/index.html'; // the later tests expect the app's page
  });

  it('sandboxes and registers app:// before ready, then serves it', () => {
    const { calls } = fake;
    expect(calls.indexOf('enableSandbox')).toBeLessThan(calls.indexOf('ready'));
    expect(calls.indexOf('registerSchemesAsPrivileged')).toBeLessThan(calls.indexOf('ready'));
    expect(calls.indexOf('requestSingleInstanceLock')).toBeGreaterThanOrEqual(0);
    expect(fake.state.privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(fake.state.protocolHandlers.has('app')).toBe(true);
  });

  it('opens one hardened window on app://lenet-lab/', () => {
    const win = window();
    expect(win.loadedUrl).toBe('app://lenet-lab/index.html');
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false,
      allowRunningInsecureContent: false, preload: path.join('/repo', 'dist', 'preload', 'preload.cjs'),
    });
    expect(win.webContents.listenerCount('will-navigate')).toBe(1);
    expect((win.webContents.windowOpenHandler as (d: { url: string }) => unknown)({ url: 'https://x.example/' })).toEqual({ action: 'deny' });
    const callback = vi.fn();
    (fake.state.permissionHandlers.request as (...a: unknown[]) => void)({}, 'media', callback);
    expect(callback).toHaveBeenCalledWith(false);
  });

  it('starts the trainer as a utility process with the electron transport', () => {
    expect(worker().modulePath).toBe(path.join('/repo', 'dist', 'hosts', 'worker-entry.js'));
    expect(worker().options).toMatchObject({ serviceName: 'LeNet Lab trainer', env: { LENET_LAB_TRANSPORT: 'electron', LENET_LAB_ASSETS_DIR: path.join('/repo', 'assets') } });
  });

  it('answers IPC from our main frame only, through the worker', async () => {
    expect([...fake.state.ipcHandlers.keys()].sort()).toEqual(INVOKE_NAMES.map(invokeChannelId).sort());
    const info = fake.state.ipcHandlers.get(invokeChannelId('info'))!;
    await expect(info(fromOurFrame(), {})).resolves.toMatchObject({ ok: true, value: { transport: 'electron' } });
    const foreign = { sender: window().webContents, senderFrame: { url: 'https://evil.example/' } };
    await expect(info(foreign, {})).resolves.toMatchObject({ ok: false, error: { code: 'bad-sender' } });
    await expect(info(fromOurFrame(), { extra: 1 })).resolves.toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('relays trainer events to the page and drives the taskbar progress', () => {
    const started = { type: 'started', runId: 'r', variant: 'lenet5', backend: 'cpu', dataset: 'MNIST', trainCount: 64, testCount: 10,
      batchesPerEpoch: 2, seed: 1, recipe: { optimizer: 'sgd', learningRate: 0.1, momentum: 0, batchSize: 32, epochs: 1, lrDecay: 1 } };
    worker().emit('message', { kind: 'event', name: 'trainerEvent', payload: started });
    worker().emit('message', { kind: 'event', name: 'trainerEvent', payload: { type: 'batch', runId: 'r', epoch: 1, batch: 1, batchesPerEpoch: 2, loss: 1, accuracy: 0.5, imagesPerSecond: 10, step: 1 } });
    worker().emit('message', { kind: 'event', name: 'trainerEvent', payload: { type: 'state', runId: 'r', phase: 'paused' } });
    expect(window().progress).toEqual([[0, { mode: 'normal' }], [0.5, { mode: 'normal' }], [0.5, { mode: 'paused' }]]);
    expect(window().webContents.sent.filter(([channel]) => channel === eventChannelId('trainerEvent'))).toHaveLength(3);
  });

  it('sends menu commands to the page', () => {
    menuItem('Draw').click();
    menuItem('Save Model…').click();
    expect(window().webContents.sent.slice(-2)).toEqual([
      [eventChannelId('menuCommand'), { command: 'navigate', view: 'draw' }],
      [eventChannelId('menuCommand'), { command: 'save-model' }],
    ]);
  });

  it('the About box links to the paper through the vetted path only', async () => {
    fake.state.messageBoxResponses.push(1);
    menuItem('About LeNet Lab').click();
    await vi.waitFor(() => expect(fake.state.openedExternal).toEqual(['https://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf']));
    expect(fake.state.messageBoxes.at(-1)?.message).toBe('LeNet Lab');
  });

  it('closes without asking while nothing trained is unsaved', () => {
    expect(fake.state.messageBoxes.filter((box) => box.message?.startsWith('Quit'))).toHaveLength(0);
  });

  it('a trainer crash reaches the page and turns the taskbar red', () => {
    worker().emit('message', { kind: 'event', name: 'trainerEvent', payload: { type: 'started', runId: 'r2', variant: 'seed', backend: 'cpu', dataset: 'MNIST',
      trainCount: 64, testCount: 10, batchesPerEpoch: 2, seed: 1, recipe: { optimizer: 'sgd', learningRate: 0.1, momentum: 0, batchSize: 32, epochs: 1, lrDecay: 1 } } });
    worker().emit('exit', 134);
    expect(window().webContents.sent.at(-1)).toEqual([eventChannelId('trainerCrashed'), expect.objectContaining({ exitCode: 134 })]);
    expect(window().progress.at(-1)).toEqual([0.01, { mode: 'error' }]);
  });

  it('restartTrainer starts a fresh utility process and clears the taskbar', async () => {
    const before = fake.state.workers.length;
    const restart = fake.state.ipcHandlers.get(invokeChannelId('restartTrainer'))!;
    await expect(restart(fromOurFrame(), {})).resolves.toEqual({ ok: true, value: { phase: 'idle', runId: null } });
    expect(fake.state.workers).toHaveLength(before + 1);
    expect(window().progress.at(-1)).toEqual([-1, { mode: 'none' }]);
    const status = fake.state.ipcHandlers.get(invokeChannelId('status'))!;
    await expect(status(fromOurFrame(), {})).resolves.toMatchObject({ ok: true });
  });

  it('gives the page the system languages; the menu follows the page\'s language, and its Language menu switches the page', async () => {
    const system = fake.state.ipcHandlers.get(invokeChannelId('systemLanguages'))!;
    await expect(system(fromOurFrame(), {})).resolves.toEqual({ ok: true, value: ['en-US', 'zh-Hans-CN'] });
    const setLanguage = fake.state.ipcHandlers.get(invokeChannelId('setLanguage'))!;
    await expect(setLanguage(fromOurFrame(), { locale: 'fr' })).resolves.toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(() => menuItem('打开日志文件夹')).toThrow();
    await expect(setLanguage(fromOurFrame(), { locale: 'zh-CN' })).resolves.toEqual({ ok: true, value: {} });
    expect(() => menuItem('打开日志文件夹')).not.toThrow();
    expect(menuItem('简体中文')).toMatchObject({ type: 'radio', checked: true });
    menuItem('English').click();
    expect(window().webContents.sent.at(-1)).toEqual([eventChannelId('menuCommand'), { command: 'set-language', locale: 'en' }]);
    expect(() => menuItem('Open Log Folder')).not.toThrow();
    menuItem('Glossary').click();
    expect(window().webContents.sent.at(-1)).toEqual([eventChannelId('menuCommand'), { command: 'glossary' }]);
  });

  it('after a finished run, closing asks; Save saves under a default name and then quits', async () => {
    worker().emit('message', { kind: 'event', name: 'trainerEvent', payload: { type: 'started', runId: 'r3', variant: 'lenet5', backend: 'cpu', dataset: 'MNIST',
      trainCount: 64, testCount: 10, batchesPerEpoch: 2, seed: 1, recipe: { optimizer: 'sgd', learningRate: 0.1, momentum: 0, batchSize: 32, epochs: 1, lrDecay: 1 } } });
    worker().emit('message', { kind: 'event', name: 'trainerEvent', payload: {
      type: 'done', runId: 'r3', reason: 'completed', message: 'ok', testAccuracy: 0.9, testLoss: 0.3, backend: 'cpu', imagesPerSecond: 10, epochsCompleted: 1, seconds: 1 } });
    expect(window().progress.at(-1)).toEqual([-1, { mode: 'none' }]);

    fake.state.messageBoxResponses.push(2); // Cancel
    expect(window().tryClose()).toBe(false);
    await vi.waitFor(() => expect(fake.state.messageBoxes.at(-1)?.message).toBe('Quit without saving the trained model?'));
    await tick();
    expect(fake.calls).not.toContain('quit');

    fake.state.messageBoxResponses.push(0); // Save
    expect(window().tryClose()).toBe(false);
    await vi.waitFor(() => expect(fake.calls).toContain('quit'));
    const save = fake.state.received.filter((r) => r.name === 'saveModel');
    expect(save).toHaveLength(1);
    expect((save[0]!.request as { name: string }).name).toMatch(/^lenet5 \d{4}-\d\d-\d\d \d\d-\d\d$/);
    expect(window().tryClose()).toBe(true); // the quit that follows is not asked again
    // …and the window's place was saved for next time.
    const stateFile = path.join(fake.state.userData, 'window-state.json');
    await vi.waitFor(() => expect(existsSync(stateFile)).toBe(true));
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ bounds: { x: 10, y: 20, width: 1100, height: 700 } });
  });

});
