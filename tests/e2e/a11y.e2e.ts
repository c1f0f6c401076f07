// Accessible and projector-ready, measured in the real page, in English and in Chinese: axe-core on every view
// in light and dark and on every dialog (no serious or critical violation, no exceptions listed), the share of
// text at 11.5 px or more at 1366×768 (at least 90% on every view; hints and captions 12 px or more), ARIA
// values in range and plainly written, no sideways scrolling at 1024×768 or at 1366×768 with 150% zoom, and
// feature-map pixels reached with the arrow keys.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEW_NAMES } from '../../common/views.js';
import { axe, drawStroke, goTo, startLab, textOf, type Lab } from './harness.js';

const VIEWS = VIEW_NAMES;
const LOCALES = ['en', 'zh-CN'] as const;
type Locale = (typeof LOCALES)[number];

let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ bypassCSP: true });
  await lab.page.getByTestId('model-accuracy').waitFor({ state: 'visible', timeout: 30_000 });
});
afterAll(async () => {
  await lab?.close();
});

const settle = (page: Page) => page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 400)));

async function setLocale(page: Page, locale: Locale): Promise<void> {
  await page.getByTestId('language-select').selectOption(locale);
  await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe(locale);
}

/**
 * The text in the page at its drawn size, counted in characters: SVG text is scaled by its viewBox, so its
 * font size is multiplied by the element's scale on screen. Hints are the explanations in small type
 * (captions, field hints, notes): each is listed when it is under 12 px.
 */
async function measureText(page: Page): Promise<{ large: number; all: number; small: string[]; smallHints: string[] }> {
  return page.evaluate(() => {
    const HINTS = '.caption, .field-hint, .hint, .note, .explain';
    let large = 0;
    let all = 0;
    const small = new Map<string, number>();
    const smallHints = new Set<string>();
    const drawnSize = (element: Element): number => {
      const size = parseFloat(getComputedStyle(element).fontSize);
      const matrix = element instanceof SVGGraphicsElement ? element.getScreenCTM() : null;
      return matrix ? size * Math.hypot(matrix.a, matrix.b) : size;
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent?.trim() ?? '';
      const element = node.parentElement;
      if (!text || !element || element.closest('.visually-hidden, script, style, dialog:not([open]), [aria-hidden="true"] title')) continue;
      const box = element.getBoundingClientRect();
      // Every rendered text of the view, scrolled into sight or not: a student scrolls.
      if (box.width === 0 || box.height === 0) continue;
      const style = getComputedStyle(element);
      if (style.visibility === 'hidden' || style.display === 'none' || Number(style.opacity) === 0) continue;
      const size = drawnSize(element);
      all += text.length;
      if (size >= 11.5) large += text.length;
      else {
        const key = `${size.toFixed(1)}px <${element.tagName.toLowerCase()} class="${element.getAttribute('class') ?? ''}"> "${text.slice(0, 24)}"`;
        small.set(key, (small.get(key) ?? 0) + text.length);
      }
      const hint = element.closest(HINTS);
      if (hint && size < 12) smallHints.add(`${size.toFixed(1)}px ${hint.className}: "${text.slice(0, 24)}"`);
    }
    return { large, all, small: [...small].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${n}× ${k}`), smallHints: [...smallHints].slice(0, 8) };
  });
}

/** Elements with ARIA range values: each value a plain number inside its range, and its text free of exponents. */
async function ariaValueProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const PLAIN = /^-?\d+(\.\d+)?$/;
    const problems: string[] = [];
    for (const element of Array.from(document.querySelectorAll('[aria-valuenow], [aria-valuemin], [aria-valuemax], [aria-valuetext]'))) {
      const where = `${element.getAttribute('role') ?? element.tagName.toLowerCase()} "${element.getAttribute('aria-label') ?? element.getAttribute('data-testid') ?? ''}"`;
      const [now, min, max] = ['aria-valuenow', 'aria-valuemin', 'aria-valuemax'].map((name) => element.getAttribute(name));
      for (const [name, value] of [['now', now], ['min', min], ['max', max]] as const) {
        if (value !== null && !PLAIN.test(value)) problems.push(`${where}: aria-value${name}="${value}" is not a plain number`);
      }
      if (now !== null && min !== null && Number(now) < Number(min)) problems.push(`${where}: ${now} < min ${min}`);
      if (now !== null && max !== null && Number(now) > Number(max)) problems.push(`${where}: ${now} > max ${max}`);
      const text = element.getAttribute('aria-valuetext');
      if (text !== null && /\de[-+]?\d|NaN|undefined|Infinity/.test(text)) problems.push(`${where}: aria-valuetext="${text}"`);
    }
    return problems;
  });
}

describe('accessibility and projector readiness', () => {
  it('axe finds no serious or critical violation on any view, light or dark, in English and Chinese', async () => {
    const { page } = lab;
    const found: string[] = [];
    for (const locale of LOCALES) {
      await setLocale(page, locale);
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const view of VIEWS) {
          await goTo(page, view);
          await settle(page);
          for (const f of await axe(page)) found.push(`${locale} ${scheme} ${view}: ${f.id} (${f.impact}) × ${f.nodes}: ${f.where}`);
        }
      }
    }
    await setLocale(page, 'en');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(found).toEqual([]);
  });

  it('axe finds nothing serious in the dialogs and the lesson panel, light or dark', async () => {
    const { page } = lab;
    const found: string[] = [];
    const dialogs = [['model-open', 'open-dialog'], ['model-save', 'save-dialog'], ['about-open', 'about-dialog'], ['glossary-open', 'glossary-dialog']] as const;
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [button, dialog] of dialogs) {
        await page.getByTestId(button).click();
        await page.getByTestId(dialog).waitFor({ state: 'visible' });
        await settle(page);
        for (const f of await axe(page, `[data-testid="${dialog}"]`)) found.push(`${scheme} ${dialog}: ${f.id} × ${f.nodes}: ${f.where}`);
        await page.keyboard.press('Escape');
        await page.getByTestId(dialog).waitFor({ state: 'hidden' });
      }
      // The guided lesson: every step's panel (it moves between views).
      await page.getByTestId('tour-start').click();
      const tour = page.getByTestId('tour');
      await tour.waitFor({ state: 'visible' });
      for (let step = 0; step < 20; step++) {
        await settle(page);
        const id = await tour.getAttribute('data-step');
        for (const f of await axe(page, '[data-testid="tour"]')) found.push(`${scheme} lesson step ${id}: ${f.id} × ${f.nodes}: ${f.where}`);
        const [at, total] = ((await page.getByTestId('tour-count').textContent())?.match(/\d+/g) ?? []).map(Number);
        if (at === total) break;
        await page.getByTestId('tour-next').click();
        await expect.poll(() => tour.getAttribute('data-step')).not.toBe(id);
      }
      await page.getByTestId('tour-close').click();
      await tour.waitFor({ state: 'hidden' });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    console.log(`axe in dialogs: ${found.join('; ') || 'none'}`);
    expect(found).toEqual([]);
  });

  it('at 1366×768 at least 90% of the text on every view is 11.5 px or larger, and hints are 12 px or larger, in English and Chinese', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1366, height: 768 });
    const shares: string[] = [];
    const failures: string[] = [];
    for (const locale of LOCALES) {
      await setLocale(page, locale);
      for (const view of VIEWS) {
        await goTo(page, view);
        await settle(page);
        const { large, all, small, smallHints } = await measureText(page);
        shares.push(`${locale} ${view} ${(100 * large / all).toFixed(1)}%`);
        if (large / all < 0.9) failures.push(`${locale} ${view}: ${large} of ${all} characters at 11.5 px or more; smallest: ${small.join('; ')}`);
        if (smallHints.length) failures.push(`${locale} ${view}: hints under 12 px: ${smallHints.join('; ')}`);
      }
    }
    await setLocale(page, 'en');
    console.log(`text at 11.5 px or more: ${shares.join(', ')}`);
    expect(failures).toEqual([]);
  });

  it('ARIA values are plain numbers inside their ranges on every view, with a digit on the pad', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1366, height: 768 });
    await goTo(page, 'draw');
    await drawStroke(page, page.getByTestId('draw-canvas'), [[0.5, 0.15], [0.5, 0.5], [0.5, 0.85]]);
    await expect.poll(() => textOf(page, 'prediction')).toMatch(/^[\d?]$/);
    const problems: string[] = [];
    let ranged = 0;
    for (const view of VIEWS) {
      await goTo(page, view);
      await settle(page);
      ranged += await page.locator('[aria-valuenow]').count();
      problems.push(...(await ariaValueProblems(page)).map((p) => `${view}: ${p}`));
    }
    expect(ranged).toBeGreaterThanOrEqual(10); // at least the pad's ten probability meters were checked
    expect(problems).toEqual([]);
    await goTo(page, 'draw');
    await page.getByTestId('draw-clear').click();
  });

  it('no view scrolls sideways at 1024×768, or at 1366×768 with 150% zoom (911×512 CSS px), with the sidebar folded to icons', async () => {
    const { page } = lab;
    const wide: string[] = [];
    for (const locale of LOCALES) {
      await setLocale(page, locale);
      // 150% zoom on a 1366×768 projector leaves 1366/1.5 × 768/1.5 CSS pixels: the layout the page gets.
      for (const size of [{ width: 1024, height: 768 }, { width: 911, height: 512 }]) {
        await page.setViewportSize(size);
        for (const view of VIEWS) {
          await goTo(page, view);
          await settle(page);
          const { overflow, sidebar } = await page.evaluate(() => {
            const main = document.querySelector('main.content')!;
            return {
              overflow: Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth, main.scrollWidth - main.clientWidth),
              sidebar: document.querySelector('nav.sidebar')!.getBoundingClientRect().width,
            };
          });
          if (overflow > 0) wide.push(`${locale} ${size.width}×${size.height} ${view}: ${overflow}px`);
          if (sidebar > 64) wide.push(`${locale} ${size.width}×${size.height} ${view}: the sidebar is ${sidebar}px wide, not folded to icons`);
        }
      }
    }
    await setLocale(page, 'en');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(wide).toEqual([]);
  });

  it('focus moves to the view heading, and Back returns to the previous view without leaving the app', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1280, height: 800 });
    await goTo(page, 'train');
    await goTo(page, 'draw');
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toMatch(/^H[12]$/);
    await goTo(page, 'evaluate');
    await page.goBack();
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe('draw');
    await page.goBack();
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toBe('train');
    // Back, again and again, stays in the app (evaluate.e2e.ts goes down to the floor entries, which come forward again).
    const onFloor = () => page.evaluate(() => (history.state as { floor?: boolean } | null)?.floor === true);
    for (let i = 0; i < 4; i++) {
      await page.goBack().catch(() => null);
      await expect.poll(onFloor).toBe(false);
    }
    expect(new URL(page.url()).origin).toBe(new URL(lab.server.url).origin);
    await expect.poll(() => page.locator('main.content').getAttribute('data-view')).toMatch(new RegExp(`^(${VIEWS.join('|')})$`));
  });
});

describe('feature-map pixels by keyboard', () => {
  it('Tab reaches a map; arrows, Home/End and Ctrl+Home/End move the pixel, which is announced, marked and explained', async () => {
    const { page } = lab;
    await page.setViewportSize({ width: 1366, height: 768 });
    await goTo(page, 'features');
    const map = page.getByTestId('fmap-C1-0');
    await map.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await map.getAttribute('role')).toBe('grid');
    expect(await map.getAttribute('aria-rowcount')).toBe('28');
    expect(await map.getAttribute('aria-colcount')).toBe('28');

    // Tab from the INPUT map reaches C1's first map, past at most its row's picture button (one tab stop per map).
    await page.getByTestId('fmap-INPUT-0').focus();
    const reached: (string | null)[] = [];
    for (let i = 0; i < 2 && reached.at(-1) !== 'fmap-C1-0'; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null));
    }
    expect(reached.at(-1)).toBe('fmap-C1-0');
    expect(reached.slice(0, -1).every((id) => id === 'png-features-C1')).toBe(true);

    const active = map.getByTestId('active-pixel');
    const heading = page.getByTestId('dot-product').locator('h3');
    const expectAt = async (row: number, col: number) => {
      await expect.poll(() => active.textContent()).toMatch(new RegExp(`^\\s*row ${row}, column ${col}: −?\\d+\\.\\d{4}\\s*$`));
      expect(await active.getAttribute('aria-colindex')).toBe(String(col + 1));
      expect(await active.locator('xpath=..').getAttribute('aria-rowindex')).toBe(String(row + 1));
      // The inspector explains the chosen pixel, and the marker sits on it.
      await expect.poll(() => heading.textContent()).toBe(`C1 map 0, pixel (${row}, ${col})`);
      const marker = await map.locator('.marker').boundingBox();
      const box = (await map.boundingBox())!;
      expect(marker).not.toBeNull();
      expect(Math.round((marker!.x - box.x) / (box.width / 28))).toBe(col);
      expect(Math.round((marker!.y - box.y) / (box.height / 28))).toBe(row);
    };

    await page.keyboard.press('Control+Home');
    await expectAt(0, 0);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await expectAt(1, 2);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp'); // stops at the top edge
    await expectAt(0, 2);
    await page.keyboard.press('End');
    await expectAt(0, 27);
    await page.keyboard.press('ArrowRight'); // stops at the right edge
    await expectAt(0, 27);
    await page.keyboard.press('Home');
    await expectAt(0, 0);
    await page.keyboard.press('Control+End');
    await expectAt(27, 27);
    // The value said is the value the inspector shows as the network's own (four decimals, no exponent).
    const said = /: (−?\d+\.\d{4})/.exec((await active.textContent()) ?? '')![1]!;
    expect(await page.getByTestId('dot-product').locator('dd').last().textContent()).toBe(said);
    // Escape lets the pixel go; the page scrolled nowhere sideways.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('dot-product').locator('h3').textContent()).not.toBe('C1 map 0, pixel (27, 27)');
    expect(lab.pageErrors).toEqual([]);
  });
});
