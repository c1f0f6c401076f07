// IPC between the window and the main process, all derived from the one
// contract: every invoke name gets a handler that first checks who is asking,
// then goes through createHostHandler (zod validation, never throws); every
// worker event is checked against its schema and sent on its event channel.
import type { BrowserWindow, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  INVOKE_NAMES,
  eventChannelId,
  eventChannels,
  invokeChannelId,
  type EventName,
  type InvokeName,
  type Result,
} from '../common/contract.js';
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
      return { ok: false, error: { code: 'bad-sender', message: 'IPC refused: the sender frame is gone' } };
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
  let result: Result<unknown>;
  try {
    const sender = options.gate(event);
    result = sender.ok ? await options.handler(name, payload) : sender;
  } catch (e) {
    result = { ok: false, error: { code: 'internal', message: `${name}: ${e instanceof Error ? e.message : String(e)}` } };
  }
  try {
    options.onResult?.(name, result);
  } catch {
    // a broken listener must not turn a good answer into a rejected promise
  }
  return result;
}

/**
 * Relay worker events to the window, each checked against its contract schema
 * first (the worker is trusted less than the contract). Malformed events are
 * dropped and reported to `onDropped`.
 */
export function createEventRelay(
  getContents: () => WebContents | null,
  onDropped: (name: string, why: string) => void = () => {},
): EmitEvent {
  return (name: EventName, payload: unknown) => {
    const schema = Object.hasOwn(eventChannels, name) ? eventChannels[name] : undefined;
    if (!schema) return onDropped(String(name), 'unknown event');
    const parsed = schema.safeParse(payload);
    if (!parsed.success) return onDropped(name, parsed.error.issues[0]?.message ?? 'invalid payload');
    const contents = getContents();
    if (!contents || contents.isDestroyed()) return;
    contents.send(eventChannelId(name), parsed.data);
  };
}
