// IPC between the window and the main process, all derived from the one
// contract: the Electron end of the link (common/link.ts). Electron's invoke
// pairs requests with answers itself, so this adapter only checks who is asking,
// then answers through createHostHandler (zod validation, never throws); worker
// events, already checked where they entered the host (hosts/worker-link.ts),
// go out on their event channel.
import type { BrowserWindow, IpcMainInvokeEvent, WebContents } from 'electron';
import { INVOKE_NAMES, eventChannelId, invokeChannelId, type EventName, type InvokeName } from '../common/channels.js';
import { labError, type Result } from '../common/errors.js';
import { answer } from '../common/link.js';
import type { HostHandler } from '../hosts/host-handler.js';
import type { EmitEvent } from '../hosts/worker-link.js';
import { checkSender, type SenderCheck } from './security.js';

/** The slice of ipcMain used here. */
export interface InvokeRegistrar {
  handle(channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

export type SenderGate = (event: IpcMainInvokeEvent) => SenderCheck;

/**
 * The sender gate for our window: the frame must be the main frame of the
 * window's own web contents and show an app:// page. A frame that is gone (or
 * disposed while we look at it) is refused.
 */
export function windowSenderGate(getWindow: () => BrowserWindow | null): SenderGate {
  return (event) => {
    try {
      const window = getWindow();
      const contents = window && !window.isDestroyed() ? window.webContents : null;
      const frame = event.senderFrame;
      const isOurWindow = contents !== null && event.sender === contents;
      const isMainFrame = frame !== null && contents !== null && frame === contents.mainFrame;
      return checkSender(frame?.url ?? null, isMainFrame, isOurWindow);
    } catch {
      return { ok: false, error: labError('bad-sender', 'IPC refused: the sender frame is gone', { reason: 'frame-gone' }) };
    }
  };
}

export interface InvokeHandlerOptions {
  handler: HostHandler;
  gate: SenderGate;
  /** Sees every answer (the unsaved-model tracker listens here). */
  onResult?: (name: InvokeName, result: Result<unknown>) => void;
}

/** Register one handler per contract invoke name; returns a function that removes them all. */
export function registerInvokeHandlers(ipc: InvokeRegistrar, options: InvokeHandlerOptions): () => void {
  for (const name of INVOKE_NAMES) {
    ipc.handle(invokeChannelId(name), (event: IpcMainInvokeEvent, payload: unknown) => answerInvoke(name, event, payload, options));
  }
  return () => {
    for (const name of INVOKE_NAMES) ipc.removeHandler(invokeChannelId(name));
  };
}

/** One request, start to end; resolves to a Result whatever happens. */
export async function answerInvoke(name: InvokeName, event: IpcMainInvokeEvent, payload: unknown, options: InvokeHandlerOptions): Promise<Result<unknown>> {
  const result = await answer(
    async () => {
      const sender = options.gate(event);
      return sender.ok ? options.handler(name, payload) : sender;
    },
    name,
    payload,
  );
  try {
    options.onResult?.(name, result);
  } catch {
    // a broken listener must not turn a good answer into a rejected promise
  }
  return result;
}

/** Relay worker events (checked by WorkerClient, where they entered the host) to the window. */
export function createEventRelay(getContents: () => WebContents | null): EmitEvent {
  return (name: EventName, payload: unknown) => {
    const contents = getContents();
    if (!contents || contents.isDestroyed()) return;
    contents.send(eventChannelId(name), payload);
  };
}
