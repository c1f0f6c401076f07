// Which view is on screen, which layer it should focus, and which input the
// feature-map view shows. Views navigate only through go().
import type { ViewName } from '../../../common/views.js';

/** The input the Feature maps view shows: the drawing pad's digit, or a test image by index. */
export type FeatureInput = { kind: 'drawing' } | { kind: 'test'; index: number };

export class NavStore {
  view = $state<ViewName>('train');
  /** A layer id (e.g. 'C3') the target view should scroll to / highlight; null = none. */
  focusLayer = $state<string | null>(null);
  featureInput = $state.raw<FeatureInput>({ kind: 'test', index: 0 });
  /** The view that opened Feature maps on its input (showFeatures), or null when the user went there directly. */
  featureFrom = $state<ViewName | null>(null);

  go(view: ViewName, layer: string | null = null): void {
    if (view !== 'features') this.featureFrom = null;
    this.view = view;
    this.focusLayer = layer;
  }

  /** Open the Feature maps view on a given input. */
  showFeatures(input: FeatureInput, layer: string | null = null): void {
    this.featureInput = input;
    this.featureFrom = this.view;
    this.go('features', layer);
  }
}
