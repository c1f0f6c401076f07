// The native menu as data: a pure function of the platform, dev mode and the
// actions to call, so its shape (shortcuts, dev-only items) is tested without
// Electron. main.ts turns it into a Menu.
import type { MenuItemConstructorOptions } from 'electron';
import { createLabIntl } from '../common/i18n/index.js';
import { VIEWS, type ViewName } from '../common/views.js';
import type { ThemeSource } from './window-state.js';

export type { ViewName };

/** The six views in menu order, with their Ctrl/Cmd+digit shortcut (from the one registry in common/views.ts). */
const english = createLabIntl('en');
export const VIEW_MENU_ITEMS: readonly { view: ViewName; label: string; accelerator: string }[] = VIEWS.map((entry) => ({
  view: entry.name,
  label: english.t(entry.menuKey),
  accelerator: entry.accelerator,
}));

export interface MenuActions {
  openModel(): void;
  saveModel(): void;
  showModelsFolder(): void;
  exportViewPng(): void;
  exportHistoryCsv(): void;
  navigate(view: ViewName): void;
  startOrPause(): void;
  stopTraining(): void;
  restartTrainer(): void;
  setTheme(theme: ThemeSource): void;
  about(): void;
  /** Opens the guided lesson in the page (Help → Start the Lesson). */
  startLesson(): void;
  /** Shows the folder of the log file (main's and the trainer's output), for the teacher or IT. */
  openLogFolder(): void;
}

export interface MenuContext {
  platform: NodeJS.Platform;
  /** Development build (not packaged): adds reload and developer tools. */
  isDev: boolean;
  appName: string;
  theme: ThemeSource;
  actions: MenuActions;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

export function buildMenuTemplate({ platform, isDev, appName, theme, actions }: MenuContext): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: `About ${appName}`, click: () => actions.about() };

  const appMenu: MenuItemConstructorOptions[] = isMac
    ? [{
        label: appName,
        submenu: [about, separator, { role: 'services' }, separator, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, separator, { role: 'quit' }],
      }]
    : [];

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open Model…', accelerator: 'CmdOrCtrl+O', click: () => actions.openModel() },
      { label: 'Save Model…', accelerator: 'CmdOrCtrl+S', click: () => actions.saveModel() },
      { label: 'Show Models Folder', click: () => actions.showModelsFolder() },
      separator,
      { label: 'Export View as PNG…', accelerator: 'CmdOrCtrl+Shift+E', click: () => actions.exportViewPng() },
      { label: 'Export Training History as CSV…', click: () => actions.exportHistoryCsv() },
      separator,
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };

  // Text fields (recipe values, model names) need the standard editing shortcuts, on macOS only through this menu.
  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, separator, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };

  const themeItem = (value: ThemeSource, label: string): MenuItemConstructorOptions =>
    ({ label, type: 'radio', checked: theme === value, click: () => actions.setTheme(value) });

  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      ...VIEW_MENU_ITEMS.map(({ view: name, label, accelerator }): MenuItemConstructorOptions =>
        ({ label, accelerator, click: () => actions.navigate(name) })),
      separator,
      { label: 'Appearance', submenu: [themeItem('system', 'Follow System'), themeItem('light', 'Light'), themeItem('dark', 'Dark')] },
      separator,
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
      ...(isDev ? [separator, { role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }] satisfies MenuItemConstructorOptions[] : []),
    ],
  };

  const train: MenuItemConstructorOptions = {
    label: '&Train',
    submenu: [
      { label: 'Start / Pause', accelerator: 'CmdOrCtrl+Enter', click: () => actions.startOrPause() },
      { label: 'Stop', click: () => actions.stopTraining() },
      separator,
      { label: 'Restart Trainer', click: () => actions.restartTrainer() },
    ],
  };

  const openLogFolder: MenuItemConstructorOptions = { label: 'Open Log Folder', click: () => actions.openLogFolder() };
  const startLesson: MenuItemConstructorOptions = { label: 'Start the Lesson', click: () => actions.startLesson() };
  const help: MenuItemConstructorOptions = { role: 'help', submenu: [startLesson, separator, openLogFolder, separator, about] };

  return [...appMenu, file, edit, view, train, ...(isMac ? [{ role: 'windowMenu' } satisfies MenuItemConstructorOptions] : []), help];
}
