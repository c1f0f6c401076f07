import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { aboutDetail, PAPER_URL } from '../../main/about.js';
import { csvHasRows, exportFileName, withExtension } from '../../main/export-files.js';
import { buildMenuTemplate, VIEW_MENU_ITEMS, type MenuActions, type MenuContext } from '../../main/menu.js';
import { isSafeExternalUrl } from '../../main/security.js';
import type { LabInfo } from '../../common/contract.js';
import { MenuCommand } from '../../common/contract.js';
import { createLabIntl } from '../../common/i18n/index.js';

const actions = (): MenuActions => ({
  openModel: vi.fn(), saveModel: vi.fn(), showModelsFolder: vi.fn(), exportViewPng: vi.fn(), exportHistoryCsv: vi.fn(),
  navigate: vi.fn(), startOrPause: vi.fn(), stopTraining: vi.fn(), restartTrainer: vi.fn(), setTheme: vi.fn(), about: vi.fn(),
  openLogFolder: vi.fn(), glossary: vi.fn(), setLocale: vi.fn(), startLesson: vi.fn(),
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
    expect(labels).toEqual(expect.arrayContaining(['&File', '&Edit', '&View', '&Train', '&Help']));
    if (platform === 'darwin') expect(labels[0]).toBe('LeNet Lab');
    const accelerators = flatten(template).map((item) => item.accelerator).filter(Boolean);
    expect(new Set(accelerators).size).toBe(accelerators.length);
  });

  it.each(['linux', 'win32', 'darwin'] as const)('Help offers Start the Lesson and Open Log Folder on %s, in packaged builds too', (platform) => {
    const help = buildMenuTemplate(context({ platform, isDev: false })).find((item) => item.role === 'help')!;
    expect((help.submenu as MenuItemConstructorOptions[]).map((item) => item.label ?? item.type)).toEqual(['Start the Lesson', 'Glossary', 'separator', 'Open Log Folder', 'separator', 'About LeNet Lab']);
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

  it('View has the seven views on Ctrl/Cmd+1…7, each a valid navigate command', () => {
    const ctx = context();
    const template = buildMenuTemplate(ctx);
    expect(VIEW_MENU_ITEMS.map((item) => item.accelerator)).toEqual(['1', '2', '3', '4', '5', '6', '7'].map((d) => `CmdOrCtrl+${d}`));
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

describe('the menu in Chinese', () => {
  const zh = (over: Partial<MenuContext> = {}) => buildMenuTemplate(context({ locale: 'zh-CN', ...over }));

  it('words every item it labels in Chinese, keeping the access keys and shortcuts', () => {
    const template = zh({ platform: 'win32' });
    expect(template.map((item) => item.label)).toEqual(['文件(&F)', '编辑(&E)', '视图(&V)', '训练(&T)', '帮助(&H)']);
    const labels = flatten(template).map((item) => item.label).filter((label): label is string => label !== undefined);
    // Only names stay as they are: the app's, the file formats' and English as named in itself.
    expect(labels.filter((label) => /[A-Za-z]{3,}/.test(label.replace(/LeNet Lab|PNG|CSV|^English$/g, '')))).toEqual([]);
    expect(byLabel(template, '打开模型…').accelerator).toBe('CmdOrCtrl+O');
    expect(byLabel(template, '特征图').accelerator).toBe('CmdOrCtrl+4');
  });

  it('View > Language lists each language in itself, checks the active one and switches through setLocale', () => {
    const ctx = context({ locale: 'zh-CN' });
    const language = byLabel(buildMenuTemplate(ctx), '语言');
    const items = language.submenu as MenuItemConstructorOptions[];
    expect(items.map((item) => [item.label, item.checked])).toEqual([['English', false], ['简体中文', true]]);
    (items[0]!.click as () => void)();
    expect(ctx.actions.setLocale).toHaveBeenCalledWith('en');
    expect(byLabel(buildMenuTemplate(context()), 'English').checked).toBe(true);
  });

  it('Help > Glossary opens the glossary', () => {
    const ctx = context({ locale: 'zh-CN' });
    (byLabel(buildMenuTemplate(ctx), '术语表').click as () => void)();
    expect(ctx.actions.glossary).toHaveBeenCalledTimes(1);
  });

  it('the menu commands for the glossary and the language are part of the contract', () => {
    expect(MenuCommand.safeParse({ command: 'glossary' }).success).toBe(true);
    expect(MenuCommand.safeParse({ command: 'set-language', locale: 'zh-CN' }).success).toBe(true);
    expect(MenuCommand.safeParse({ command: 'set-language', locale: 'zh-TW' }).success).toBe(false);
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

  it('speaks the active language', () => {
    const text = aboutDetail(runtime, info, null, createLabIntl('zh-CN'));
    for (const line of ['版本 0.1.0', 'Electron 39.8.10', '计算后端：wasm（tfjs-node is not installed）', '数据集：MNIST，训练图像 60,000 张，测试图像 10,000 张',
      '模型文件夹：/u/models']) {
      expect(text).toContain(line);
    }
    expect(aboutDetail(runtime, null, null, createLabIntl('zh-CN'))).toContain('计算后端：未知（训练进程没有运行）');
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
