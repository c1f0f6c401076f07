// Browser-side downloads: how browser mode saves what the page exports (the bridge's saveFile). Electron
// cancels downloads (main/security.ts), so there saveFile goes to main's save dialog instead.
import type { RequestOf, ResponseOf, Result } from '../../../common/contract.js';
import { base64ToBytes } from './export-files.js';

const MIME_TYPES = { png: 'image/png', csv: 'text/csv;charset=utf-8', lenetlab: 'application/octet-stream' } as const;

/** Offers `bytes` as a file download named `fileName`. */
export function downloadBytes(bytes: Uint8Array<ArrayBuffer>, type: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The download has read the blob by the next tasks; a minute is generous for a slow disk.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** saveFile in browser mode: the browser's own download, answered like main's save dialog. */
export async function downloadSaveFile(request: RequestOf<'saveFile'>): Promise<Result<ResponseOf<'saveFile'>>> {
  try {
    downloadBytes(base64ToBytes(request.base64), MIME_TYPES[request.kind], request.suggestedName);
    return { ok: true, value: { saved: true, fileName: request.suggestedName } };
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { code: 'internal', params: { channel: 'saveFile', detail }, message: `saveFile: ${detail}` } };
  }
}
