// The model-name rule (common/model-name.ts), against a literal table: what each name gives, accepted (the
// NFC name) or refused (the reason). Boundaries are tested on both sides.
import { describe, expect, it } from 'vitest';
import { checkModelName, MAX_MODEL_NAME_BYTES, MAX_MODEL_NAME_CHARS } from '../../common/model-name.js';
import { parseRequest } from '../../common/contract.js';

const LETTERS = 'a'.repeat(80);
const HAN = '模'.repeat(66); // 198 bytes in UTF-8

const accepted: [string, string][] = [
  ['my model', 'my model'],
  ['第一课模型', '第一课模型'],
  ['modèle (v2).final', 'modèle (v2).final'],
  ['e\u0301cole', 'école'], // NFD in, NFC out
  ['run_3 [best]-copy', 'run_3 [best]-copy'],
  ['Модель 1', 'Модель 1'],
  ['नमस्ते', 'नमस्ते'], // needs combining marks
  ['a.b.c', 'a.b.c'],
  ['CONSOLE', 'CONSOLE'], // only the exact device names are reserved
  ['COM10', 'COM10'],
  ['LPT0', 'LPT0'],
  ['nul-model', 'nul-model'],
  ['1', '1'],
  [LETTERS, LETTERS], // 80 characters: the largest accepted
  [HAN, HAN], // 198 bytes
];

const refused: [string, string][] = [
  ['', 'the name is empty'],
  [`${LETTERS}b`, 'the name has 81 characters; at most 80 are allowed'],
  [`${HAN}模`, 'the name takes 201 bytes in UTF-8; at most 200 are allowed (about 66 Chinese characters)'],
  ['a/b', 'a name cannot hold / or \\ (it would be a path, not a name)'],
  ['a\\b', 'a name cannot hold / or \\ (it would be a path, not a name)'],
  ['..', 'a name cannot hold ".."'],
  ['a..b', 'a name cannot hold ".."'],
  ['a\u0000b', 'a name cannot hold control characters (U+0000)'],
  ['a\nb', 'a name cannot hold control characters (U+000A)'],
  ['a\u007fb', 'a name cannot hold control characters (U+007F)'],
  ['a:b', '":" (U+003A) is not allowed: use letters, digits, spaces, dots, dashes, underscores and brackets'],
  ['a*b', '"*" (U+002A) is not allowed: use letters, digits, spaces, dots, dashes, underscores and brackets'],
  ['a\u202eb', '"\u202e" (U+202E) is not allowed: use letters, digits, spaces, dots, dashes, underscores and brackets'],
  ['.hidden', 'a name cannot start with a dot (the folder would be hidden)'],
  [' lead', 'a name cannot start with a space'],
  ['trail.', 'a name cannot end with a dot or a space (Windows drops them)'],
  ['trail ', 'a name cannot end with a dot or a space (Windows drops them)'],
  ['CON', '"CON" is a device name on Windows and cannot name a folder there'],
  ['con', '"con" is a device name on Windows and cannot name a folder there'],
  ['Nul.txt', '"Nul" is a device name on Windows and cannot name a folder there'],
  ['prn.tar.gz', '"prn" is a device name on Windows and cannot name a folder there'],
  ['AUX .x', '"AUX" is a device name on Windows and cannot name a folder there'],
  ['COM1', '"COM1" is a device name on Windows and cannot name a folder there'],
  ['com9', '"com9" is a device name on Windows and cannot name a folder there'],
  ['LPT1.model', '"LPT1" is a device name on Windows and cannot name a folder there'],
  ['lpt9', '"lpt9" is a device name on Windows and cannot name a folder there'],
  ['COM¹', '"COM¹" is a device name on Windows and cannot name a folder there'],
];

describe('model names', () => {
  it('limits are what the table assumes', () => {
    expect([MAX_MODEL_NAME_CHARS, MAX_MODEL_NAME_BYTES]).toEqual([80, 200]);
  });

  it.each(accepted)('accepts %j as %j', (raw, name) => {
    expect(checkModelName(raw)).toEqual({ ok: true, name });
    expect(parseRequest('saveModel', { name: raw })).toEqual({ ok: true, value: { name } });
  });

  it.each(refused)('refuses %j: %s', (raw, reason) => {
    expect(checkModelName(raw)).toMatchObject({ ok: false, reason });
    expect(parseRequest('saveModel', { name: raw })).toMatchObject({ ok: false, error: { code: 'invalid-request', message: `saveModel: name: ${reason}` } });
  });
});
