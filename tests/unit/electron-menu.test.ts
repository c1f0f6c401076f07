import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { aboutDetail, PAPER_URL } from '../../main/about.js';
import { csvHasRows, exportFileName, withExtension } from '../../main/export-files.js';
import { buildMenuTemplate, VIEW_MENU_ITEMS, type MenuActions, type MenuContext } from '../../main/menu.js';
import { isSafeExternalUrl } from '../../main/security.js';
import type { LabInfo } from '../../common/contract.js';
import { MenuCommand } from '../../common/contract.js';

const actions = (): MenuActions => ({
  openModel: vi.fn(), saveModel: vi.fn(), showModelsFolder: vi.fn(), exportViewPng: vi.fn(), exportHistoryCsv: vi.fn(),
  navigate: vi.fn(), startOrPause: vi.fn(), stopTraining: vi.fn(), restartTrainer: vi.fn(), setTheme: vi.fn(), about: vi.fn(),
  openLogFolder: vi.fn(), startLesson: vi.fn(),
});
const context = (over: Partial<MenuContext> = {}): MenuContext =>
  ({ platform: 'linux', isDev: false, appName: 'LeNet Lab', theme: 'system', actions: actions(), ...over });

/** Every item, depth first. */
function flatten(items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return items.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? flatten(item.submenu) : [])]);
}
const byLabel = (items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions => {
  const found = flatten(items).find((item) => item.label === label);
  if (!found) throw new Error(`no menu item "${label}"`);
  return found;
};
const click = (item: MenuItemConstructorOptions): void => (item.click as unknown as () => void)();

describe('buildMenuTemplate', () => {
  it.each(['linux', 'win32', 'darwin'] as const)('has File, Edit, View, Train and Help on %s, with unique shortcuts', (platform) => {
    const template = buildMenuTemplate(context({ platform }));
    const labels = template.map((item) => item.label ?? item.role);
    expect(labels).toEqual(expect.arrayContaining(['&File', '&Edit', '&View', '&Train', 'help']));
    if (platform === 'darwin') expect(labels[0]).toBe('LeNet Lab');
    const accelerators = flatten(template).map((item) => item.accelerator).filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it.each(['linux', 'win32', 'darwin'] as const)('Help offers Start the Lesson and Open Log Folder on %s, in packaged builds too', (platform) => {
    const help = buildMenuTemplate(context({ platform, isDev: false })).find((item) => item.role === 'help')!;
    expect((help.submenu as MenuItemConstructorOptions[]).map((item) => item.label ?? item.type)).toEqual(['Start the Lesson', 'separator', 'Open Log Folder', 'separator', 'About LeNet Lab']);
  });

  it('File commands call their actions', () => {
    const ctx = context();
    const template = buildMenuTemplate(ctx);
    const expectations: [string, keyof MenuActions, string | undefined][] = [
      ['Open Model…', 'openModel', 'CmdOrCtrl+O'],
      ['Save Model…', 'saveModel', 'CmdOrCtrl+S'],
      ['Export View as PNG…', 'exportViewPng', 'CmdOrCtrl+Shift+E'],
      ['Export Training History as CSV…', 'exportHistoryCsv', undefined],
      ['Show Models Folder', 'showModelsFolder', undefined],
      ['Start / Pause', 'startOrPause', 'CmdOrCtrl+Enter'],
      ['Stop', 'stopTraining', undefined],
      ['Restart Trainer', 'restartTrainer', undefined],
      ['About LeNet Lab', 'about', undefined],
      ['Open Log Folder', 'openLogFolder', undefined],
      ['Start the Lesson', 'startLesson', undefined],
    ];
    for (const [label, action, accelerator] of expectations) {
      const item = byLabel(template, label);
      expect(item.accelerator, label).toBe(accelerator);
      click(item);
      expect(ctx.actions[action], label).toHaveBeenCalledTimes(1);
    }
  });

  it('View has the six views on Ctrl/Cmd+1…6, each a valid navigate command', () => {
    const ctx = context();
    const template = buildMenuTemplate(ctx);
    expect(VIEW_MENU_ITEMS.map((item) => item.accelerator)).toEqual(['1', '2', '3', '4', '5', '6'].map((d) => `CmdOrCtrl+${d}`));
    for (const { label, view, accelerator } of VIEW_MENU_ITEMS) {
      const item = byLabel(template, label);
      expect(item.accelerator).toBe(accelerator);
      click(item);
      expect(ctx.actions.navigate).toHaveBeenLastCalledWith(view);
      expect(MenuCommand.safeParse({ command: 'navigate', view }).success).toBe(true);
    }
  });

  it('Start the Lesson sends a command the contract accepts', () => {
    expect(MenuCommand.safeParse({ command: 'start-lesson' }).success).toBe(true);
    expect(MenuCommand.safeParse({ command: 'start-lesson', step: 'cnn' }).success).toBe(false);
  });

  it('reload and developer tools exist only in development', () => {
    const roles = (isDev: boolean) => flatten(buildMenuTemplate(context({ isDev }))).map((item) => item.role).filter(Boolean);
    for (const role of ['reload', 'forceReload', 'toggleDevTools']) {
      expect(roles(false)).not.toContain(role);
      expect(roles(true)).toContain(role);
    }
    expect(roles(false)).toEqual(expect.arrayContaining(['resetZoom', 'zoomIn', 'zoomOut', 'togglefullscreen', 'copy', 'paste']));
  });

  it('the theme radio reflects the current choice and sets a new one', () => {
    const ctx = context({ theme: 'dark' });
    const template = buildMenuTemplate(ctx);
    expect(byLabel(template, 'Dark').checked).toBe(true);
    expect(byLabel(template, 'Follow System').checked).toBe(false);
    click(byLabel(template, 'Light'));
    expect(ctx.actions.setTheme).toHaveBeenCalledWith('light');
  });

  it('quits from File on Windows/Linux and from the app menu on macOS', () => {
    const fileRoles = (platform: NodeJS.Platform) => {
      const file = buildMenuTemplate(context({ platform })).find((item) => item.label === '&File')!;
      return (file.submenu as MenuItemConstructorOptions[]).map((item) => item.role).filter(Boolean);
    };
    expect(fileRoles('win32')).toContain('quit');
    expect(fileRoles('darwin')).toEqual(['close']);
    const appMenu = buildMenuTemplate(context({ platform: 'darwin' }))[0]!;
    expect((appMenu.submenu as MenuItemConstructorOptions[]).map((item) => item.role)).toContain('quit');
  });
});

describe('About box', () => {
  const info: LabInfo = {
    appVersion: '0.1.0', transport: 'electron', backend: 'wasm', backendNote: 'tfjs-node is not installed',
    versions: { 'tfjs-core': '4.22.0', 'tfjs-backend-wasm': '4.22.0', zod: '4.1.0' },
    dataset: { name: 'MNIST', dir: '/r/mnist', trainCount: 60000, testCount: 10000 }, modelsDir: '/u/models', canOpenDialogs: true,
  };
  const runtime = { app: '0.1.0', electron: '39.8.10', chrome: '142.0.0.0', node: '22.20.0' };

  it('lists the app, Electron, Chromium, Node and tfjs versions and the backend', () => {
    const text = aboutDetail(runtime, info);
    for (const line of ['Version 0.1.0', 'Electron 39.8.10', 'Chromium 142.0.0.0', 'Node.js 22.20.0', 'tfjs-backend-wasm 4.22.0', 'tfjs-core 4.22.0',
      'Backend: wasm (tfjs-node is not installed)', 'Dataset: MNIST, 60,000 training and 10,000 test images']) {
      expect(text).toContain(line);
    }
    expect(text).not.toContain('zod');
  });

  it('says why the backend is unknown when the trainer does not answer', () => {
    expect(aboutDetail(runtime, null, 'The trainer is not running.')).toContain('Backend: unknown (The trainer is not running.)');
  });

  it('links only to an https URL', () => {
    expect(PAPER_URL.startsWith('https://')).toBe(true);
    expect(isSafeExternalUrl(PAPER_URL)).toBe(true);
  });
});

describe('export files', () => {
  it('names exports by kind and time', () => {
    const now = new Date(2025, 0, 2, 3, 4);
    expect(exportFileName('view', now)).toBe('LeNet Lab view 2025-01-02 03-04.png');
    expect(exportFileName('history', now)).toBe('LeNet Lab training history 2025-01-02 03-04.csv');
  });

  it('adds a missing extension', () => {
    expect(withExtension('/home/u/run', '.csv')).toBe('/home/u/run.csv');
    expect(withExtension('/home/u/run.CSV', '.csv')).toBe('/home/u/run.CSV');
    expect(withExtension('/home/u/run.png', '.csv')).toBe('/home/u/run.png.csv');
  });

  it('knows an empty history', () => {
    expect(csvHasRows('epoch,trainLoss\n')).toBe(false);
    expect(csvHasRows('')).toBe(false);
    expect(csvHasRows('epoch,trainLoss\n1,0.5\n')).toBe(true);
  });
});
