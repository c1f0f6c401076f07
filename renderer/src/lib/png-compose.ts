// The maths of a panel picture: where the title lines and the panel go on the PNG, at what scale, and the
// background that matches the theme. Pure (no DOM), so it is unit-tested; panel-raster.ts does the drawing.

export interface Rgba { r: number; g: number; b: number; a: number }

/**
 * Parses the colours getComputedStyle returns: "rgb(r, g, b)", "rgba(r, g, b, a)", "rgb(r g b / a)", #rgb, #rrggbb,
 * and "color(srgb r g b / a)" (what color-mix() computes to, channels 0–1).
 */
export function parseCssColor(text: string): Rgba | null {
  const value = text.trim().toLowerCase();
  if (value === 'transparent') return { r: 0, g: 0, b: 0, a: 0 };
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(value);
  if (hex) {
    const digits = hex[1]!.length === 3 ? [...hex[1]!].map((d) => d + d) : hex[1]!.match(/../g)!;
    const [r, g, b] = digits.map((d) => parseInt(d, 16)) as [number, number, number];
    return { r, g, b, a: 1 };
  }
  const srgb = /^color\(srgb\s+([^)]*)\)$/.exec(value);
  if (srgb) {
    const parts = srgb[1]!.split(/[\s/]+/).filter(Boolean).map(Number);
    if ((parts.length !== 3 && parts.length !== 4) || !parts.every(Number.isFinite)) return null;
    const [r, g, b, a = 1] = parts as [number, number, number, number?];
    return { r: r * 255, g: g * 255, b: b * 255, a: Math.min(1, Math.max(0, a)) };
  }
  const fn = /^rgba?\(([^)]*)\)$/.exec(value);
  if (!fn) return null;
  const parts = fn[1]!.split(/[\s,/]+/).filter(Boolean);
  if (parts.length < 3 || parts.length > 4) return null;
  const channel = (p: string): number => (p.endsWith('%') ? (parseFloat(p) / 100) * 255 : parseFloat(p));
  const [r, g, b] = parts.slice(0, 3).map(channel) as [number, number, number];
  const a = parts[3] === undefined ? 1 : parts[3].endsWith('%') ? parseFloat(parts[3]) / 100 : parseFloat(parts[3]);
  if (![r, g, b, a].every(Number.isFinite)) return null;
  return { r, g, b, a: Math.min(1, Math.max(0, a)) };
}

/** True when the colour paints something: not transparent. A colour this cannot parse (oklch…) is drawn as given. */
export const paints = (text: string): boolean => text.trim() !== '' && (parseCssColor(text)?.a ?? 1) > 0;

/**
 * The picture's background: the first fully opaque colour from the panel outwards (a card's surface, then the
 * page's); white when there is none, as in a light theme with transparent cards.
 */
export function opaqueBackground(colorsInsideOut: readonly string[]): string {
  for (const text of colorsInsideOut) {
    const c = parseCssColor(text);
    if (c && c.a >= 1) return `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
  }
  return 'rgb(255, 255, 255)';
}

/** A dark background takes light text for the title: relative luminance below one half. */
export function isDark(color: string): boolean {
  const c = parseCssColor(color);
  if (!c) return false;
  const lin = (v: number): number => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b) < 0.5;
}

export interface PngLayoutInput {
  /** The panel's size in CSS px. */
  contentWidth: number;
  contentHeight: number;
  /** How many title lines go above the panel (a title, then a line saying which model and when). */
  titleLines: number;
  /** Device pixels per CSS px wanted (2 = crisp on a projector); lowered when the picture would be too large. */
  scale: number;
  padding?: number;
  lineHeight?: number;
  /** The largest side a canvas may have (Chromium's limit is far above; this keeps files small). */
  maxSide?: number;
  /** Narrow panels still get room for their title. */
  minWidth?: number;
}

export interface PngLayout {
  /** The PNG's size in device pixels. */
  width: number;
  height: number;
  /** Device px per CSS px actually used. */
  scale: number;
  /** In CSS px (multiply by scale to draw): the baselines of the title lines, and where the panel goes. */
  titleBaselines: number[];
  content: { x: number; y: number; width: number; height: number };
}

export const PNG_PADDING = 16;
export const PNG_LINE_HEIGHT = 22;
export const PNG_MAX_SIDE = 4096;
export const PNG_MIN_WIDTH = 320;

export function pngLayout({
  contentWidth, contentHeight, titleLines, scale, padding = PNG_PADDING, lineHeight = PNG_LINE_HEIGHT, maxSide = PNG_MAX_SIDE, minWidth = PNG_MIN_WIDTH,
}: PngLayoutInput): PngLayout {
  const width = Math.max(Math.ceil(Math.max(0, contentWidth)) + 2 * padding, minWidth);
  const titleHeight = titleLines * lineHeight + (titleLines > 0 ? padding / 2 : 0);
  const height = Math.ceil(Math.max(0, contentHeight)) + 2 * padding + titleHeight;
  const fitted = Math.min(Math.max(scale, 0.25), maxSide / width, maxSide / height);
  return {
    width: Math.round(width * fitted),
    height: Math.round(height * fitted),
    scale: fitted,
    // A baseline sits about three quarters down its line.
    titleBaselines: Array.from({ length: titleLines }, (_, i) => padding + i * lineHeight + Math.round(lineHeight * 0.75)),
    content: { x: padding, y: padding + titleHeight, width: Math.ceil(Math.max(0, contentWidth)), height: Math.ceil(Math.max(0, contentHeight)) },
  };
}

/** Where a child at viewport rect `rect` lands on the picture, in CSS px, given the panel's viewport rect. */
export function placeInContent(rect: { left: number; top: number; width: number; height: number }, panel: { left: number; top: number },
  content: { x: number; y: number }): { x: number; y: number; width: number; height: number } {
  return { x: content.x + rect.left - panel.left, y: content.y + rect.top - panel.top, width: rect.width, height: rect.height };
}
