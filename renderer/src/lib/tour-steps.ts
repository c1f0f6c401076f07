// The guided lesson as data: each step names the view it opens, the element it points at (a data-testid;
// the step reads well without it) and its message keys. The order follows the lesson's sections.
import type { MessageKey } from '../../../common/i18n/index.js';

export interface TourStep {
  id: string;
  /** The view the step opens (a name from the view registry). */
  view: string;
  /** The data-testid of the part of the screen the step talks about. */
  target: string;
  titleKey: MessageKey;
  bodyKey: MessageKey;
  /** "What to look for": the one thing to see on screen. */
  lookKey: MessageKey;
  /** A variant whose recipe the step offers to load into the Train form. */
  recipe?: string;
  /** Which side the panel takes when the target spans the screen (default: the side away from the target). */
  panel?: 'left' | 'right';
}

export const TOUR_STEPS: readonly TourStep[] = [
  { id: 'cnn', view: 'draw', target: 'draw-canvas', titleKey: 'tour.cnn.title', bodyKey: 'tour.cnn.body', lookKey: 'tour.cnn.look' },
  { id: 'formula', view: 'features', target: 'dot-product', titleKey: 'tour.formula.title', bodyKey: 'tour.formula.body', lookKey: 'tour.formula.look' },
  { id: 'kinds', view: 'convolutions', target: 'convolutions-view', titleKey: 'tour.kinds.title', bodyKey: 'tour.kinds.body', lookKey: 'tour.kinds.look' },
  { id: 'layers', view: 'network', target: 'network-diagram', titleKey: 'tour.layers.title', bodyKey: 'tour.layers.body', lookKey: 'tour.layers.look' },
  { id: 'train', view: 'train', target: 'train-start', titleKey: 'tour.train.title', bodyKey: 'tour.train.body', lookKey: 'tour.train.look' },
  { id: 'stall', view: 'train', target: 'chart-gradients', titleKey: 'tour.stall.title', bodyKey: 'tour.stall.body', lookKey: 'tour.stall.look', recipe: 'seed' },
  { id: 'paper', view: 'evaluate', target: 'paper-table', titleKey: 'tour.paper.title', bodyKey: 'tour.paper.body', lookKey: 'tour.paper.look', panel: 'right' },
];

/** The steps this build can show: a step whose view is not in the registry is skipped; a recipe whose variant is missing is dropped. */
export function availableSteps(
  views: readonly string[],
  variants: readonly string[],
  steps: readonly TourStep[] = TOUR_STEPS,
): TourStep[] {
  return steps
    .filter((step) => views.includes(step.view))
    .map((step) => (step.recipe && !variants.includes(step.recipe) ? { ...step, recipe: undefined } : step));
}

/** Where a left lesson resumes: the remembered step, or the first when it is unknown (or no longer shown). */
export function resumeIndex(steps: readonly TourStep[], savedId: string | null): number {
  const at = savedId === null ? -1 : steps.findIndex((step) => step.id === savedId);
  return Math.max(0, at);
}

/** What the lesson remembers between launches. */
export interface TourMemory {
  /** The lesson has been offered once (first launch). */
  seen: boolean;
  /** The step to resume at; null once the lesson was finished. */
  step: string | null;
}

export function parseTourMemory(raw: string | null): TourMemory {
  try {
    const value: unknown = raw === null ? null : JSON.parse(raw);
    if (value && typeof value === 'object') {
      const { seen, step } = value as Record<string, unknown>;
      return { seen: seen === true, step: typeof step === 'string' ? step : null };
    }
  } catch {
    // A damaged entry: offer the lesson again from the start.
  }
  return { seen: false, step: null };
}
