// The app's views, listed once. The renderer's sidebar, titles and Ctrl/Cmd+digit
// shortcuts, the Electron View menu and the contract's navigate command all read it.
// Message keys are written out (not built from the name) so the i18n key test can find them.

import type { MessageKey } from './i18n/index.js';

export const VIEW_NAMES = ['train', 'network', 'filters', 'features', 'draw', 'evaluate', 'convolutions'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export interface ViewEntry {
  name: ViewName;
  /** The view's title: the heading, the sidebar label. */
  titleKey: MessageKey;
  /** One line under the title in the sidebar's tooltip. */
  hintKey: MessageKey;
  /** The Electron View menu's label (title case, as menus are). */
  menuKey: MessageKey;
  /** The digit of its Ctrl/Cmd shortcut. */
  digit: string;
  /** Electron's accelerator for the same shortcut. */
  accelerator: string;
}

const KEYS: Record<ViewName, Pick<ViewEntry, 'titleKey' | 'hintKey' | 'menuKey'>> = {
  train: { titleKey: 'view.train.title', hintKey: 'view.train.hint', menuKey: 'menu.view.train' },
  network: { titleKey: 'view.network.title', hintKey: 'view.network.hint', menuKey: 'menu.view.network' },
  filters: { titleKey: 'view.filters.title', hintKey: 'view.filters.hint', menuKey: 'menu.view.filters' },
  features: { titleKey: 'view.features.title', hintKey: 'view.features.hint', menuKey: 'menu.view.features' },
  draw: { titleKey: 'view.draw.title', hintKey: 'view.draw.hint', menuKey: 'menu.view.draw' },
  evaluate: { titleKey: 'view.evaluate.title', hintKey: 'view.evaluate.hint', menuKey: 'menu.view.evaluate' },
  convolutions: { titleKey: 'view.convolutions.title', hintKey: 'view.convolutions.hint', menuKey: 'menu.view.convolutions' },
};

/**
 * The "what to look for" panel App shows above each view: one message and the glossary terms
 * (ids in common/i18n/glossary.ts) it explains with tooltips. A view without an entry shows no panel.
 */
export const LOOK_FOR: Partial<Record<ViewName, { key: MessageKey; terms: readonly string[] }>> = {
  train: { key: 'lookfor.train', terms: ['lr-decay', 'gradient-norm', 'vanishing-gradient'] },
  network: { key: 'lookfor.network', terms: ['macs', 'rbf', 'parameter-sharing'] },
  filters: { key: 'lookfor.filters', terms: ['kernel', 'weights'] },
  features: { key: 'lookfor.features', terms: ['convolution', 'feature-map', 'softmax'] },
  draw: { key: 'lookfor.draw', terms: ['confidence', 'softmax'] },
  evaluate: { key: 'lookfor.evaluate', terms: ['test-set', 'confusion-matrix'] },
};

/** The views in sidebar and menu order; the n-th has the shortcut Ctrl/Cmd+n. */
export const VIEWS: readonly ViewEntry[] = VIEW_NAMES.map((name, i) => ({
  name,
  ...KEYS[name],
  digit: String(i + 1),
  accelerator: `CmdOrCtrl+${i + 1}`,
}));

export function viewEntry(name: ViewName): ViewEntry {
  return VIEWS.find((entry) => entry.name === name)!;
}

/** The view a Ctrl/Cmd+digit key opens, or null. */
export function viewForDigit(key: string): ViewName | null {
  return VIEWS.find((entry) => entry.digit === key)?.name ?? null;
}
