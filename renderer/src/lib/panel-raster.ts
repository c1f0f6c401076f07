// A panel of the page as a PNG that makes sense on its own: a title line (what), a second line (which model,
// when), then the panel as it looks, on the theme's background. The panel is redrawn from what the DOM shows:
// its canvases (kernels, feature maps, charts, the pad) as they are, its SVGs (the network diagram) with their
// computed styles inlined, and its boxes and text (the confusion matrix's cells and counts) from computed
// styles. Elements marked data-png-skip (the Save buttons) are left out. The maths is png-compose.ts.
import { Chart } from 'chart.js';
import { opaqueBackground, paints, placeInContent, pngLayout, type PngLayout } from './png-compose.js';

/** What the picture says above the panel. */
export interface PanelTitle {
  title: string;
  subtitle?: string;
}

type Box = { x: number; y: number; width: number; height: number };

const SVG_STYLE_PROPERTIES = [
  'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-opacity', 'stroke-dasharray', 'opacity', 'font-family', 'font-size',
  'font-weight', 'text-anchor', 'dominant-baseline', 'visibility', 'display',
] as const;

function isHidden(style: CSSStyleDeclaration, rect: DOMRect): boolean {
  return style.display === 'none' || style.visibility === 'hidden' || style.opacity === '0' || rect.width === 0 || rect.height === 0;
}

/** An SVG with its computed styles written on each element, so it draws the same outside the page. */
async function svgAsImage(svg: SVGSVGElement, rect: DOMRect): Promise<HTMLImageElement> {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...svg.querySelectorAll('*')];
  const copies = [clone, ...clone.querySelectorAll('*')];
  originals.forEach((original, i) => {
    const style = getComputedStyle(original);
    const copy = copies[i] as SVGElement | undefined;
    if (!copy) return;
    copy.setAttribute('style', SVG_STYLE_PROPERTIES.map((p) => `${p}:${style.getPropertyValue(p)}`).join(';'));
  });
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(rect.width));
  clone.setAttribute('height', String(rect.height));
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function drawBox(context: CanvasRenderingContext2D, style: CSSStyleDeclaration, box: Box): void {
  const radius = Math.min(parseFloat(style.borderTopLeftRadius) || 0, box.width / 2, box.height / 2);
  if (paints(style.backgroundColor)) {
    context.fillStyle = style.backgroundColor;
    context.beginPath();
    context.roundRect(box.x, box.y, box.width, box.height, radius);
    context.fill();
  }
  const border = parseFloat(style.borderTopWidth) || 0;
  if (border > 0 && style.borderTopStyle !== 'none' && paints(style.borderTopColor)) {
    context.strokeStyle = style.borderTopColor;
    context.lineWidth = border;
    context.beginPath();
    context.roundRect(box.x + border / 2, box.y + border / 2, box.width - border, box.height - border, radius);
    context.stroke();
  }
}

/** A text node drawn where the page shows it, line by line (a word at a time when it wraps). */
function drawText(context: CanvasRenderingContext2D, node: Text, panel: DOMRect, layout: PngLayout): void {
  const text = node.data.replace(/\s+/g, ' ').trim();
  const parent = node.parentElement;
  if (!text || !parent) return;
  const style = getComputedStyle(parent);
  if (style.visibility === 'hidden' || !paints(style.color)) return;
  context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  context.fillStyle = style.color;
  context.textBaseline = 'middle';
  const range = document.createRange();
  range.selectNodeContents(node);
  const vertical = style.writingMode.startsWith('vertical');
  const pieces: { text: string; rect: DOMRect }[] = [];
  if ([...range.getClientRects()].filter((r) => r.width > 0).length <= 1 || vertical) {
    const rect = range.getBoundingClientRect();
    if (rect.width > 0) pieces.push({ text, rect });
  } else {
    // Wrapped text (with or without spaces, as Chinese is): each line is the run of characters that share a top.
    let line: { text: string; rect: DOMRect } | null = null;
    let offset = 0;
    for (const ch of node.data) {
      range.setStart(node, offset);
      range.setEnd(node, offset + ch.length);
      offset += ch.length;
      const rect = range.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      if (line && Math.abs(rect.top - line.rect.top) < rect.height / 2) line.text += ch;
      else {
        if (line) pieces.push(line);
        line = { text: ch, rect };
      }
    }
    if (line) pieces.push(line);
    for (const piece of pieces) piece.text = piece.text.replace(/\s+/g, ' ').trim();
  }
  for (const piece of pieces) {
    const box = placeInContent(piece.rect, panel, layout.content);
    if (vertical) {
      context.save();
      context.translate(box.x + box.width / 2, box.y + box.height / 2);
      context.rotate(Math.PI / 2);
      context.textAlign = 'center';
      context.fillText(piece.text, 0, 0);
      context.restore();
    } else {
      context.textAlign = 'left';
      context.fillText(piece.text, box.x, box.y + box.height / 2);
    }
  }
}

async function drawTree(context: CanvasRenderingContext2D, root: HTMLElement, panel: DOMRect, layout: PngLayout): Promise<void> {
  const visit = async (element: Element, isRoot: boolean): Promise<void> => {
    if (element instanceof HTMLElement && element.dataset.pngSkip !== undefined) return;
    const rect = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (isHidden(style, rect) && !(style.display === 'contents')) return;
    const box = placeInContent(rect, panel, layout.content);
    if (element instanceof HTMLCanvasElement) {
      drawBox(context, style, box); // the pad's paper is its CSS background
      // Small canvases shown large (kernels, feature maps) keep their square pixels.
      context.imageSmoothingEnabled = !(style.imageRendering === 'pixelated' || element.width < rect.width);
      if (element.width > 0 && element.height > 0) context.drawImage(element, box.x, box.y, box.width, box.height);
      context.imageSmoothingEnabled = true;
      return;
    }
    if (element instanceof SVGSVGElement) {
      context.drawImage(await svgAsImage(element, rect), box.x, box.y, box.width, box.height);
      return;
    }
    if (element instanceof HTMLImageElement) {
      if (element.complete && element.naturalWidth > 0) context.drawImage(element, box.x, box.y, box.width, box.height);
      return;
    }
    if (!isRoot) drawBox(context, style, box);
    for (const child of element.childNodes) {
      if (child instanceof Text) drawText(context, child, panel, layout);
      else if (child instanceof Element) await visit(child, false);
    }
  };
  await visit(root, true);
}

/** The colours behind `element`, from it outwards to the page. */
function backgroundsOutwards(element: HTMLElement): string[] {
  const colours: string[] = [];
  for (let at: Element | null = element; at; at = at.parentElement) colours.push(getComputedStyle(at).backgroundColor);
  return colours;
}

/**
 * Redraws the panel's charts at `scale` device px per CSS px until the returned function puts them back: a chart
 * drawn for a 1× screen and copied into a 2× picture has soft lines and text.
 */
function sharpenCharts(root: HTMLElement, scale: number): () => void {
  const changed: { chart: Chart; ratio: number | undefined }[] = [];
  for (const canvas of root.querySelectorAll('canvas')) {
    const chart = Chart.getChart(canvas);
    if (!chart || chart.currentDevicePixelRatio >= scale) continue;
    changed.push({ chart, ratio: chart.options.devicePixelRatio });
    chart.options.devicePixelRatio = scale;
    chart.resize();
  }
  return () => {
    for (const { chart, ratio } of changed) {
      chart.options.devicePixelRatio = ratio;
      chart.resize();
    }
  };
}

/** The panel as PNG bytes, with its title lines, at `scale` device px per CSS px (lowered for very large panels). */
export async function renderPanelPng(root: HTMLElement, { title, subtitle }: PanelTitle, scale = 2): Promise<Uint8Array> {
  await document.fonts.ready;
  const panel = root.getBoundingClientRect();
  const lines = [title, subtitle].filter((line): line is string => !!line);
  const layout = pngLayout({ contentWidth: panel.width, contentHeight: panel.height, titleLines: lines.length, scale });
  const canvas = document.createElement('canvas');
  canvas.width = layout.width;
  canvas.height = layout.height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser cannot draw a picture (no 2D canvas)');
  context.scale(layout.scale, layout.scale);
  context.fillStyle = opaqueBackground(backgroundsOutwards(root));
  context.fillRect(0, 0, layout.width / layout.scale, layout.height / layout.scale);
  const rootStyle = getComputedStyle(root);
  context.fillStyle = rootStyle.color;
  context.textBaseline = 'alphabetic';
  lines.forEach((line, i) => {
    context.font = `${i === 0 ? 700 : 400} ${i === 0 ? 16 : 13}px ${rootStyle.fontFamily}`;
    context.fillText(line, layout.content.x, layout.titleBaselines[i]!, layout.width / layout.scale - 2 * layout.content.x);
  });
  context.save();
  context.beginPath();
  context.rect(layout.content.x, layout.content.y, layout.content.width, layout.content.height);
  context.clip();
  const restoreCharts = sharpenCharts(root, layout.scale);
  try {
    await drawTree(context, root, panel, layout);
  } finally {
    restoreCharts();
  }
  context.restore();
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) throw new Error('the picture could not be encoded as PNG');
  return new Uint8Array(await blob.arrayBuffer());
}
