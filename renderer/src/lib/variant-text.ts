// The variants' titles and one-paragraph summaries in the user's language (common/network/variants.ts keeps
// the English ones for the CLI and the logs).
import type { MessageKey } from '../../../common/i18n/index.js';
import type { VariantName } from '../../../common/protocol.js';

const TITLE_KEYS: Record<VariantName, MessageKey> = {
  lenet5: 'variant.lenet5.title', modern: 'variant.modern.title', seed: 'variant.seed.title',
  linear: 'variant.linear.title', lenet1: 'variant.lenet1.title', lenet4: 'variant.lenet4.title',
};
const SUMMARY_KEYS: Record<VariantName, MessageKey> = {
  lenet5: 'variant.lenet5.summary', modern: 'variant.modern.summary', seed: 'variant.seed.summary',
  linear: 'variant.linear.summary', lenet1: 'variant.lenet1.summary', lenet4: 'variant.lenet4.summary',
};

type Translate = (id: MessageKey) => string;

/** "LeNet-5 (1998)", "课程原版配方"…; an unknown name (an old model file) is shown as it is. */
export const variantTitle = (name: string, t: Translate): string => (Object.hasOwn(TITLE_KEYS, name) ? t(TITLE_KEYS[name as VariantName]) : name);
export const variantSummary = (name: VariantName, t: Translate): string => t(SUMMARY_KEYS[name]);
