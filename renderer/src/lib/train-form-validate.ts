// Validation of the Train view's form: the typed strings → a TrainConfig, or a
// message per invalid field. The recipe is checked with the engine's Recipe schema,
// so the form accepts exactly what the trainer accepts.
import { Recipe, type TrainConfig, type VariantName } from '../../../common/protocol.js';

export type RecipeField = 'optimizer' | 'learningRate' | 'momentum' | 'batchSize' | 'epochs' | 'lrDecay' | 'augmentShift';
export type FormField = RecipeField | 'folder' | 'limit' | 'testLimit' | 'seed';

export interface TrainFormFields {
  variant: VariantName;
  optimizer: 'sgd' | 'adam';
  learningRate: string;
  momentum: string;
  batchSize: string;
  epochs: string;
  lrDecay: string;
  /** Pixels each training digit may be shifted by at random (0 = off); chosen from a list. */
  augmentShift: number;
  datasetKind: 'mnist' | 'folder';
  folder: string;
  /** '' = all images. */
  limit: string;
  testLimit: string;
  /** '' = random. */
  seed: string;
}

export interface TrainFormValidation {
  errors: Partial<Record<FormField, string>>;
  config: TrainConfig | null;
}

const FIELD_NAMES: Record<RecipeField, string> = {
  optimizer: 'optimizer', learningRate: 'learning rate', momentum: 'momentum', batchSize: 'batch size', epochs: 'epochs', lrDecay: 'decay',
  augmentShift: 'random shift',
};

/** Full-width (IME) digits and marks → ASCII: '０．０１' → '0.01'. */
function halfWidth(text: string): string {
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/\u3000/g, ' ');
}

const PLAIN_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * A typed number, read the way it was meant, or why it cannot be read. A decimal comma is a decimal
 * mark ('0,01' → 0.01); a comma is never dropped as a thousands separator: '1,000' could mean 1000 or
 * 1.0, so it is refused with what to type instead, as are '1,000,000', '1.000,5' and '60 000'.
 */
export function readTypedNumber(text: string): { value: number } | { problem: string } {
  const typed = halfWidth(text).trim();
  if (typed === '') return { problem: 'empty' };
  if (/\s/.test(typed)) return { problem: `"${typed}": no spaces inside a number (write ${typed.replace(/\s+/g, '')})` };
  const commas = (typed.match(/,/g) ?? []).length;
  let plain = typed;
  if (commas > 0) {
    if (commas > 1 || typed.includes('.')) return { problem: `"${typed}": write the number without thousands separators, with a dot or one comma as the decimal mark` };
    if (/^[+-]?[1-9]\d{0,2},\d{3}$/.test(typed)) {
      const whole = typed.replace(',', '');
      return { problem: `"${typed}" is ambiguous: write ${whole} for ${Number(whole).toLocaleString('en-US')}, or ${typed.replace(',', '.')} for a decimal` };
    }
    plain = typed.replace(',', '.');
  }
  if (!PLAIN_NUMBER.test(plain)) return { problem: `"${typed}" is not a number (expected e.g. 0.01, 0,01 or 1e-3)` };
  const value = Number(plain);
  return Number.isFinite(value) ? { value } : { problem: `"${typed}" is too large` };
}

/** A typed number or null when it cannot be read (see readTypedNumber). */
export function parseTypedNumber(text: string): number | null {
  const read = readTypedNumber(text);
  return 'value' in read ? read.value : null;
}

/** The field's text as the value it is used as ('0,01' → '0.01', '０．５' → '0.5'); unreadable text stays as typed. */
export function canonicalNumberText(text: string): string {
  const read = readTypedNumber(text);
  return 'value' in read ? String(read.value) : text;
}

/** Zod's generic messages, said for this form. */
function friendly(message: string, field: RecipeField): string {
  if (/expected int\b/i.test(message)) return `${FIELD_NAMES[field]} must be a whole number`;
  const bound = /expected (?:number|int) to be ([<>]=?)\s*([-\d.e]+)/i.exec(message);
  if (!bound) return message;
  const words: Record<string, string> = { '>': 'greater than', '>=': 'at least', '<': 'less than', '<=': 'at most' };
  return `${FIELD_NAMES[field]} must be ${words[bound[1]!] ?? bound[1]} ${bound[2]}`;
}

export function validateTrainForm(form: TrainFormFields): TrainFormValidation {
  const errors: Partial<Record<FormField, string>> = {};
  const numeric: [RecipeField, string][] = [
    ['learningRate', form.learningRate], ['momentum', form.momentum], ['batchSize', form.batchSize],
    ['epochs', form.epochs], ['lrDecay', form.lrDecay],
  ];
  const values: Record<string, unknown> = { optimizer: form.optimizer, augmentShift: form.augmentShift };
  for (const [field, text] of numeric) {
    const read = readTypedNumber(text);
    if ('value' in read) values[field] = read.value;
    else errors[field] = read.problem === 'empty' ? `enter the ${FIELD_NAMES[field]}` : read.problem;
  }
  let recipe: Recipe | null = null;
  if (Object.keys(errors).length === 0) {
    const parsed = Recipe.safeParse(values);
    if (parsed.success) recipe = parsed.data;
    else {
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as RecipeField | undefined;
        if (field && !errors[field]) errors[field] = friendly(issue.message, field);
      }
    }
  }

  const whole = (field: 'limit' | 'testLimit' | 'seed', text: string, min: number, max: number, label: string): number | undefined => {
    if (text.trim() === '') return undefined;
    const read = readTypedNumber(text);
    const value = 'value' in read ? read.value : null;
    if (value === null) errors[field] = 'problem' in read ? read.problem : `${label} must be a whole number`;
    else if (!Number.isInteger(value)) errors[field] = `${label} must be a whole number`;
    else if (value < min) errors[field] = `${label} must be at least ${min}`;
    else if (value > max) errors[field] = `${label} must be at most ${max.toLocaleString('en-US')}`;
    else return value;
    return undefined;
  };
  const limit = whole('limit', form.limit, 1, 10_000_000, 'the number of training images');
  const testLimit = whole('testLimit', form.testLimit, 1, 10_000_000, 'the number of test images');
  const seed = whole('seed', form.seed, 0, 2 ** 31 - 1, 'the seed');
  if (form.datasetKind === 'folder' && form.folder.trim() === '') errors.folder = 'enter the folder that holds the IDX files';

  if (Object.keys(errors).length > 0 || recipe === null) return { errors, config: null };
  const config: TrainConfig = {
    variant: form.variant,
    recipe,
    dataset: form.datasetKind === 'mnist' ? { kind: 'mnist' } : { kind: 'folder', dir: form.folder.trim() },
  };
  if (limit !== undefined) config.limit = limit;
  if (testLimit !== undefined) config.testLimit = testLimit;
  if (seed !== undefined) config.seed = seed;
  return { errors, config };
}
