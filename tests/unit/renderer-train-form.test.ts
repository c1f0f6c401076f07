// The Train view's form validation (renderer/src/lib/train-form-validate.ts):
// what it accepts must be exactly what the trainer's schema accepts.
import { describe, expect, it } from 'vitest';
import { TrainConfig } from '../../common/protocol.js';
import { createLabIntl } from '../../common/i18n/index.js';
import {
  canonicalNumberText, fieldErrorText, parseTypedNumber, validateTrainForm, type FieldError, type TrainFormFields,
} from '../../renderer/src/lib/train-form-validate.js';

const valid: TrainFormFields = {
  variant: 'lenet5', optimizer: 'adam', learningRate: '0.001', momentum: '0', batchSize: '64', epochs: '12', lrDecay: '0.8', augmentShift: 2,
  datasetKind: 'mnist', folder: '', limit: '6000', testLimit: '2000', seed: '',
};

describe('validateTrainForm', () => {
  it('turns a valid form into a TrainConfig the contract accepts', () => {
    const { errors, config } = validateTrainForm(valid);
    expect(errors).toEqual({});
    expect(config).toEqual({
      variant: 'lenet5',
      recipe: { optimizer: 'adam', learningRate: 0.001, momentum: 0, batchSize: 64, epochs: 12, lrDecay: 0.8, augmentShift: 2 },
      dataset: { kind: 'mnist' },
      limit: 6000,
      testLimit: 2000,
    });
    expect(TrainConfig.safeParse(config).success).toBe(true);
  });

  it('leaves limits and seed out when blank, and keeps a folder dataset', () => {
    const { config } = validateTrainForm({ ...valid, limit: '', testLimit: ' ', seed: '7', datasetKind: 'folder', folder: ' /data/mnist ' });
    expect(config).toMatchObject({ dataset: { kind: 'folder', dir: '/data/mnist' }, seed: 7 });
    expect(config).not.toHaveProperty('limit');
    expect(config).not.toHaveProperty('testLimit');
  });

  const en = createLabIntl('en');
  const zh = createLabIntl('zh-CN');
  const say = (error: FieldError | undefined, lab = en) => (error ? fieldErrorText(error, lab.t) : null);

  it('names each invalid field with a message, in either language', () => {
    const { errors, config } = validateTrainForm({
      ...valid, learningRate: '0', momentum: '1', batchSize: '2.5', epochs: 'ten', limit: '0', seed: '-1', datasetKind: 'folder', folder: '',
    });
    expect(config).toBeNull();
    expect(say(errors.epochs)).toBe('“ten” is not a number');
    expect(say(errors.epochs, zh)).toBe('“ten”不是数字');
    expect(say(errors.limit)).toBe('number of training images must be at least 1');
    expect(say(errors.seed)).toBe('seed must be at least 0');
    expect(say(errors.seed, zh)).toBe('随机种子不能小于 0');
    expect(say(errors.folder)).toMatch(/folder/);
    // The recipe schema runs once every recipe field is a number; its bounds are worded from the issue, not zod's English.
    const recipe = validateTrainForm({ ...valid, learningRate: '0', momentum: '1', batchSize: '2.5', epochs: '0' }).errors;
    expect(say(recipe.learningRate)).toBe('learning rate must be greater than 0');
    expect(say(recipe.learningRate, zh)).toBe('学习率必须大于 0');
    expect(say(recipe.momentum)).toBe('momentum must be less than 1');
    expect(say(recipe.batchSize)).toBe('batch size must be a whole number');
    expect(say(recipe.batchSize, zh)).toBe('批大小必须是整数');
    expect(say(recipe.epochs)).toBe('number of epochs must be at least 1');
    expect(say(validateTrainForm({ ...valid, seed: String(2 ** 31) }).errors.seed)).toBe('seed must be at most 2,147,483,647');
  });

  it('requires every recipe number', () => {
    expect(say(validateTrainForm({ ...valid, lrDecay: '' }).errors.lrDecay)).toBe('enter the decay');
    expect(say(validateTrainForm({ ...valid, lrDecay: '' }).errors.lrDecay, zh)).toBe('请填写衰减系数');
    expect(say(validateTrainForm({ ...valid, lrDecay: '1.5' }).errors.lrDecay)).toBe('decay must be at most 1');
    expect(say(validateTrainForm({ ...valid, lrDecay: '1.5' }).errors.lrDecay, zh)).toBe('衰减系数不能大于 1');
  });
});

describe('parseTypedNumber', () => {
  it.each([
    ['0,01', 0.01], ['0.01', 0.01], ['０．０１', 0.01], ['０，０１', 0.01], ['６４', 64], ['\u30000.5\u3000', 0.5],
    [',5', 0.5], ['1,5', 1.5], ['12,25', 12.25], ['0,001', 0.001], ['1,0000', 1], ['1000,000', 1000],
    ['60000', 60000], ['1e-3', 0.001], ['-0,5', -0.5], ['５e-３', 0.005],
  ])('reads %j as %d', (text, value) => {
    expect(parseTypedNumber(text)).toBe(value);
  });
  it.each([
    ['60,000', /ambiguous: write 60000 for the whole number, or 60\.000 for a decimal/],
    ['1,000', /ambiguous/], ['999,999', /ambiguous/],
    ['1,000,000', /without thousands separators/], ['1.000,5', /without thousands separators/], ['0,0,1', /without thousands/],
    ['60 000', /no spaces inside a number \(write 60000\)/],
    ['abc', /“abc” is not a number/], ['0x10', /not a number/], ['Infinity', /not a number/],
    ['1e999', /too large/],
  ])('refuses %j and says why', (text, problem) => {
    expect(parseTypedNumber(text)).toBeNull();
    const { errors } = validateTrainForm({ ...valid, learningRate: text });
    expect(fieldErrorText(errors.learningRate!, createLabIntl('en').t)).toMatch(problem);
  });
  it('keeps the comma from being dropped: the learning rate 0,01 is 0.01, not 1', () => {
    expect(validateTrainForm({ ...valid, learningRate: '0,01' }).config?.recipe.learningRate).toBe(0.01);
    expect(fieldErrorText(validateTrainForm({ ...valid, limit: '6,000' }).errors.limit!, createLabIntl('en').t)).toMatch(/ambiguous/);
  });
  it('shows the value used', () => {
    expect(canonicalNumberText('0,01')).toBe('0.01');
    expect(canonicalNumberText('０．５')).toBe('0.5');
    expect(canonicalNumberText('1,000')).toBe('1,000');
  });
  it('reads what people type', () => {
    expect(parseTypedNumber(' 1e-3 ')).toBe(0.001);
    expect(parseTypedNumber('')).toBeNull();
    expect(parseTypedNumber('abc')).toBeNull();
    expect(parseTypedNumber('Infinity')).toBeNull();
  });
});
