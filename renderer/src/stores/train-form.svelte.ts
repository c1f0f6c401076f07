// The Train view's form, kept in a store so the Space shortcut and the menu's
// "Start / Pause" can start a run with what the student typed, from any view.
// Fields are strings as typed; lib/train-form-validate.ts checks them.
import type { TrainConfig, VariantName } from '../../../common/protocol.js';
import { VARIANTS } from '../../../common/network/variants.js';
import { parseTypedNumber, validateTrainForm, type FieldError, type FormField } from '../lib/train-form-validate.js';

export type { FormField, RecipeField } from '../lib/train-form-validate.js';

export const MNIST_TRAIN_COUNT = 60_000;
export const MNIST_TEST_COUNT = 10_000;

export class TrainFormStore {
  variant = $state<VariantName>('lenet5');
  optimizer = $state<'sgd' | 'adam'>('adam');
  learningRate = $state('');
  momentum = $state('');
  batchSize = $state('');
  epochs = $state('');
  lrDecay = $state('');
  augmentShift = $state(0);
  datasetKind = $state<'mnist' | 'folder'>('mnist');
  folder = $state('');
  /** Train on the first N images ('' = all). Classroom default: a quick run. */
  limit = $state('6000');
  /** Test on the first N images after each epoch ('' = all). */
  testLimit = $state('2000');
  seed = $state('');

  private validation = $derived(validateTrainForm({
    variant: this.variant, optimizer: this.optimizer, learningRate: this.learningRate, momentum: this.momentum,
    batchSize: this.batchSize, epochs: this.epochs, lrDecay: this.lrDecay, augmentShift: this.augmentShift, datasetKind: this.datasetKind,
    folder: this.folder, limit: this.limit, testLimit: this.testLimit, seed: this.seed,
  }));

  /** True when the recipe fields differ from the variant's own recipe. */
  edited = $derived.by(() => {
    const recipe = VARIANTS[this.variant].recipe;
    return this.optimizer !== recipe.optimizer
      || parseTypedNumber(this.learningRate) !== recipe.learningRate
      || parseTypedNumber(this.momentum) !== recipe.momentum
      || parseTypedNumber(this.batchSize) !== recipe.batchSize
      || parseTypedNumber(this.epochs) !== recipe.epochs
      || parseTypedNumber(this.lrDecay) !== recipe.lrDecay
      || this.augmentShift !== recipe.augmentShift;
  });

  /** How many times a recipe was loaded (a choice in the form, the tour, or launch): lets init() see a choice made while it waited. */
  recipeLoads = 0;

  constructor() {
    this.loadRecipe('lenet5');
  }

  /** Fill the recipe fields with a variant's own recipe. */
  loadRecipe(variant: VariantName): void {
    const recipe = VARIANTS[variant].recipe;
    this.recipeLoads += 1;
    this.variant = variant;
    this.optimizer = recipe.optimizer;
    this.learningRate = String(recipe.learningRate);
    this.momentum = String(recipe.momentum);
    this.batchSize = String(recipe.batchSize);
    this.epochs = String(recipe.epochs);
    this.lrDecay = String(recipe.lrDecay);
    this.augmentShift = recipe.augmentShift;
  }

  /** Field → message for every invalid field (empty when the form is valid). */
  get errors(): Partial<Record<FormField, FieldError>> {
    return this.validation.errors;
  }

  /** The request to start training, or null when a field is invalid. */
  get config(): TrainConfig | null {
    return this.validation.config;
  }
}
