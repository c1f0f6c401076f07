// Names and checks for the File ▸ Export commands.
import path from 'node:path';

export type ExportKind = 'view' | 'history';

/** "LeNet Lab view 2025-03-07 14-05.png": sortable, and valid on every OS. */
export function exportFileName(kind: ExportKind, now: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}-${pad(now.getMinutes())}`;
  return kind === 'view' ? `LeNet Lab view ${stamp}.png` : `LeNet Lab training history ${stamp}.csv`;
}

/** The save dialog may hand back a name without the extension (Linux): add it. */
export function withExtension(filePath: string, extension: string): string {
  return path.extname(filePath).toLowerCase() === extension ? filePath : `${filePath}${extension}`;
}

/** True when the CSV holds at least one data row under its header. */
export function csvHasRows(csv: string): boolean {
  return csv.split(/\r?\n/).filter((line) => line.trim() !== '').length > 1;
}
