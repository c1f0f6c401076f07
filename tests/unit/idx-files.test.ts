// readIdxFile's refusals, each with its code: what the file system says (a folder, a missing file, a path
// through a file) and what the bytes say (a wrong role, a bare gzip magic), as a table of literal answers.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { userErrorOutcome } from './user-error-outcome.js';
import { readIdxFile, type IdxRole } from '../../engine/data/idx.js';

const dir = mkdtempSync(join(tmpdir(), 'lenet-idx-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: number[]): string => {
  writeFileSync(join(dir, name), Uint8Array.from(bytes));
  return join(dir, name);
};
const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
function refusal(path: string, role: IdxRole): [string, string] {
  return userErrorOutcome(() => readIdxFile(path, role));
}

describe('readIdxFile', () => {
  mkdirSync(join(dir, 'folder'));
  const labels = file('labels', [0, 0, 8, 1, 0, 0, 0, 2, 3, 4]);
  const images = file('images', [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9]);
  const table: [string, string, IdxRole, string, RegExp][] = [
    ['a folder', join(dir, 'folder'), 'images', 'bad-file', exactly(`${join(dir, 'folder')}: not a regular file; expected an IDX images file`)],
    ['a missing file', join(dir, 'missing'), 'labels', 'not-found', exactly(`${join(dir, 'missing')}: file not found; expected an IDX labels file here`)],
    ['a path through a file', join(labels, 'inside'), 'labels', 'not-found', /file not found/],
    ['labels read as images', labels, 'images', 'bad-file', /found 1 \(looks like a labels file\), expected 3/],
    ['images read as labels', images, 'labels', 'bad-file', /found 3 \(looks like an images file\), expected 1/],
    ['a bare gzip magic (2 bytes: a gzip cut short)', file('gz', [0x1f, 0x8b]), 'labels', 'bad-file', /gz: corrupt or truncated gzip data \(the gzip header ends early\)$/],
    ['a gzip magic with the second byte wrong', file('notgz', [0x1f, 0x8c, 8, 1]), 'labels', 'bad-file', /wrong magic number/],
    // Gzip is both magic bytes: the second alone (a plain file) is not read as gzip.
    ['the second gzip magic byte alone', file('halfgz', [0x00, 0x8b, 8, 1, 0, 0, 0, 1, 5]), 'labels', 'bad-file', /wrong magic number: found 0x008b0801/],
  ];
  it.each(table)('%s', (_what, path, role, code, message) => {
    const [gotCode, gotMessage] = refusal(path, role);
    expect(gotCode).toBe(code);
    expect(gotMessage).toMatch(message);
  });
  it('reads the good ones', () => {
    expect(readIdxFile(labels, 'labels').dims).toEqual([2]);
    expect(Array.from(readIdxFile(images, 'images').data)).toEqual([9]);
  });
  it('a plain file\'s values lie in shared memory, so a run\'s second engine (a thread) reads them in place', () => {
    const data = readIdxFile(images, 'images').data;
    expect(data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(data.byteOffset).toBe(16); // after the magic and three dimensions: a view, not a copy
  });
});
