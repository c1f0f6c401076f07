// The browser-mode transport: the same LabApi as Electron's preload, spoken over
// the loopback WebSocket of hosts/browser-server.ts. Reconnect-free on purpose:
// a closed socket means the host is gone, and a page reload starts over cleanly.
import {
  BRIDGE_PATH, EVENT_NAMES, eventChannels, eventListenerName, INVOKE_NAMES,
  type BridgeFrame, type BridgeRequestFrame, type EventName, type InvokeName, type LabApi, type Result,
} from '../../../common/contract.js';

type Listener = (payload: unknown) => void;

export interface WsBridge {
  api: LabApi;
  /** Called once if the socket closes or cannot open; the bridge is dead afterwards. */
  onClosed(listener: (reason: string) => void): () => void;
}

export function bridgeUrl(location: Location): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`;
}

export function createWsBridge(url: string): WsBridge {
  const socket = new WebSocket(url);
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Map<EventName, Set<Listener>>(EVENT_NAMES.map((name) => [name, new Set()]));
  const closedListeners = new Set<(reason: string) => void>();
  const queue: string[] = [];
  let nextId = 1;
  let closedReason: string | null = null;

  const fail = (message: string): Result<never> => ({ ok: false, error: { code: 'crashed', message } });

  socket.addEventListener('open', () => {
    for (const frame of queue.splice(0)) socket.send(frame);
  });
  socket.addEventListener('message', (message) => {
    if (typeof message.data !== 'string') return;
    let frame: BridgeFrame;
    try {
      frame = JSON.parse(message.data) as BridgeFrame;
    } catch {
      console.warn('lab bridge: ignored a frame that is not JSON');
      return;
    }
    if ('id' in frame) {
      const settle = pending.get(frame.id);
      pending.delete(frame.id);
      settle?.(frame.result);
      return;
    }
    const schema = eventChannels[frame.event];
    if (!schema) return;
    const parsed = schema.safeParse(frame.payload);
    if (!parsed.success) {
      console.warn(`lab bridge: ignored a malformed "${frame.event}" event`);
      return;
    }
    for (const listener of listeners.get(frame.event) ?? []) {
      try {
        listener(parsed.data);
      } catch (error) {
        console.error(`lab bridge: a "${frame.event}" listener threw`, error);
      }
    }
  });
  const close = (reason: string) => {
    if (closedReason !== null) return;
    closedReason = reason;
    for (const settle of pending.values()) settle(fail(`the lab host is not reachable (${reason}); reload the page`));
    pending.clear();
    queue.length = 0;
    for (const listener of closedListeners) listener(reason);
  };
  socket.addEventListener('close', (event) => close(event.reason || `connection closed, code ${event.code}`));
  socket.addEventListener('error', () => close('connection error'));

  const invoke = (name: InvokeName, request: unknown): Promise<Result<unknown>> => {
    if (closedReason !== null) return Promise.resolve(fail(`the lab host is not reachable (${closedReason}); reload the page`));
    const id = nextId++;
    const frame: BridgeRequestFrame = { id, name, request: request ?? {} };
    const text = JSON.stringify(frame);
    return new Promise((resolve) => {
      pending.set(id, resolve);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else queue.push(text);
    });
  };

  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) api[name] = (request: unknown) => invoke(name, request);
  for (const name of EVENT_NAMES) {
    api[eventListenerName(name)] = (listener: Listener) => {
      listeners.get(name)!.add(listener);
      return () => listeners.get(name)!.delete(listener);
    };
  }
  return {
    api: api as LabApi,
    onClosed(listener) {
      closedListeners.add(listener);
      return () => closedListeners.delete(listener);
    },
  };
}
