// How the drawing pad's answer is worded: the hint under the digit and the bars' percentages.
import type { LabIntl } from '../../../common/i18n/index.js';

/** Less ink than this (the strokes' total length, in pad pixels of 280) is a dot or a speck, not a digit. */
export const MIN_INK_LENGTH = 40;
/**
 * Below this top probability the pad says "not sure" rather than name a digit: 50% means the network gives
 * the other nine digits together as much weight; a stalled model gives every digit about 10%.
 */
export const MIN_CONFIDENCE = 0.5;

/** The strokes' total length in pad pixels (a dot is 0). */
export function inkLength(strokes: readonly (readonly { x: number; y: number }[])[]): number {
  let length = 0;
  for (const stroke of strokes) {
    for (let i = 1; i < stroke.length; i++) length += Math.hypot(stroke[i]!.x - stroke[i - 1]!.x, stroke[i]!.y - stroke[i - 1]!.y);
  }
  return length;
}

export interface PadState {
  hasInk: boolean;
  prediction: { digit: number; probabilities: ArrayLike<number> } | null;
  loading: boolean;
  /** The strokes' total length (inkLength); leave out to skip the ink check. */
  ink?: number;
}

/** Whether the pad names a digit: blank, no model, too little ink, not sure, or sure. */
export function padReading(state: PadState): 'blank' | 'noModel' | 'tooLittleInk' | 'unsure' | 'sure' {
  if (!state.hasInk) return 'blank';
  if (!state.prediction) return 'noModel';
  if (state.ink !== undefined && state.ink < MIN_INK_LENGTH) return 'tooLittleInk';
  const top = state.prediction.probabilities[state.prediction.digit] ?? 0;
  return top < MIN_CONFIDENCE ? 'unsure' : 'sure';
}

/** The hint under the predicted digit: draw something, the model is loading / missing, too little ink, not sure, or how sure it is. */
export function predictionHint(state: PadState, lab: LabIntl): string {
  const reading = padReading(state);
  if (reading === 'blank') return lab.t('draw.hint.draw');
  if (reading === 'noModel') return state.loading ? lab.t('draw.hint.loading') : lab.t('draw.hint.noModel');
  if (reading === 'tooLittleInk') return lab.t('pad.tooLittleInk');
  const { digit, probabilities } = state.prediction!;
  const percent = lab.percent(probabilities[digit], 1);
  return reading === 'unsure' ? lab.t('pad.unsure', { digit, percent }) : lab.t('draw.hint.sure', { percent });
}

/** A bar's percentage: whole percent from 10% up, one decimal below (so 3.4% and 0.2% stay apart). */
export function probabilityText(p: number, lab: LabIntl): string {
  return lab.percent(p, p > 0.0995 ? 0 : 1);
}
