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

/** A typed number ('1e-3', '60,000', ' 64 ') or null when it is not one. */
export function parseTypedNumber(text: string): number | null {
  const trimmed = text.trim().replace(/[,_\s]/g, '');
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
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
    const value = parseTypedNumber(text);
    if (value === null) {
      errors[field] = text.trim() === ''
        ? { key: 'form.error.required', values: { field: FIELD_NAME_KEYS[field] } }
        : { key: 'form.error.notNumber', values: { text: text.trim() } };
    }
    else values[field] = value;
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
    const value = parseTypedNumber(text);
    const name = FIELD_NAME_KEYS[field];
    if (value === null || !Number.isInteger(value)) errors[field] = { key: 'form.error.whole', values: { field: name } };
    else if (value < min) errors[field] = { key: 'form.error.bound', values: { field: name, relation: 'gte', bound: min } };
    else if (value > max) errors[field] = { key: 'form.error.bound', values: { field: name, relation: 'lte', bound: max } };
    else return value;
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
