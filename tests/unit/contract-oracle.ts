// An independent oracle for the IPC contract (common/contract.ts): which requests each channel must accept,
// written out by hand in plain code from the documented limits. It shares no code with the zod schemas, so a
// loosened or tightened limit there disagrees with this file instead of with itself.
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (v: Json, allowed: readonly string[]): boolean => Object.keys(v).every((k) => allowed.includes(k));
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, min: number, max: number): boolean => isNumber(v) && Number.isInteger(v) && v >= min && v <= max;
const isText = (v: unknown, min: number, max: number): boolean => typeof v === 'string' && v.length >= min && v.length <= max;
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);

const VARIANTS = ['lenet5', 'seed', 'modern'];
const RECIPE_KEYS = ['optimizer', 'learningRate', 'momentum', 'batchSize', 'epochs', 'lrDecay', 'augmentShift'];

/** The recipe overrides a train request may carry (every field optional). */
function recipeOk(r: unknown): boolean {
  if (!isObject(r) || !onlyKeys(r, RECIPE_KEYS)) return false;
  return optional(r.optimizer, (v) => v === 'sgd' || v === 'adam')
    && optional(r.learningRate, (v) => isNumber(v) && v > 0 && v <= 1000)
    && optional(r.momentum, (v) => isNumber(v) && v >= 0 && v < 1)
    && optional(r.batchSize, (v) => isInt(v, 1, 4096))
    && optional(r.epochs, (v) => isInt(v, 1, 200))
    && optional(r.lrDecay, (v) => isNumber(v) && v > 0 && v <= 1)
    && optional(r.augmentShift, (v) => isInt(v, 0, 2));
}

function datasetOk(d: unknown): boolean {
  if (!isObject(d)) return false;
  if (d.kind === 'mnist') return onlyKeys(d, ['kind']);
  if (d.kind === 'folder') return onlyKeys(d, ['kind', 'dir']) && isText(d.dir, 1, 4096);
  return false;
}

/**
 * A model name (common/model-name.ts's documented rule): at most 1024 UTF-16 units as sent; then, in NFC, 1 to 80
 * characters and at most 200 UTF-8 bytes, only letters, marks and digits of any script, spaces, dots, dashes,
 * underscores and brackets; no "..", not starting with a dot or a space, not ending with a dot or a space, and
 * not a Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, COM¹²³, LPT¹²³), in any case, alone or before
 * spaces and an extension. No trimming.
 */
const RESERVED = new Set(['CON', 'PRN', 'AUX', 'NUL',
  ...['1', '2', '3', '4', '5', '6', '7', '8', '9', '¹', '²', '³'].flatMap((d) => [`COM${d}`, `LPT${d}`])]);
function nameOk(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 1024) return false;
  const name = v.normalize('NFC');
  const chars = Array.from(name);
  if (chars.length < 1 || chars.length > 80) return false;
  if (Buffer.byteLength(name, 'utf8') > 200) return false;
  for (const ch of chars) {
    const ok = /\p{L}|\p{M}|\p{N}/u.test(ch) || ch === ' ' || ch === '.' || ch === '_' || ch === '-'
      || ch === '(' || ch === ')' || ch === '[' || ch === ']';
    if (!ok) return false;
  }
  if (name.includes('..')) return false;
  if (name[0] === '.' || name[0] === ' ') return false;
  const last = name[name.length - 1];
  if (last === '.' || last === ' ') return false;
  let stem = name.split('.')[0]!;
  while (stem.endsWith(' ')) stem = stem.slice(0, -1);
  if (RESERVED.has(stem.toUpperCase())) return false;
  return true;
}

/** Which model: nothing (the open one) or a saved model's folder of 1 to 4096 characters. */
const whichModel = (r: Json): boolean => onlyKeys(r, ['dir']) && optional(r.dir, (v) => isText(v, 1, 4096));

const empty = (r: Json): boolean => onlyKeys(r, []);

/** Standard base64 with padding: groups of four from A–Z a–z 0–9 + /, and at most two '=' at the very end. */
function base64Ok(v: unknown): boolean {
  if (typeof v !== 'string' || v.length < 4 || v.length > 64 * 1024 * 1024 || v.length % 4 !== 0) return false;
  const pad = v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0;
  for (let i = 0; i < v.length - pad; i++) {
    const c = v.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return false;
  }
  return true;
}

/** A file the page asks main to save: png, csv or lenetlab; a 1–200 character plain name ending in that extension. */
function saveFileOk(r: Json): boolean {
  const extension = ({ png: '.png', csv: '.csv', lenetlab: '.lenetlab' } as Record<string, string>)[r.kind as string];
  if (!onlyKeys(r, ['kind', 'suggestedName', 'base64']) || extension === undefined || !base64Ok(r.base64)) return false;
  const name = r.suggestedName;
  if (!isText(name, 1, 200)) return false;
  const text = name as string;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 127 || text[i] === '/' || text[i] === '\\') return false;
  }
  return text.length > extension.length && text.toLowerCase().endsWith(extension);
}

const CHANNELS: Record<string, (r: Json) => boolean> = {
  info: empty, pause: empty, resume: empty, stop: empty, status: empty, currentModel: empty, listModels: empty,
  openModelDialog: empty, historyCsv: empty, restartTrainer: empty,
  recoveryInfo: empty, restoreRecovery: empty, discardRecovery: empty, systemLanguages: empty,
  setLanguage: (r) => onlyKeys(r, ['locale']) && (r.locale === 'en' || r.locale === 'zh-CN'),
  modelHistory: whichModel, modelSnapshots: whichModel, exportModel: whichModel,
  importModel: (r) => onlyKeys(r, ['base64', 'fileName', 'name'])
    && isText(r.base64, 1, 1_000_000)
    && optional(r.fileName, (v) => isText(v, 0, 260))
    && optional(r.name, nameOk),
  saveFile: saveFileOk,
  exportCsv: (r) => onlyKeys(r, ['kind']) && ['epochs', 'batches', 'confusion', 'mistakes'].includes(r.kind as string),
  train: (r) => onlyKeys(r, ['variant', 'recipe', 'dataset', 'limit', 'testLimit', 'seed'])
    && VARIANTS.includes(r.variant as string)
    && optional(r.recipe, recipeOk)
    && optional(r.dataset, datasetOk)
    && optional(r.limit, (v) => isInt(v, 1, 10_000_000))
    && optional(r.testLimit, (v) => isInt(v, 1, 10_000_000))
    && optional(r.seed, (v) => isInt(v, 0, 2 ** 31 - 1)),
  samples: (r) => onlyKeys(r, ['split', 'dataset', 'indices'])
    && (r.split === 'train' || r.split === 'test')
    && optional(r.dataset, datasetOk)
    && Array.isArray(r.indices) && r.indices.length >= 1 && r.indices.length <= 1000
    && Array.from(r.indices as unknown[]).every((i) => isInt(i, 0, 10_000_000)),
  evaluate: (r) => onlyKeys(r, ['limit']) && optional(r.limit, (v) => isInt(v, 1, 10_000_000)),
  saveModel: (r) => onlyKeys(r, ['name']) && nameOk(r.name),
  openModel: (r) => onlyKeys(r, ['dir']) && isText(r.dir, 1, 4096),
};

/** Whether the contract must accept `payload` on channel `name` (a missing payload counts as {}). */
export function contractAccepts(name: string, payload: unknown): boolean {
  const check = Object.hasOwn(CHANNELS, name) ? CHANNELS[name] : undefined;
  if (!check) return false;
  const request = payload ?? {};
  return isObject(request) && check(request);
}

export const ORACLE_CHANNELS = Object.keys(CHANNELS);
