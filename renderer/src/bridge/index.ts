// Picks the transport: Electron's preload exposes window.lab; in browser mode the
// page talks to hosts/browser-server.ts over a WebSocket. Nothing else in the
// renderer knows which one it got. Nothing connects until connectLab() is called.
import type { LabApi } from '../../../common/contract.js';
import { bridgeUrl, createWsBridge } from './ws-bridge.js';

declare global {
  interface Window {
    lab?: LabApi;
  }
}

export interface LabConnection {
  lab: LabApi;
  /** Browser mode only: the host went away (Electron's preload never loses its host). */
  onConnectionLost(listener: (reason: string) => void): () => void;
}

/** The LabApi of this window: the preload's, or a fresh WebSocket bridge to the browser-mode host. */
export function connectLab(target: Window = window): LabConnection {
  if (target.lab) return { lab: target.lab, onConnectionLost: () => () => {} };
  const bridge = createWsBridge(bridgeUrl(target.location));
  return { lab: bridge.api, onConnectionLost: (listener) => bridge.onClosed(listener) };
}
