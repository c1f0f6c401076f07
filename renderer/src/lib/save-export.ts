// One way out for every export: the bytes go to lab.saveFile (main's save dialog in Electron, the browser's
// download in browser mode) and the user hears how it went. Views never know which host they run in.
import type { LabApi, LabError, Result } from '../../../common/contract.js';
import type { SaveFileKind } from '../../../common/file-kinds.js';
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';
import { bytesToBase64, textToBase64 } from './export-files.js';

export interface ExportDeps {
  lab: Pick<LabApi, 'saveFile'>;
  app: { notify(kind: 'error' | 'info' | 'success', title: string, message?: string): void; fail(title: string, error: LabError): void };
  t(id: MessageKey, values?: MessageValues): string;
}

/** Saves `content` (bytes, text as UTF-8, or base64 as the host sent it) as `fileName`; true once written (false when cancelled or failed, which the user was told). */
export async function saveExport(deps: ExportDeps, kind: SaveFileKind, fileName: string, content: Uint8Array | string | { base64: string }): Promise<boolean> {
  const base64 = typeof content === 'string' ? textToBase64(content) : content instanceof Uint8Array ? bytesToBase64(content) : content.base64;
  let result: Result<{ saved: boolean; fileName: string | null }>;
  try {
    result = await deps.lab.saveFile({ kind, suggestedName: fileName, base64 });
  } catch (e) {
    result = { ok: false, error: { code: 'internal', params: {}, message: e instanceof Error ? e.message : String(e) } };
  }
  if (!result.ok) {
    deps.app.fail(deps.t('export.error.save', { file: fileName }), result.error);
    return false;
  }
  if (!result.value.saved) return false;
  deps.app.notify('success', deps.t('export.saved', { file: result.value.fileName ?? fileName }));
  return true;
}
