// Compare runs and the Filters timeline of the open model, in English and in Chinese: two short runs of
// different variants (the lesson's seed recipe and modern) are trained and saved; the seed run is overlaid on
// the modern one with the pretrained LeNet-5, and the legend names each run with its variant, each with its own
// dash. Opening LeNet-5 resets the timeline (it was saved without one); opening the saved seed run shows
// that run's snapshots, labelled with its name and variant.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goTo, startLab, textOf, type Lab } from './harness.js';

const RUN_TIMEOUT = 300_000;

/** The words each language must show, spelled out from en.json and zh-CN.json (an oracle sharing no code). */
const WORDS = {
  'en-US': {
    seed: 'The lesson (as written)', modern: 'Modern LeNet-5', lenet5: 'LeNet-5 (1998)', thisRun: 'This run:',
    lowest: 'Lowest final train loss:', noTimeline: 'saved without a timeline', savedTimeline: 'Saved with the model',
  },
  'zh-CN': {
    seed: '课程原版配方', modern: '现代版 LeNet-5', lenet5: 'LeNet-5（1998）', thisRun: '本次训练：',
    lowest: '最终训练损失最低的是', noTimeline: '没有带时间轴', savedTimeline: '随模型一起保存',
  },
} as const;

async function train(page: Page, variant: 'seed' | 'modern', seed: number): Promise<void> {
  await goTo(page, 'train');
  await page.getByTestId('variant-select').selectOption(variant);
  await page.getByTestId('recipe-epochs').fill('2');
  await page.getByTestId('limit-input').fill('640');
  await page.getByTestId('test-limit-input').fill('500');
  await page.getByTestId('seed-input').fill(String(seed));
  // The network chosen is the one about to train (a late start-up once put modern's recipe over the choice).
  expect(await page.getByTestId('variant-select').inputValue(), 'the network in the form right before Start').toBe(variant);
  const done = page.getByTestId('train-done');
  await page.getByTestId('train-start').click();
  // The previous run's "finished" note stays until this run has started: wait for it to go (or the run to show).
  await expect.poll(async () => (await done.count()) === 0 || page.getByTestId('train-stop').isEnabled(), { timeout: 60_000 }).toBe(true);
  const failed = page.getByTestId('train-error');
  await expect.poll(async () => ((await failed.count()) > 0 ? `failed: ${await textOf(page, 'train-error')}` : (await done.count()) > 0 ? 'done' : 'running'),
    { timeout: RUN_TIMEOUT, interval: 500 }).toBe('done');
}

/** The variant and run record of a model saved in the lab's models folder, read from its model.json. */
async function savedOnDisk(lab: Lab, name: string): Promise<{ variant: unknown; hasRun: boolean }> {
  const json = JSON.parse(await readFile(path.join(lab.modelsDir, name, 'model.json'), 'utf8')) as { userDefinedMetadata?: { lenetLab?: { variant?: unknown; run?: unknown } } };
  const meta = json.userDefinedMetadata?.lenetLab;
  return { variant: meta?.variant, hasRun: meta?.run !== undefined };
}

async function save(page: Page, name: string): Promise<void> {
  await page.getByTestId('model-save').click();
  await page.getByTestId('model-name').fill(name);
  await page.getByTestId('model-save-confirm').click();
  await expect.poll(() => page.getByTestId('model-unsaved').count()).toBe(0);
  await expect.poll(() => textOf(page, 'model-info')).toContain(name);
}

async function open(page: Page, name: string): Promise<void> {
  await page.getByTestId('model-open').click();
  const button = page.getByTestId(`model-open-${name}`);
  await button.waitFor();
  await button.click();
  await expect.poll(() => textOf(page, 'model-info')).toContain(name);
}

const legendItems = (page: Page) => page.getByTestId('compare-legend-item').evaluateAll((items) =>
  items.map((item) => ({ text: (item.textContent ?? '').trim(), variant: item.getAttribute('data-variant'), dash: item.getAttribute('data-dash') })));

const timelineOwner = (page: Page) => page.getByTestId('timeline-owner').evaluate((el) =>
  ({ source: el.getAttribute('data-source'), variant: el.getAttribute('data-variant'), text: (el.textContent ?? '').trim() }));

describe.each(['en-US', 'zh-CN'] as const)('compare runs and the timeline of the open model (%s)', (locale) => {
  const words = WORDS[locale];
  const seedName = locale === 'en-US' ? 'cmp-seed' : '对比-原版';
  const modernName = locale === 'en-US' ? 'cmp-modern' : '对比-现代版';
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ locale });
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('overlays the saved seed run and the pretrained LeNet-5 on the modern run, with a legend of names, variants and dashes', async () => {
    const { page } = lab;
    await train(page, 'seed', 3);
    await save(page, seedName);
    expect(await savedOnDisk(lab, seedName), 'the seed run as saved').toEqual({ variant: 'seed', hasRun: true });
    await train(page, 'modern', 5);
    await save(page, modernName);
    expect(await savedOnDisk(lab, modernName), 'the modern run as saved').toEqual({ variant: 'modern', hasRun: true });
    expect(await savedOnDisk(lab, seedName), 'the seed run, after the modern run was saved').toEqual({ variant: 'seed', hasRun: true });

    await page.getByTestId('compare-picker').locator('summary').click();
    // The seed run of this session, saved under its name, is offered once; the current run (modern) is not offered at all.
    const options = page.getByTestId('compare-option');
    await options.first().waitFor();
    await expect.poll(() => page.locator('[data-testid="compare-option"][data-variant="lenet5"]').count()).toBe(1);
    const seedOption = page.locator('[data-testid="compare-option"][data-variant="seed"]');
    await expect.poll(() => seedOption.count()).toBe(1);
    expect(await page.getByTestId('compare-picker').textContent()).toContain(seedName);
    expect(await page.getByTestId('compare-picker').textContent()).not.toContain(modernName);
    expect(await page.locator(`[data-testid="compare-option"][data-id="saved:${path.join(lab.modelsDir, seedName)}"]`).count()).toBe(0);
    await seedOption.check();
    await page.locator('[data-testid="compare-option"][data-variant="lenet5"]').first().check();

    await expect.poll(() => legendItems(page).then((items) => items.length)).toBe(3);
    const items = await legendItems(page);
    expect(items.map((i) => i.variant)).toEqual(['modern', 'seed', 'lenet5']);
    expect(items[0]!.text).toContain(words.thisRun);
    expect(items[0]!.text).toContain(modernName);
    expect(items[0]!.text).toContain(words.modern);
    expect(items[1]!.text).toContain(seedName);
    expect(items[1]!.text).toContain(words.seed);
    expect(items[2]!.text).toContain(words.lenet5);
    expect(new Set(items.map((i) => i.dash)).size, 'each run has its own dash').toBe(3);
    expect(items[0]!.dash).toBe('solid');

    // The caption is computed: the seed run (loss stuck at 2.3026) never has the lowest loss.
    const verdict = await textOf(page, 'compare-verdict');
    expect(verdict).toContain(words.lowest);
    expect(verdict.split(words.lowest)[1]).not.toContain(seedName);
    await page.getByTestId('compare-picker').locator('summary').click();
    await page.getByTestId('chart-loss').scrollIntoViewIfNeeded();
    if (process.env.COMPARE_SHOT) await page.screenshot({ path: `${process.env.COMPARE_SHOT}-${locale}.png`, fullPage: true });
    expect(lab.pageErrors).toEqual([]);
  }, 2 * RUN_TIMEOUT);

  it('the Filters timeline belongs to the open model: reset for LeNet-5, the seed run\'s own after opening it', async () => {
    const { page } = lab;
    await goTo(page, 'filters');
    await expect.poll(() => timelineOwner(page)).toMatchObject({ source: 'run', variant: 'modern' });

    await open(page, 'lenet5');
    await expect.poll(() => timelineOwner(page).then((o) => [o.source, o.variant])).toEqual(['model', 'lenet5']);
    await expect.poll(() => textOf(page, 'timeline-note')).toContain(words.noTimeline);
    expect(await page.getByTestId('snapshot-slider').getAttribute('max')).toBe('0');

    await open(page, seedName);
    await expect.poll(() => timelineOwner(page).then((o) => [o.source, o.variant])).toEqual(['model', 'seed']);
    await expect.poll(() => textOf(page, 'timeline-note')).toContain(words.savedTimeline);
    expect((await timelineOwner(page)).text).toContain(seedName);
    expect(Number(await page.getByTestId('snapshot-slider').getAttribute('max'))).toBeGreaterThanOrEqual(2);
    if (process.env.COMPARE_SHOT) await page.screenshot({ path: `${process.env.COMPARE_SHOT}-filters-${locale}.png` });
    expect(lab.pageErrors).toEqual([]);
  }, RUN_TIMEOUT);
});
