// The channel names as plain arrays: the preload's whole vocabulary. No zod
// here (the preload bundle stays tiny); common/contract.ts gives each name its
// schemas, and tests/unit/contract.test.ts checks that both lists agree.

export const INVOKE_NAMES = [
  'info',
  'train',
  'pause',
  'resume',
  'stop',
  'status',
  'currentModel',
  'samples',
  'evaluate',
  'saveModel',
  'listModels',
  'openModel',
  'openModelDialog',
  'historyCsv',
  'restartTrainer',
  'modelHistory',
  'modelSnapshots',
  'exportModel',
  'importModel',
  'exportCsv',
  'recoveryInfo',
  'restoreRecovery',
  'discardRecovery',
  'saveFile',
  'systemLanguages',
  'setLanguage',
] as const;
export type InvokeName = (typeof INVOKE_NAMES)[number];

export const EVENT_NAMES = ['trainerEvent', 'modelChanged', 'trainerCrashed', 'menuCommand'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** Electron channel strings are derived, never typed by hand. */
export const invokeChannelId = (name: InvokeName): string => `lab:invoke:${name}`;
export const eventChannelId = (name: EventName): string => `lab:event:${name}`;

export const eventListenerName = <K extends EventName>(name: K): `on${Capitalize<K>}` =>
  `on${name[0]!.toUpperCase()}${name.slice(1)}` as `on${Capitalize<K>}`;

export const isInvokeName = (name: unknown): name is InvokeName =>
  typeof name === 'string' && (INVOKE_NAMES as readonly string[]).includes(name);
export const isEventName = (name: unknown): name is EventName =>
  typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name);
