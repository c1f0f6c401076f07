// The preload: exposes the lab API (common/contract.ts) to the page as
// window.lab, and nothing else. One function per invoke name, one on<Event>
// per event name; the page never sees ipcRenderer, channel strings or the
// IpcRendererEvent (which would leak the sender). Bundled to one CommonJS file
// (preload/vite.config.ts) because sandboxed preloads cannot load local modules.
// It imports only the channel names (no zod: the bundle stays small) and types.
import { contextBridge, ipcRenderer, type IpcRenderer, type IpcRendererEvent } from 'electron';
import { EVENT_NAMES, INVOKE_NAMES, eventChannelId, eventListenerName, invokeChannelId } from '../common/channels.js';
import type { LabApi } from '../common/contract.js';
import type { Result } from '../common/errors.js';

export type IpcRendererSlice = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function buildLabApi(ipc: IpcRendererSlice): LabApi {
  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) {
    const channel = invokeChannelId(name);
    api[name] = async (request: unknown): Promise<Result<unknown>> => {
      try {
        return (await ipc.invoke(channel, request)) as Result<unknown>;
      } catch (e) {
        // Only when the main process has no handler (still starting) or the value cannot be cloned.
        const detail = e instanceof Error ? e.message : String(e);
        return { ok: false, error: { code: 'internal', params: { channel: name, detail }, message: `${name}: ${detail}` } };
      }
    };
  }
  for (const name of EVENT_NAMES) {
    const channel = eventChannelId(name);
    api[eventListenerName(name)] = (listener: (payload: unknown) => void): (() => void) => {
      if (typeof listener !== 'function') throw new TypeError(`${eventListenerName(name)} needs a function`);
      const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
      ipc.on(channel, forward);
      return () => {
        ipc.removeListener(channel, forward);
      };
    };
  }
  return Object.freeze(api) as LabApi;
}

contextBridge.exposeInMainWorld('lab', buildLabApi(ipcRenderer));
