// The native menu as data: a pure function of the platform, dev mode and the
// actions to call, so its shape (shortcuts, dev-only items) is tested without
// Electron. main.ts turns it into a Menu.
import type { MenuItemConstructorOptions } from 'electron';
import { createLabIntl, LOCALE_NAMES, LOCALES, type LabIntl, type Locale } from '../common/i18n/index.js';
import { VIEWS, type ViewName } from '../common/views.js';
import type { ThemeSource } from './window-state.js';

export type { ViewName };

/** The views in menu order, worded in `lab`'s language, with their Ctrl/Cmd+digit shortcut (from common/views.ts). */
export const viewMenuItems = (lab: LabIntl): { view: ViewName; label: string; accelerator: string }[] => VIEWS.map((entry) => ({
  view: entry.name,
  label: lab.t(entry.menuKey),
  accelerator: entry.accelerator,
}));
export const VIEW_MENU_ITEMS: readonly { view: ViewName; label: string; accelerator: string }[] = viewMenuItems(createLabIntl('en'));

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
  /** Help > Glossary: the page shows the lesson's terms. */
  glossary(): void;
  /** View > Language: switch the page and the menu. */
  setLocale(locale: Locale): void;
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
  /** The menu's language (the page's); English when absent. */
  locale?: Locale;
  actions: MenuActions;
}

const separator: MenuItemConstructorOptions = { type: 'separator' };

export function buildMenuTemplate({ platform, isDev, appName, theme, locale = 'en', actions }: MenuContext): MenuItemConstructorOptions[] {
  const isMac = platform === 'darwin';
  const lab = createLabIntl(locale);
  const { t } = lab;
  const about: MenuItemConstructorOptions = { label: t('menu.about', { appName }), click: () => actions.about() };

  const appMenu: MenuItemConstructorOptions[] = isMac
    ? [{
        label: appName,
        submenu: [about, separator, { role: 'services' }, separator, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, separator, { role: 'quit' }],
      }]
    : [];

  const file: MenuItemConstructorOptions = {
    label: t('menu.file'),
    submenu: [
      { label: t('menu.file.open'), accelerator: 'CmdOrCtrl+O', click: () => actions.openModel() },
      { label: t('menu.file.save'), accelerator: 'CmdOrCtrl+S', click: () => actions.saveModel() },
      { label: t('menu.file.showModels'), click: () => actions.showModelsFolder() },
      separator,
      { label: t('menu.file.exportPng'), accelerator: 'CmdOrCtrl+Shift+E', click: () => actions.exportViewPng() },
      { label: t('menu.file.exportCsv'), click: () => actions.exportHistoryCsv() },
      separator,
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };

  // Text fields (recipe values, model names) need the standard editing shortcuts, on macOS only through this menu.
  const edit: MenuItemConstructorOptions = {
    label: t('menu.edit'),
    submenu: [{ role: 'undo' }, { role: 'redo' }, separator, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };

  const themeItem = (value: ThemeSource, label: string): MenuItemConstructorOptions =>
    ({ label, type: 'radio', checked: theme === value, click: () => actions.setTheme(value) });

  const view: MenuItemConstructorOptions = {
    label: t('menu.view'),
    submenu: [
      ...viewMenuItems(lab).map(({ view: name, label, accelerator }): MenuItemConstructorOptions =>
        ({ label, accelerator, click: () => actions.navigate(name) })),
      separator,
      { label: t('menu.view.appearance'), submenu: [
        themeItem('system', t('menu.view.appearance.system')), themeItem('light', t('menu.view.appearance.light')), themeItem('dark', t('menu.view.appearance.dark')),
      ] },
      {
        label: t('menu.view.language'),
        // Each language named in itself, so a user lost in a language they cannot read finds their own.
        submenu: LOCALES.map((value): MenuItemConstructorOptions =>
          ({ label: LOCALE_NAMES[value], type: 'radio', checked: locale === value, click: () => actions.setLocale(value) })),
      },
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
    label: t('menu.train'),
    submenu: [
      { label: t('menu.train.startPause'), accelerator: 'CmdOrCtrl+Enter', click: () => actions.startOrPause() },
      { label: t('menu.train.stop'), click: () => actions.stopTraining() },
      separator,
      { label: t('menu.train.restart'), click: () => actions.restartTrainer() },
    ],
  };

  const glossary: MenuItemConstructorOptions = { label: t('menu.help.glossary'), click: () => actions.glossary() };
  const openLogFolder: MenuItemConstructorOptions = { label: t('menu.help.openLog'), click: () => actions.openLogFolder() };
  const startLesson: MenuItemConstructorOptions = { label: t('menu.help.startLesson'), click: () => actions.startLesson() };
  const help: MenuItemConstructorOptions = { role: 'help', label: t('menu.help'), submenu: [startLesson, glossary, separator, openLogFolder, separator, about] };

  return [...appMenu, file, edit, view, train, ...(isMac ? [{ role: 'windowMenu' } satisfies MenuItemConstructorOptions] : []), help];
}
