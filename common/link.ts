// One request/event link, whatever carries it. A host speaks to its lab worker
// over a process channel, the browser page to its host over a WebSocket; both
// are a LinkClient on one side and serveLink on the other, over a Port that an
// adapter builds from the transport (hosts/worker-link.ts, hosts/browser-server.ts,
// renderer/src/bridge/ws-bridge.ts). The link pairs answers with requests by id,
// settles whatever is pending when the port closes, and never throws a request
// away unanswered.
import type { EventName, InvokeName } from './channels.js';
import { failure, labError, type LabError, type Result } from './errors.js';

export type RequestFrame = { kind: 'invoke'; id: number; name: InvokeName; request: unknown };
export type ResultFrame = { kind: 'result'; id: number; result: Result<unknown> };
export type EventFrame = { kind: 'event'; name: EventName; payload: unknown };
/** What a serving side sends. */
export type ServerFrame = ResultFrame | EventFrame;

/** The least a transport must offer. `onClose` fires at most once, with a reason for people. */
export interface Port<In, Out> {
  send(message: Out): void;
  onMessage(listener: (message: In) => void): void;
  onClose(listener: (reason: string) => void): void;
}

export interface LinkClientOptions {
  /** Events from the serving side (validate them here if this is where they enter a host). */
  onEvent(name: EventName, payload: unknown): void;
  /** The error for requests still pending, or made, after the port closed. */
  closedError(reason: string): LabError;
}

/** The requesting side of a link. */
export class LinkClient {
  private nextId = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private closedReason: string | null = null;
  private closedWith: LabError | null = null;

  constructor(
    private readonly port: Port<ServerFrame, RequestFrame>,
    private readonly options: LinkClientOptions,
  ) {
    port.onMessage((frame) => this.receive(frame));
    port.onClose((reason) => this.close(reason));
  }

  /** Why the link closed, or null while it is open. */
  get closed(): string | null {
    return this.closedReason;
  }

  invoke(name: InvokeName, request: unknown): Promise<Result<unknown>> {
    if (this.closedWith) return Promise.resolve({ ok: false, error: this.closedWith });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.port.send({ kind: 'invoke', id, name, request });
    });
  }

  /** Settle everything pending with `error` (the port's closed error by default); later calls do nothing. */
  close(reason: string, error: LabError = this.options.closedError(reason)): void {
    if (this.closedWith) return;
    this.closedReason = reason;
    this.closedWith = error;
    for (const settle of this.pending.values()) settle({ ok: false, error });
    this.pending.clear();
  }

  private receive(frame: ServerFrame): void {
    if (this.closedWith || typeof frame !== 'object' || frame === null) return;
    if (frame.kind === 'result') {
      const settle = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      settle?.(frame.result);
    } else if (frame.kind === 'event') {
      this.options.onEvent(frame.name, frame.payload);
    }
  }
}

/** Answers one request; must resolve to a Result, and serveLink turns a throw into one anyway. */
export type RequestHandler = (name: InvokeName, request: unknown) => Promise<Result<unknown>>;

export interface ServeOptions {
  /** Requests one client may have in flight; more are answered 'busy' at once. */
  maxInFlight?: number;
}

/** The serving side of a link: every well-formed request frame gets exactly one result frame. */
export function serveLink(
  port: Port<RequestFrame, ServerFrame>,
  handle: RequestHandler,
  options: ServeOptions = {},
): void {
  const maxInFlight = options.maxInFlight ?? Infinity;
  let inFlight = 0;
  let open = true;
  port.onClose(() => {
    open = false;
  });
  const reply = (id: number, result: Result<unknown>): void => {
    if (open) port.send({ kind: 'result', id, result });
  };
  port.onMessage((frame) => {
    if (frame?.kind !== 'invoke' || typeof frame.id !== 'number') return;
    if (inFlight >= maxInFlight) {
      return reply(
        frame.id,
        failure('busy', `more than ${maxInFlight} requests are waiting; try again`, { limit: maxInFlight }),
      );
    }
    inFlight++;
    void answer(handle, frame.name, frame.request).then((result) => {
      inFlight--;
      reply(frame.id, result);
    });
  });
}

/** Run a handler and return its Result, whatever it does. */
export async function answer(handle: RequestHandler, name: InvokeName, request: unknown): Promise<Result<unknown>> {
  try {
    return await handle(name, request);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, error: labError('internal', `${String(name)}: ${detail}`, { channel: String(name), detail }) };
  }
}
