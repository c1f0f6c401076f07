// Browser-mode wire frames over the loopback WebSocket (JSON text), shared by
// the server (hosts/browser-server.ts) and the page's bridge (renderer/src/bridge/).
import type { EventName, InvokeName } from './channels.js';
import type { Result } from './errors.js';

export const BRIDGE_PATH = '/bridge';
/** The largest frame either side accepts (ws's maxPayload on the server). */
export const BRIDGE_MAX_FRAME_BYTES = 1024 * 1024;
/** A frame the server cannot attribute to a request (not JSON, no id) is answered with this id. */
export const UNATTRIBUTED_FRAME_ID = -1;

export type BridgeRequestFrame = { id: number; name: InvokeName; request: unknown };
export type BridgeFrame = { id: number; result: Result<unknown> } | { event: EventName; payload: unknown };
