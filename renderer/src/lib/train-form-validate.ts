// Validation of the Train view's form: the typed strings → a TrainConfig, or a
// message per invalid field. The recipe is checked with the engine's Recipe schema,
// so the form accepts exactly what the trainer accepts.
import { Recipe, type TrainConfig, type VariantName } from '../../../common/protocol.js';
import type { MessageKey, MessageValues } from '../../../common/i18n/index.js';

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

/** What is wrong with a field, as a message key and its values (worded in the active language by the form). */
export interface FieldError {
  key: MessageKey;
  values?: MessageValues;
}

export interface TrainFormValidation {
  errors: Partial<Record<FormField, FieldError>>;
  config: TrainConfig | null;
}

/** Each field's name inside a sentence ("learning rate must be > 0"). */
export const FIELD_NAME_KEYS: Record<FormField, MessageKey> = {
  optimizer: 'form.field.optimizer', learningRate: 'form.field.learningRate', momentum: 'form.field.momentum', batchSize: 'form.field.batchSize',
  epochs: 'form.field.epochs', lrDecay: 'form.field.lrDecay', augmentShift: 'form.field.augmentShift', folder: 'form.field.folder',
  limit: 'form.field.limit', testLimit: 'form.field.testLimit', seed: 'form.field.seed',
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
export type NumberProblem =
  | { problem: 'empty' }
  | { problem: 'spaces'; text: string; fixed: string }
  | { problem: 'separators'; text: string }
  | { problem: 'ambiguous'; text: string; whole: string; decimal: string }
  | { problem: 'notNumber'; text: string }
  | { problem: 'tooLarge'; text: string };

export function readTypedNumber(text: string): { value: number } | NumberProblem {
  const typed = halfWidth(text).trim();
  if (typed === '') return { problem: 'empty' };
  if (/\s/.test(typed)) return { problem: 'spaces', text: typed, fixed: typed.replace(/\s+/g, '') };
  const commas = (typed.match(/,/g) ?? []).length;
  let plain = typed;
  if (commas > 0) {
    if (commas > 1 || typed.includes('.')) return { problem: 'separators', text: typed };
    if (/^[+-]?[1-9]\d{0,2},\d{3}$/.test(typed)) return { problem: 'ambiguous', text: typed, whole: typed.replace(',', ''), decimal: typed.replace(',', '.') };
    plain = typed.replace(',', '.');
  }
  if (!PLAIN_NUMBER.test(plain)) return { problem: 'notNumber', text: typed };
  const value = Number(plain);
  return Number.isFinite(value) ? { value } : { problem: 'tooLarge', text: typed };
}

/** Why a typed number cannot be read, as a message key and its values. */
function numberError(read: NumberProblem, field: FormField): FieldError {
  switch (read.problem) {
    case 'empty': return { key: 'form.error.required', values: { field: FIELD_NAME_KEYS[field] } };
    case 'spaces': return { key: 'form.number.spaces', values: { text: read.text, fixed: read.fixed } };
    case 'separators': return { key: 'form.number.separators', values: { text: read.text } };
    case 'ambiguous': return { key: 'form.number.ambiguous', values: { text: read.text, whole: read.whole, decimal: read.decimal } };
    case 'notNumber': return { key: 'form.error.notNumber', values: { text: read.text } };
    case 'tooLarge': return { key: 'form.number.tooLarge', values: { text: read.text } };
  }
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

/** A zod issue on a recipe number, said for this form from the issue's own bounds (not its English message). */
interface NumberIssue { code: string; message: string; expected?: unknown; format?: unknown; minimum?: unknown; maximum?: unknown; inclusive?: boolean }
function friendly(issue: NumberIssue, field: RecipeField): FieldError {
  const name = FIELD_NAME_KEYS[field];
  if ((issue.code === 'invalid_type' && issue.expected === 'int') || (issue.code === 'invalid_format' && issue.format === 'safeint')) {
    return { key: 'form.error.whole', values: { field: name } };
  }
  if (issue.code === 'too_small' && typeof issue.minimum === 'number') {
    return { key: 'form.error.bound', values: { field: name, relation: issue.inclusive ? 'gte' : 'gt', bound: issue.minimum } };
  }
  if (issue.code === 'too_big' && typeof issue.maximum === 'number') {
    return { key: 'form.error.bound', values: { field: name, relation: issue.inclusive ? 'lte' : 'lt', bound: issue.maximum } };
  }
  return { key: 'form.error.other', values: { field: name, message: issue.message } };
}

export function validateTrainForm(form: TrainFormFields): TrainFormValidation {
  const errors: Partial<Record<FormField, FieldError>> = {};
  const numeric: [RecipeField, string][] = [
    ['learningRate', form.learningRate], ['momentum', form.momentum], ['batchSize', form.batchSize],
    ['epochs', form.epochs], ['lrDecay', form.lrDecay],
  ];
  const values: Record<string, unknown> = { optimizer: form.optimizer, augmentShift: form.augmentShift };
  for (const [field, text] of numeric) {
    const read = readTypedNumber(text);
    if ('value' in read) values[field] = read.value;
    else errors[field] = numberError(read, field);
  }
  let recipe: Recipe | null = null;
  if (Object.keys(errors).length === 0) {
    const parsed = Recipe.safeParse(values);
    if (parsed.success) recipe = parsed.data;
    else {
      for (const issue of parsed.error.issues) {
        const field = issue.path[0] as RecipeField | undefined;
        if (field && !errors[field]) errors[field] = friendly(issue as NumberIssue, field);
      }
    }
  }

  const whole = (field: 'limit' | 'testLimit' | 'seed', text: string, min: number, max: number): number | undefined => {
    if (text.trim() === '') return undefined;
    const read = readTypedNumber(text);
    const name = FIELD_NAME_KEYS[field];
    if (!('value' in read)) errors[field] = numberError(read, field);
    else if (!Number.isInteger(read.value)) errors[field] = { key: 'form.error.whole', values: { field: name } };
    else if (read.value < min) errors[field] = { key: 'form.error.bound', values: { field: name, relation: 'gte', bound: min } };
    else if (read.value > max) errors[field] = { key: 'form.error.bound', values: { field: name, relation: 'lte', bound: max } };
    else return read.value;
    return undefined;
  };
  const limit = whole('limit', form.limit, 1, 10_000_000);
  const testLimit = whole('testLimit', form.testLimit, 1, 10_000_000);
  const seed = whole('seed', form.seed, 0, 2 ** 31 - 1);
  if (form.datasetKind === 'folder' && form.folder.trim() === '') errors.folder = { key: 'form.error.folder' };

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

/** A field's problem in the active language (the field's own name worded too). */
export function fieldErrorText(error: FieldError, t: (id: MessageKey, values?: MessageValues) => string): string {
  const values = { ...error.values };
  if (typeof values.field === 'string') values.field = t(values.field as MessageKey);
  return t(error.key, values);
}
