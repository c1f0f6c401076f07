// Inference with every intermediate activation. Isomorphic: the CLI, the lab worker and the renderer's
// drawing pad all use this one path: a forward pass written from the layer specs (forward.ts) over the
// model's live weights, not tfjs-layers (≈ 10× faster for one image, and it allocates only the result).
import type * as tfl from '@tensorflow/tfjs-layers';
import { toModelInput } from '../preprocess.js';
import { createForwardPass, probabilitiesInto } from './forward.js';
import type { VariantSpec } from './variants.js';

export interface Activation {
  /** The layer spec's id: 'INPUT', 'C1', 'S2', ... 'OUT'. */
  id: string;
  shape: number[];
  data: Float32Array;
}

export interface Prediction {
  digit: number;
  probabilities: number[];
  activations: Activation[];
}

export interface Predictor {
  /**
   * One 28×28 image (ink = 1, background = 0) → probabilities and every layer's maps, with the model's
   * weights as they are now. Each Prediction owns its arrays: later calls never change them.
   */
  predict(pixels28: Float32Array): Prediction;
  dispose(): void;
}

export const argmax = (values: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
};

/** A predictor over `model` (built from `spec`); it reads the model's weights at each call, so it follows training. */
export function createPredictor(model: tfl.LayersModel, spec: VariantSpec): Predictor {
  const forward = createForwardPass(model, spec);
  const ids = spec.layers.filter((l) => l.kind !== 'input').map((l) => l.id);
  const inputId = spec.layers.find((l) => l.kind === 'input')?.id ?? 'INPUT';
  const size = spec.input.size;
  const classes = forward.shapes[forward.shapes.length - 1]?.[0] ?? 0;
  const probabilities = new Float32Array(classes);
  return {
    predict(pixels28) {
      const input = toModelInput(pixels28, spec.input);
      // The maps go to the caller (the views keep a Prediction while the next one is computed): fresh each call.
      const maps = forward.shapes.map((shape) => new Float32Array(shape.reduce((a, d) => a * d, 1)));
      forward.run(input, maps);
      probabilitiesInto(spec.loss, maps[maps.length - 1]!, probabilities);
      const values = Array.from(probabilities);
      const activations: Activation[] = [{ id: inputId, shape: [size, size, 1], data: input }];
      ids.forEach((id, i) => activations.push({ id, shape: [...forward.shapes[i]!], data: maps[i]! }));
      return { digit: argmax(values), probabilities: values, activations };
    },
    dispose() {
      // The predictor owns no tensors: the weights are the model's.
    },
  };
}
