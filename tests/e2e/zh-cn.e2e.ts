// The app for a Chinese classroom: a browser set to zh-CN gets the Chinese interface on first launch, the six
// views are navigated in Chinese, a short run speaks Chinese, and the model is saved as 第一课模型 in a folder of
// exactly that name. The language switch holds across a reload; the glossary shows both languages. Layouts must
// not overflow in either language. Screenshots go to docs/screenshots/zh-CN/.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawStroke, ellipse, goTo, saveScreenshot, startLab, textOf, type Lab, type ViewName } from './harness.js';

const SHOTS = 'zh-CN';
const CHINESE_NAME = '第一课模型';
/** The sidebar's words for each view, from common/i18n/zh-CN.json (spelled out: the oracle shares no code with the app). */
const VIEW_TITLES: Record<ViewName, string> = {
  train: '训练', network: '网络结构', filters: '卷积核', features: '特征图', draw: '手写', evaluate: '评估',
};
const VIEWS = Object.keys(VIEW_TITLES) as ViewName[];

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ locale: 'zh-CN' });
});
afterAll(async () => {
  await lab?.close();
});

/** Elements whose content is wider than their box (text cut off or spilling), in the shell and the view. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push(`page ${document.documentElement.scrollWidth}px wide`);
    for (const element of Array.from(document.querySelectorAll('nav a, nav button, .topbar button, .topbar select, .content button, .content label, .content th'))) {
      const box = element as HTMLElement;
      // Hidden, or visually hidden for screen readers (a 1px clip): not part of the layout.
      if (box.offsetParent === null || box.clientWidth <= 1 || box.closest('.visually-hidden')) continue;
      if (box.scrollWidth > box.clientWidth + 1) out.push(`${box.tagName.toLowerCase()} "${(box.textContent ?? '').trim().slice(0, 40)}" ${box.scrollWidth}>${box.clientWidth}`);
    }
    return out;
  });
}

describe('LeNet Lab in Chinese', () => {
  it('follows the browser language on first launch: Chinese words, <html lang>, the language menu and CJK fonts', async () => {
    const { page } = lab;
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.getByTestId('language-select').inputValue()).toBe('zh-CN');
    for (const view of VIEWS) expect(await textOf(page, `nav-${view}`)).toContain(VIEW_TITLES[view]);
    // A Chinese font is reachable from the page's stack (fonts-noto-cjk here), so no glyph is a box.
    const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    expect(font).toMatch(/Noto Sans CJK SC/);
    expect(await page.evaluate(() => document.fonts.check('14px "Noto Sans CJK SC"', '卷积核'))).toBe(true);
  });

  it('navigates the six views in Chinese, each without overflowing, with a screenshot of each', async () => {
    const { page } = lab;
    for (const view of VIEWS) {
      await goTo(page, view);
      await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe(view);
      await expect.poll(() => page.locator('.topbar h1').textContent()).toBe(VIEW_TITLES[view]);
      expect(await page.getByTestId(`nav-${view}`).getAttribute('aria-current')).toBe('page');
      if (view === 'draw') await drawStroke(page, page.getByTestId('draw-canvas'), ellipse(0.5, 0.5, 0.22, 0.32));
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      expect(await overflowing(page), view).toEqual([]);
      await saveScreenshot(page, view, SHOTS);
    }
    expect(lab.pageErrors).toEqual([]);
  });

  it('a short training run speaks Chinese from start to finish', async () => {
    const { page } = lab;
    await goTo(page, 'train');
    await page.getByTestId('variant-select').selectOption('modern');
    await page.getByTestId('recipe-epochs').fill('1');
    await page.getByTestId('limit-input').fill('1280');
    await page.getByTestId('test-limit-input').fill('500');
    await page.getByTestId('seed-input').fill('3');
    // A wrong field is explained in Chinese, and fixing it lets the run start.
    await page.getByTestId('seed-input').fill('-1');
    await expect.poll(() => page.locator('.field-error').allTextContents()).toContain('随机种子不能小于 0');
    await page.getByTestId('seed-input').fill('3');
    await page.getByTestId('train-start').click();
    await expect.poll(() => textOf(page, 'train-done') || textOf(page, 'train-error'), { timeout: 300_000, interval: 500 }).toContain('训练完成');
    const status = await textOf(page, 'train-status');
    expect(status).toMatch(/^第 1\/1 轮 · 第 20\/20 批 · 每秒 [\d,]+ 张 · 预计还需 [\d:]+ · /);
    expect(await textOf(page, 'train-done')).toMatch(/用时 ((\d+分)?\d+秒|不到1秒)/);
    expect(await page.getByTestId('epoch-table').locator('thead').textContent()).toContain('测试准确率');
    expect(await overflowing(page)).toEqual([]);
    await saveScreenshot(page, 'train-done', SHOTS);
    expect(lab.pageErrors).toEqual([]);
  });

  it(`saves the model as ${CHINESE_NAME}: the folder keeps the exact name, the list and the top bar show it`, async () => {
    const { page } = lab;
    await page.getByTestId('model-save').click();
    const input = page.getByTestId('model-name');
    // A Windows device name is refused in Chinese before anything is sent.
    await input.fill('CON');
    await page.getByTestId('model-save-confirm').click({ trial: true }).catch(() => undefined);
    await expect.poll(() => page.getByTestId('model-save-confirm').isDisabled()).toBe(true);
    await input.fill(CHINESE_NAME);
    await page.getByTestId('model-save-confirm').click();
    await expect.poll(() => textOf(page, 'model-info')).toContain(CHINESE_NAME);
    expect(readdirSync(lab.modelsDir)).toContain(CHINESE_NAME);
    expect(existsSync(path.join(lab.modelsDir, CHINESE_NAME, 'model.json'))).toBe(true);
    expect(await textOf(page, 'model-info')).toMatch(/测试 \d+\.\d\d%/);
    await page.getByTestId('model-open').click();
    await page.getByTestId(`model-open-${CHINESE_NAME}`).waitFor();
    await expect.poll(() => page.getByTestId('open-dialog').textContent().catch(() => '')).toMatch(/2\d{3}年\d{1,2}月\d{1,2}日/);
    await saveScreenshot(page, 'open-model', SHOTS);
    await page.keyboard.press('Escape');
    expect(lab.pageErrors).toEqual([]);
  });

  it('evaluates in Chinese: the confusion matrix, the paper ranking and their words fit', async () => {
    const { page } = lab;
    await goTo(page, 'evaluate');
    await page.getByTestId('eval-limit').selectOption({ index: 1 });
    await page.getByTestId('eval-run').click();
    await page.getByTestId('confusion-matrix').waitFor({ timeout: 300_000 });
    expect(await page.locator('main.content').textContent()).toContain('混淆矩阵');
    expect(await page.locator('main.content').textContent()).toContain('线性分类器');
    await page.getByTestId('confusion-cell-3-3').click();
    expect(await overflowing(page)).toEqual([]);
    await saveScreenshot(page, 'evaluate-result', SHOTS);
    expect(lab.pageErrors).toEqual([]);
  });

  it('the glossary lists the lesson\'s terms with the English term beside each', async () => {
    const { page } = lab;
    await page.getByTestId('glossary-open').click();
    const dialog = page.getByTestId('glossary-dialog');
    await dialog.waitFor();
    const kernel = dialog.locator('#glossary-kernel');
    expect((await kernel.locator('th').textContent())?.trim()).toBe('卷积核');
    expect((await kernel.locator('td').first().textContent())?.trim()).toBe('kernel');
    expect(await dialog.getByTestId('glossary-entry').count()).toBeGreaterThanOrEqual(30);
    await saveScreenshot(page, 'glossary', SHOTS);
    await page.keyboard.press('Escape');
  });

  it('switches to English without a reload, remembers it across one, and back', async () => {
    const { page } = lab;
    await page.getByTestId('language-select').selectOption('en');
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await textOf(page, 'nav-train')).toContain('Train');
    for (const view of VIEWS) {
      await goTo(page, view);
      expect(await overflowing(page), `${view} in English`).toEqual([]);
    }
    await page.reload();
    await page.getByTestId('nav-train').waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await textOf(page, 'nav-evaluate')).toContain('Evaluate');
    await page.getByTestId('language-select').selectOption('zh-CN');
    await expect.poll(() => textOf(page, 'nav-evaluate')).toContain('评估');
    expect(lab.pageErrors).toEqual([]);
  });
});
