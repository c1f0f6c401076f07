// The Network view's picture, laid out like Fig. 2 of LeCun et al. 1998: stacked feature-map planes to
// scale, vectors as bars, and the kernel window of each layer projecting onto one unit of the next.
// Pure geometry in SVG units.
import type { LayerViewModel } from './layer-view-model.js';

/** SVG px per pixel of a feature map: every plane is drawn to the same scale, as in the paper. */
export const PX = 3.6;
export const GAP = 44;
export const MIN_CENTRE_DISTANCE = 110;
export const TOP = 58;
export const STACK_ZONE = 170;
export const STATS_Y = TOP + STACK_ZONE + 48;
export const DIAGRAM_HEIGHT = STATS_Y + 52;
/** The diagram is drawn at most this wide; its text scales back up when the window is narrower. */
export const MAX_DIAGRAM_WIDTH = 1100;
/** Planes drawn per stack at most (a 120-map stack would be a smear). */
const MAX_PLANES = 16;

export interface Block {
  vm: LayerViewModel;
  x: number;
  y: number;
  w: number;
  h: number;
  cx: number;
  /** Map blocks: the front plane's side, the number of planes drawn and the step between them. */
  plane: number;
  planes: number;
  offset: number;
}

export interface Point { x: number; y: number }
export interface Window { x: number; y: number; size: number }
export interface Projection { key: string; from: Window; to: Window }

/** Blocks left to right, vertically centred on the stack zone. */
export function layoutBlocks(vms: readonly LayerViewModel[]): Block[] {
  const centreY = TOP + STACK_ZONE / 2;
  const out: Block[] = [];
  let previous: Block | null = null;
  for (const vm of vms) {
    let w: number, h: number, plane = 0, planes = 0, offset = 0;
    if (vm.isMap) {
      plane = (vm.layer.outShape[0] ?? 0) * PX;
      planes = Math.min(vm.maps, MAX_PLANES);
      offset = planes > 8 ? 3 : 5;
      w = h = plane + (planes - 1) * offset;
    } else {
      w = 16;
      h = Math.round(14.6 * Math.sqrt(vm.units));
    }
    const x: number = previous ? Math.max(previous.x + previous.w + GAP, previous.cx + MIN_CENTRE_DISTANCE - w / 2) : 24;
    const block: Block = { vm, x, y: centreY - h / 2, w, h, cx: x + w / 2, plane, planes, offset };
    out.push(block);
    previous = block;
  }
  return out;
}

export function diagramWidth(blocks: readonly Block[]): number {
  const last = blocks.at(-1);
  return (last?.x ?? 0) + (last?.w ?? 0) + 60;
}

/**
 * How much the diagram's text grows so it stays readable when the picture is drawn narrower than its
 * width: up to 1.3×, which the spacing of the layers leaves room for.
 */
export function textScaleFor(width: number, cardWidth: number): number {
  if (cardWidth <= 0) return 1;
  const drawn = Math.min(MAX_DIAGRAM_WIDTH, cardWidth - 32);
  return Math.min(1.3, Math.max(1, width / drawn));
}

/** The clickable width of a layer: its drawing, or its (scaled-up) 13 px headline if that is wider (a CJK glyph is two columns). */
export function hitWidthOf(b: Block, textScale: number, headline: string): number {
  const columns = [...headline].reduce((sum, ch) => sum + (/[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u.test(ch) ? 2 : 1), 0);
  return Math.max(b.w + 28, columns * 8.2 * textScale + 20);
}

/** Plane k of a stack (k = 0 is the front plane, bottom-left; planes behind step up and right). */
export function planeAt(b: Block, k: number): Point {
  return { x: b.x + k * b.offset, y: b.y + (b.planes - 1 - k) * b.offset };
}

/** The kernel window in the layer below and the one unit of this layer it makes, or null. */
export function projectionOf(below: Block, b: Block): Projection | null {
  const k = b.vm.stage?.kernel;
  if (!k || !below.vm.isMap) return null;
  const front = planeAt(below, 0);
  const size = Math.min(below.plane, k * PX);
  const from = { x: front.x + (below.plane - size) * 0.62, y: front.y + (below.plane - size) * 0.28, size };
  if (b.vm.isMap) {
    const bf = planeAt(b, 0);
    return { key: b.vm.id, from, to: { x: bf.x + (b.plane - PX) * 0.62, y: bf.y + (b.plane - PX) * 0.28, size: PX } };
  }
  return { key: b.vm.id, from, to: { x: b.x, y: b.y + b.h * 0.3, size: 3 } };
}

export function projectionsOf(blocks: readonly Block[]): Projection[] {
  return blocks.flatMap((b, i) => {
    const below = blocks[i - 1];
    const p = below ? projectionOf(below, b) : null;
    return p ? [p] : [];
  });
}

/** Between two vector layers: a fan of lines from 5 points on the left bar to 3 on the right one. */
export function fanLines(below: Block, b: Block): { x1: number; y1: number; x2: number; y2: number }[] {
  const lines = [];
  for (const f of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    for (const g of [0.15, 0.5, 0.85]) lines.push({ x1: below.x + below.w, y1: below.y + below.h * f, x2: b.x, y2: b.y + b.h * g });
  }
  return lines;
}
