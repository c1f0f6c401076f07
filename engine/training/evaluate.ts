// Test-set evaluation: loss, accuracy, confusion matrix and every prediction.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSplit } from '../data/dataset.js';
import { lossFor, probabilitiesFor, type VariantSpec } from '../../common/network/variants.js';
import { BatchMaker, rangeIndices } from './batches.js';

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  predictions: Uint8Array;
  /** The probability the model gave its own prediction. */
  confidences: Float32Array;
}

export interface Mistake { index: number; label: number; predicted: number; confidence: number }

export function evaluate(model: tfl.LayersModel, spec: VariantSpec, split: DataSplit, numClasses: number, limit?: number, batchSize = 500): Evaluation {
  const count = Math.min(split.count, limit ?? split.count);
  const maker = new BatchMaker(split, spec.input, numClasses, batchSize);
  const order = rangeIndices(count);
  const lossFn = lossFor(spec);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const predictions = new Uint8Array(count);
  const confidences = new Float32Array(count);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const { x, y, labels } = maker.make(order, start, end);
    const [lossT, probsT] = tf.tidy(() => {
      const out = model.predict(x) as tf.Tensor;
      return [lossFn(y, out), probabilitiesFor(spec, out)];
    });
    lossSum += (lossT!.dataSync()[0] ?? NaN) * (end - start);
    const probs = probsT!.dataSync();
    tf.dispose([x, y, lossT!, probsT!]);
    for (let i = 0; i < end - start; i++) {
      let best = 0;
      for (let c = 1; c < numClasses; c++) if (probs[i * numClasses + c]! > probs[i * numClasses + best]!) best = c;
      predictions[start + i] = best;
      confidences[start + i] = probs[i * numClasses + best]!;
      confusion[labels[i]!]![best]! += 1;
      if (best === labels[i]) correct++;
    }
  }
  return { loss: lossSum / count, accuracy: correct / count, count, confusion, predictions, confidences };
}

/** Misclassified images, most confident mistakes first. */
export function mistakesOf(evaluation: Evaluation, labels: Uint8Array): Mistake[] {
  const mistakes: Mistake[] = [];
  for (let i = 0; i < evaluation.count; i++) {
    const predicted = evaluation.predictions[i]!;
    if (predicted !== labels[i]) mistakes.push({ index: i, label: labels[i]!, predicted, confidence: evaluation.confidences[i]! });
  }
  return mistakes.sort((a, b) => b.confidence - a.confidence);
}
