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

/** A model name: 1 to 80 characters once trimmed, a letter, digit, _ or ( first, then those, spaces, dots, dashes, brackets. */
function nameOk(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const name = v.trim();
  return name.length >= 1 && name.length <= 80 && /^[A-Za-z0-9_(][A-Za-z0-9_ .()-]*$/.test(name);
}

const empty = (r: Json): boolean => onlyKeys(r, []);

const CHANNELS: Record<string, (r: Json) => boolean> = {
  info: empty, pause: empty, resume: empty, stop: empty, status: empty, currentModel: empty, listModels: empty,
  openModelDialog: empty, historyCsv: empty, restartTrainer: empty,
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
