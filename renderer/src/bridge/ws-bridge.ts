// The browser-mode transport: the same LabApi as Electron's preload, spoken over
// the loopback WebSocket of hosts/browser-server.ts. The socket is adapted to a
// link port (common/link.ts); the LinkClient pairs answers with requests and
// fails what is pending when the socket closes. Events were checked by the host
// where they entered it. Reconnect-free on purpose: a closed socket means the
// host is gone, and a page reload starts over cleanly.
import { EVENT_NAMES, INVOKE_NAMES, eventListenerName, type EventName } from '../../../common/channels.js';
import type { LabApi } from '../../../common/contract.js';
import { labError } from '../../../common/errors.js';
import { LinkClient, type Port, type RequestFrame, type ServerFrame } from '../../../common/link.js';
import { BRIDGE_PATH, type BridgeFrame, type BridgeRequestFrame } from '../../../common/ws-frames.js';
import { downloadSaveFile } from '../lib/download.js';

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

/** A browser WebSocket as a link port: frames queue until it opens; close and error both end it, once. */
function socketPort(socket: WebSocket): Port<ServerFrame, RequestFrame> {
  const queue: string[] = [];
  socket.addEventListener('open', () => {
    for (const text of queue.splice(0)) socket.send(text);
  });
  return {
    send(frame) {
      const text = JSON.stringify({ id: frame.id, name: frame.name, request: frame.request ?? {} } satisfies BridgeRequestFrame);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(text);
    },
    onMessage(listener) {
      socket.addEventListener('message', (message) => {
        if (typeof message.data !== 'string') return;
        let frame: BridgeFrame;
        try {
          frame = JSON.parse(message.data) as BridgeFrame;
        } catch {
          console.warn('lab bridge: ignored a frame that is not JSON');
          return;
        }
        if (typeof frame !== 'object' || frame === null) return;
        if ('id' in frame) listener({ kind: 'result', id: frame.id, result: frame.result });
        else listener({ kind: 'event', name: frame.event, payload: frame.payload });
      });
    },
    onClose(listener) {
      let closed = false;
      const close = (reason: string): void => {
        if (closed) return;
        closed = true;
        queue.length = 0;
        listener(reason);
      };
      socket.addEventListener('close', (event) => close(event.reason || `connection closed, code ${event.code}`));
      socket.addEventListener('error', () => close('connection error'));
    },
  };
}

export function createWsBridge(url: string): WsBridge {
  const listeners = new Map<EventName, Set<Listener>>(EVENT_NAMES.map((name) => [name, new Set()]));
  const closedListeners = new Set<(reason: string) => void>();
  const port = socketPort(new WebSocket(url));
  const link = new LinkClient(port, {
    onEvent(name, payload) {
      for (const listener of listeners.get(name) ?? []) {
        try {
          listener(payload);
        } catch (error) {
          console.error(`lab bridge: a "${name}" listener threw`, error);
        }
      }
    },
    closedError: (reason) =>
      labError('crashed', `the lab host is not reachable (${reason}); reload the page`, { reason, hostUnreachable: true }),
  });
  // Registered after the link's own close listener: pending requests are settled before anyone hears of it.
  port.onClose((reason) => {
    for (const listener of closedListeners) listener(reason);
  });

  const api: Record<string, unknown> = {};
  for (const name of INVOKE_NAMES) api[name] = (request: unknown) => link.invoke(name, request ?? {});
  // Saving is the browser's own download: the bytes never go to the host and back.
  api.saveFile = downloadSaveFile;
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
