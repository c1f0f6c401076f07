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

/** A typed number ('1e-3', '60,000', ' 64 ') or null when it is not one. */
export function parseTypedNumber(text: string): number | null {
  const trimmed = text.trim().replace(/[,_\s]/g, '');
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
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
    const value = parseTypedNumber(text);
    if (value === null) errors[field] = text.trim() === '' ? `enter the ${FIELD_NAMES[field]}` : `"${text.trim()}" is not a number`;
    else values[field] = value;
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
    const value = parseTypedNumber(text);
    if (value === null || !Number.isInteger(value)) errors[field] = `${label} must be a whole number`;
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
