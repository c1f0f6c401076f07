// The recovery offer at launch: the last finished or stopped run is kept by the host (recoveryInfo); the page
// offers it when it is not what is open already. Pure, so the decision is unit-tested.
import type { ModelSummary } from '../../../common/contract.js';

type Slot = Pick<ModelSummary, 'name' | 'variant' | 'savedAt' | 'testAccuracy'>;
type Open = Slot & Pick<ModelSummary, 'unsaved'>;

/**
 * Offer the slot unless the open model is that very run, still unsaved (a browser reload while the host kept
 * it open). A run saved under a name empties the slot on the host, so a saved model never matches.
 */
export function shouldOfferRecovery(slot: Slot | null, open: Open | null, training: boolean): boolean {
  if (!slot || training) return false;
  const sameRun = open !== null && open.unsaved && open.variant === slot.variant && open.savedAt === slot.savedAt && open.name === slot.name;
  return !sameRun;
}
