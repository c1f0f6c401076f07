// The one dispatch every host uses for renderer requests: validate against the
// contract, answer host-level channels here, forward the rest to the worker.
// It never throws: every failure becomes { ok: false, error }.
import { parseRequest, invokeChannels, type InvokeName, type ModelSummary, type Result } from '../common/contract.js';
import type { Locale } from '../common/i18n/locales.js';
import type { WorkerClient } from './worker-link.js';

export interface HostCapabilities {
  /** Native folder picker (Electron). Resolves to a folder path or null when cancelled. */
  pickModelFolder?: () => Promise<string | null>;
  /** The OS's preferred languages (Electron's app.getPreferredSystemLanguages()); absent: [] (the page asks the browser). */
  systemLanguages?: () => string[];
  /** The page switched language: the host's own words follow (Electron's menu). */
  setLanguage?: (locale: Locale) => void;
}

export type HostHandler = (name: string, payload: unknown) => Promise<Result<unknown>>;

const isInvokeName = (name: string): name is InvokeName => Object.hasOwn(invokeChannels, name);

export function createHostHandler(client: WorkerClient, capabilities: HostCapabilities = {}): HostHandler {
  return async (name, payload) => {
    try {
      if (typeof name !== 'string' || !isInvokeName(name)) {
        return { ok: false, error: { code: 'invalid-request', message: `unknown channel "${String(name).slice(0, 60)}"` } };
      }
      const parsed = parseRequest(name, payload);
      if (!parsed.ok) return parsed;
      switch (name) {
        case 'restartTrainer':
          client.restart();
          return { ok: true, value: { phase: 'idle', runId: null } };
        case 'systemLanguages':
          return { ok: true, value: invokeChannels.systemLanguages.response.parse((capabilities.systemLanguages?.() ?? []).slice(0, 32)) };
        case 'setLanguage':
          capabilities.setLanguage?.((parsed.value as { locale: Locale }).locale);
          return { ok: true, value: {} };
        case 'openModelDialog': {
          if (!capabilities.pickModelFolder) {
            return { ok: false, error: { code: 'unsupported', message: 'This window has no folder picker; choose a model from the list instead.' } };
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
            if (!checked.success) return { ok: false, error: { code: 'internal', message: `${name}: the trainer sent a malformed answer` } };
          }
          return result;
        }
      }
    } catch (e) {
      return { ok: false, error: { code: 'internal', message: `${String(name)}: ${e instanceof Error ? e.message : String(e)}` } };
    }
  };
}
