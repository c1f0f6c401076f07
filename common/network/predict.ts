// Inference with every intermediate activation. Isomorphic: the CLI, the lab
// worker and the renderer's drawing pad all use this one path.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { toModelInput } from '../preprocess.js';
import { probabilitiesFor, type VariantSpec } from './variants.js';

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
  /** One 28×28 image (ink = 1, background = 0) → probabilities and every layer's maps. */
  predict(pixels28: Float32Array): Prediction;
  dispose(): void;
}

export const argmax = (values: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
};

/**
 * A multi-output view of the model: one output per diagram layer. It shares the
 * model's weights, so it stays live while training changes them.
 */
export function createPredictor(model: tfl.LayersModel, spec: VariantSpec): Predictor {
  const mapped = spec.layers.filter((l) => l.kind !== 'input');
  const outputs = mapped.map((l) => model.getLayer(l.modelLayerName).output as tfl.SymbolicTensor);
  const probe = tfl.model({ inputs: model.inputs, outputs });
  const size = spec.input.size;
  return {
    predict(pixels28) {
      const input = toModelInput(pixels28, spec.input);
      const tensors = tf.tidy(() => {
        const x = tf.tensor4d(input, [1, size, size, 1]);
        // A one-layer network (the linear classifier) has a single output: predict gives a tensor, not a list.
        const out = probe.predict(x) as tf.Tensor | tf.Tensor[];
        const raw = Array.isArray(out) ? out : [out];
        const probs = probabilitiesFor(spec, raw[raw.length - 1]!);
        return [...raw, probs];
      });
      try {
        const values = tensors.map((t) => t.dataSync() as Float32Array);
        const probabilities = Array.from(values[values.length - 1]!);
        const inputId = spec.layers.find((l) => l.kind === 'input')?.id ?? 'INPUT';
        const activations: Activation[] = [{ id: inputId, shape: [size, size, 1], data: input }];
        mapped.forEach((layer, i) => {
          activations.push({ id: layer.id, shape: tensors[i]!.shape.slice(1), data: values[i]! });
        });
        return { digit: argmax(probabilities), probabilities, activations };
      } finally {
        tf.dispose(tensors);
      }
    },
    dispose() {
      // The probe owns no weights of its own; nothing else to free.
    },
  };
}
