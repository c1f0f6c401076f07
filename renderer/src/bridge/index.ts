// Picks the transport: Electron's preload exposes window.lab; in browser mode the
// page talks to hosts/browser-server.ts over a WebSocket. Nothing else in the
// renderer knows which one it got.
import type { LabApi } from '../../../common/contract.js';
import { bridgeUrl, createWsBridge } from './ws-bridge.js';

declare global {
  interface Window {
    lab?: LabApi;
  }
}

const connectionListeners = new Set<(reason: string) => void>();

function pickLab(): LabApi {
  if (window.lab) return window.lab;
  const bridge = createWsBridge(bridgeUrl(window.location));
  bridge.onClosed((reason) => {
    for (const listener of connectionListeners) listener(reason);
  });
  return bridge.api;
}

export const lab: LabApi = pickLab();

/** Browser mode only: the host went away (Electron's preload never loses its host). */
export function onConnectionLost(listener: (reason: string) => void): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}
