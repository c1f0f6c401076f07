// The log file a teacher can send when the app misbehaves: main's lines and everything the trainer
// prints (stdout and stderr), in <userData>/logs/lenet-lab.log. Plain Node (no electron import).
// Writes are synchronous appends: a line logged just before a native crash is still on disk.
// The file is rotated at a size limit, keeping a few older files, so it never grows without bound.
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

export const LOG_FILE_NAME = 'lenet-lab.log';
/** Rotate when the file passes 1 MiB; keep lenet-lab.1.log … lenet-lab.3.log (about 4 MiB at most). */
export const LOG_MAX_BYTES = 1024 * 1024;
export const LOG_KEEP = 3;
/** One logged line is cut here: a runaway stack trace or tensor dump stays readable. */
export const LOG_MAX_LINE = 4000;

export const logFolderIn = (userDataPath: string): string => path.join(userDataPath, 'logs');

export interface RotatingLogOptions {
  dir: string;
  maxBytes?: number;
  keep?: number;
  /** For tests: the clock. */
  now?: () => Date;
}

export class RotatingLog {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly now: () => Date;
  private size = -1;
  /** Set after a write fails (read-only profile, full disk): logging must never take the app down. */
  private broken = false;

  constructor({ dir, maxBytes = LOG_MAX_BYTES, keep = LOG_KEEP, now = () => new Date() }: RotatingLogOptions) {
    this.file = path.join(dir, LOG_FILE_NAME);
    this.maxBytes = maxBytes;
    this.keep = keep;
    this.now = now;
  }

  /** The name of the n-th older file (1 = the most recent). */
  rotatedFile(n: number): string {
    return this.file.replace(/\.log$/, `.${n}.log`);
  }

  /** Appends one line per line of `text`, each stamped with the time and its source. */
  write(source: string, text: string): void {
    if (this.broken) return;
    const stamp = this.now().toISOString();
    const lines = text.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
    const body = lines.map((line) => `${stamp} [${source}] ${line.length > LOG_MAX_LINE ? `${line.slice(0, LOG_MAX_LINE)}… (${line.length} characters)` : line}\n`).join('');
    try {
      if (this.size < 0) {
        mkdirSync(path.dirname(this.file), { recursive: true });
        this.size = fileSize(this.file);
      }
      const bytes = Buffer.byteLength(body);
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      appendFileSync(this.file, body);
      this.size += bytes;
    } catch {
      this.broken = true;
    }
  }

  private rotate(): void {
    rmSync(this.rotatedFile(this.keep), { force: true });
    for (let n = this.keep - 1; n >= 1; n--) {
      if (fileSize(this.rotatedFile(n)) >= 0) renameSync(this.rotatedFile(n), this.rotatedFile(n + 1));
    }
    renameSync(this.file, this.rotatedFile(1));
    this.size = 0;
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}

/** A stream's text, split into whole lines for the log (a partial last line waits for its end). */
export function pipeLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string | Buffer) => {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const lines = pending.split(/\r?\n/);
    pending = lines.pop() ?? '';
    // Bound what waits for a newline: a stream that never sends one is logged in pieces.
    if (pending.length > LOG_MAX_LINE) {
      lines.push(pending);
      pending = '';
    }
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
    pending = '';
  });
}
