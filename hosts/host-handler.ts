// The one dispatch every host uses for renderer requests: validate against the
// contract (the only place a request is parsed), answer host-level channels
// here, forward the rest, already parsed, to the worker.
// It never throws: every failure becomes { ok: false, error: { code, params } }.
import { invokeChannels, isInvokeName, parseRequest, type ModelSummary, type ResponseOf, type SaveFileRequest } from '../common/contract.js';
import { failure, type Result } from '../common/errors.js';
import { answer } from '../common/link.js';
import type { Locale } from '../common/i18n/locales.js';
import type { WorkerClient } from './worker-link.js';

export interface HostCapabilities {
  /** Native folder picker (Electron). Resolves to a folder path or null when cancelled. */
  pickModelFolder?: () => Promise<string | null>;
  /** The OS's preferred languages (Electron's app.getPreferredSystemLanguages()); absent: [] (the page asks the browser). */
  systemLanguages?: () => string[];
  /** The page switched language: the host's own words follow (Electron's menu). */
  setLanguage?: (locale: Locale) => void;
  /** Native save dialog and an atomic write (Electron). Absent: browser mode, where the page downloads the file itself. */
  saveFile?: (request: SaveFileRequest) => Promise<Result<ResponseOf<'saveFile'>>>;
}

export type HostHandler = (name: string, payload: unknown) => Promise<Result<unknown>>;

export function createHostHandler(client: WorkerClient, capabilities: HostCapabilities = {}): HostHandler {
  return async (name, payload) => {
    if (!isInvokeName(name)) {
      const channel = String(name).slice(0, 60);
      return failure('invalid-request', `unknown channel "${channel}"`, { channel, field: null, issue: 'unknown-channel' });
    }
    const parsed = parseRequest(name, payload);
    if (!parsed.ok) return parsed;
    return answer(async () => {
      switch (name) {
        case 'restartTrainer':
          client.restart();
          return { ok: true, value: { phase: 'idle', runId: null } };
        case 'systemLanguages':
          return { ok: true, value: invokeChannels.systemLanguages.response.parse((capabilities.systemLanguages?.() ?? []).slice(0, 32)) };
        case 'setLanguage':
          capabilities.setLanguage?.((parsed.value as { locale: Locale }).locale);
          return { ok: true, value: {} };
        case 'saveFile':
          if (!capabilities.saveFile) return failure('unsupported', 'This host has no save dialog; the page downloads the file itself.', { channel: name });
          return capabilities.saveFile(parsed.value as SaveFileRequest);
        case 'openModelDialog': {
          if (!capabilities.pickModelFolder) {
            return failure('unsupported', 'This window has no folder picker; choose a model from the list instead.', { channel: name });
          }
          const dir = await capabilities.pickModelFolder();
          if (dir === null) return { ok: true, value: null };
          return (await client.invoke('openModel', { dir })) as Result<ModelSummary>;
        }
        default: {
          const result = await client.invoke(name, parsed.value);
          if (result.ok) {
            // The worker is trusted less than the contract: check what it answers too.
            const checked = invokeChannels[name].response.safeParse(result.value);
            if (!checked.success) return failure('internal', `${name}: the trainer sent a malformed answer`, { channel: name });
          }
          return result;
        }
      }
    }, name, payload);
  };
}
