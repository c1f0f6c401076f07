// How the drawing pad's answer is worded: the hint under the digit and the bars' percentages.
import type { LabIntl } from '../../../common/i18n/index.js';

/** The hint under the predicted digit: draw something, the model is loading / missing, or how sure it is. */
export function predictionHint(
  state: { hasInk: boolean; prediction: { digit: number; probabilities: ArrayLike<number> } | null; loading: boolean },
  lab: LabIntl,
): string {
  if (!state.hasInk) return lab.t('draw.hint.draw');
  if (!state.prediction) return state.loading ? lab.t('draw.hint.loading') : lab.t('draw.hint.noModel');
  return lab.t('draw.hint.sure', { percent: lab.percent(state.prediction.probabilities[state.prediction.digit], 1) });
}

/** A bar's percentage: whole percent from 10% up, one decimal below (so 3.4% and 0.2% stay apart). */
export function probabilityText(p: number, lab: LabIntl): string {
  return lab.percent(p, p > 0.0995 ? 0 : 1);
}
