// The Electron end of the saveFile channel: the window cannot download (security.ts cancels every download),
// so the bytes it made (a panel PNG, a CSV, a .lenetlab) come here, checked by the contract, and are written
// where the user picks in the native save dialog, atomically. Electron-free so it is tested with fakes.
import path from 'node:path';
import { SAVE_FILE_EXTENSIONS, type ResponseOf, type SaveFileKind, type SaveFileRequest } from '../common/contract.js';
import { failure, type Result } from '../common/errors.js';
import type { LabIntl, MessageKey } from '../common/i18n/index.js';
import { withExtension } from './export-files.js';

export interface SaveDialogOptions {
  title: string;
  buttonLabel: string;
  defaultPath: string;
  filters: { name: string; extensions: string[] }[];
}

export interface FileSaverDeps {
  /** Electron's dialog.showSaveDialog (on the window when there is one). */
  showSaveDialog(options: SaveDialogOptions): Promise<{ canceled: boolean; filePath?: string }>;
  /** engine/io/atomic-file.ts's writeFileAtomic. */
  writeFile(target: string, bytes: Uint8Array): Promise<void>;
  /** Where the dialog starts for each kind (Pictures for PNGs, Documents otherwise). */
  folderFor(kind: SaveFileKind): string;
  /** The dialog speaks the page's language. */
  lab(): LabIntl;
}

const TITLE_KEYS: Record<SaveFileKind, MessageKey> = { png: 'main.save.title.png', csv: 'main.save.title.csv', lenetlab: 'main.save.title.lenetlab' };
const FILTER_KEYS: Record<SaveFileKind, MessageKey> = { png: 'main.save.filter.png', csv: 'main.save.filter.csv', lenetlab: 'main.save.filter.lenetlab' };

/** The dialog's options for one request: a translated title, the suggested name in the kind's folder, one filter. */
export function saveDialogOptions(request: Pick<SaveFileRequest, 'kind' | 'suggestedName'>, folder: string, lab: LabIntl): SaveDialogOptions {
  const extension = SAVE_FILE_EXTENSIONS[request.kind];
  return {
    title: lab.t(TITLE_KEYS[request.kind]),
    buttonLabel: lab.t('main.save.button'),
    // basename again: the contract refuses separators, and this keeps it so if the contract ever changes.
    defaultPath: path.join(folder, path.basename(request.suggestedName)),
    filters: [{ name: lab.t(FILTER_KEYS[request.kind]), extensions: [extension.slice(1)] }],
  };
}

/** Answers one saveFile request (already parsed by the contract); never throws. */
export function createFileSaver(deps: FileSaverDeps): (request: SaveFileRequest) => Promise<Result<ResponseOf<'saveFile'>>> {
  return async (request) => {
    const bytes = Buffer.from(request.base64, 'base64');
    const chosen = await deps.showSaveDialog(saveDialogOptions(request, deps.folderFor(request.kind), deps.lab()));
    if (chosen.canceled || !chosen.filePath) return { ok: true, value: { saved: false, fileName: null } };
    const target = withExtension(chosen.filePath, SAVE_FILE_EXTENSIONS[request.kind]);
    try {
      await deps.writeFile(target, bytes);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      return failure('bad-file', `${target} could not be written (${detail}); nothing was changed, choose another folder`, { reason: 'write-failed', path: target, detail });
    }
    return { ok: true, value: { saved: true, fileName: path.basename(target) } };
  };
}
