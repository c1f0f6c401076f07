// The vocabulary shared by the engine, its hosts and the renderer.
// Zod schemas are the single source: types are inferred from them, and every
// host validates what crosses a process boundary against them.
import { z } from 'zod';
import { BACKEND_NAMES, VARIANT_NAMES } from './names.js';

export { BACKEND_NAMES, VARIANT_NAMES };
export const VariantName = z.enum(VARIANT_NAMES);
export type VariantName = z.infer<typeof VariantName>;

export const BackendName = z.enum(BACKEND_NAMES);
export type BackendName = z.infer<typeof BackendName>;

/** A training recipe. Bounds reject absurd values before any tensor exists. */
export const Recipe = z.strictObject({
  optimizer: z.enum(['sgd', 'adam']),
  learningRate: z.number().finite().gt(0, 'learning rate must be > 0').max(1000, 'learning rate must be ≤ 1000'),
  momentum: z.number().finite().min(0).lt(1, 'momentum must be < 1'),
  batchSize: z.number().int().min(1).max(4096),
  epochs: z.number().int().min(1, 'epochs must be at least 1').max(200),
  /** Multiply the learning rate by this factor after every epoch (1 = constant). */
  lrDecay: z.number().finite().gt(0).max(1).default(1),
  /** Shift each training digit by up to this many pixels at random (0 = off): cheap augmentation. */
  augmentShift: z.number().int().min(0).max(2).default(0),
});
export type Recipe = z.infer<typeof Recipe>;
export const RecipeOverrides = Recipe.partial();
export type RecipeOverrides = z.infer<typeof RecipeOverrides>;

export const DatasetRef = z.union([
  z.strictObject({ kind: z.literal('mnist') }),
  z.strictObject({ kind: z.literal('folder'), dir: z.string().min(1).max(4096) }),
]);
export type DatasetRef = z.infer<typeof DatasetRef>;

export const TrainConfig = z.strictObject({
  variant: VariantName,
  recipe: RecipeOverrides.default({}),
  dataset: DatasetRef.default({ kind: 'mnist' }),
  /** Train on the first N training images only. */
  limit: z.number().int().min(1).max(10_000_000).optional(),
  /** Evaluate on the first N test images only (for quick classroom runs). */
  testLimit: z.number().int().min(1).max(10_000_000).optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
});
export type TrainConfig = z.input<typeof TrainConfig>;
export type ResolvedTrainConfig = z.output<typeof TrainConfig>;

/** A float32 tensor on the wire: base64 of little-endian bytes, so JSON and structured clone carry it alike. */
export const WireTensor = z.strictObject({
  name: z.string().max(200),
  shape: z.array(z.number().int().min(0).max(100_000)).max(8),
  data: z.string().max(64 * 1024 * 1024),
});
export type WireTensor = z.infer<typeof WireTensor>;

export const RunPhase = z.enum(['idle', 'loading', 'running', 'paused', 'stopping']);
export type RunPhase = z.infer<typeof RunPhase>;

export const GradientNorm = z.strictObject({ layer: z.string(), norm: z.number() });

/** Everything a training run reports, one tagged union. */
export const TrainerEvent = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('started'), runId: z.string(), variant: VariantName, backend: BackendName,
    /** Training engines: 2 = data-parallel over two cores. */
    engines: z.union([z.literal(1), z.literal(2)]).optional(),
    /** Why a run that would use two engines uses one. */
    enginesNote: z.string().max(500).optional(),
    recipe: Recipe, dataset: z.string(), trainCount: z.number(), testCount: z.number(),
    batchesPerEpoch: z.number(), seed: z.number(),
  }),
  z.strictObject({
    type: z.literal('batch'), runId: z.string(), epoch: z.number(), batch: z.number(),
    batchesPerEpoch: z.number(), loss: z.number(), accuracy: z.number(),
    imagesPerSecond: z.number(), step: z.number(),
  }),
  z.strictObject({
    type: z.literal('epoch'), runId: z.string(), epoch: z.number(), epochs: z.number(),
    trainLoss: z.number(), trainAccuracy: z.number(), testLoss: z.number(), testAccuracy: z.number(),
    seconds: z.number(), imagesPerSecond: z.number(), learningRate: z.number(),
  }),
  z.strictObject({
    type: z.literal('weights'), runId: z.string(), epoch: z.number(), batch: z.number(), step: z.number(),
    tensors: z.array(WireTensor),
  }),
  z.strictObject({
    type: z.literal('gradients'), runId: z.string(), epoch: z.number(), batch: z.number(), step: z.number(),
    norms: z.array(GradientNorm),
  }),
  z.strictObject({ type: z.literal('state'), runId: z.string(), phase: RunPhase }),
  /** A run that began on one engine while its second started: it joined at `step`, or could not (`enginesNote`: why). */
  z.strictObject({
    type: z.literal('engines'), runId: z.string(), engines: z.union([z.literal(1), z.literal(2)]), step: z.number(),
    enginesNote: z.string().max(500).optional(),
  }),
  z.strictObject({
    type: z.literal('done'), runId: z.string(), reason: z.enum(['completed', 'stopped', 'diverged']),
    message: z.string(), testAccuracy: z.number(), testLoss: z.number(), backend: BackendName,
    imagesPerSecond: z.number(), epochsCompleted: z.number(), seconds: z.number(),
  }),
  z.strictObject({ type: z.literal('error'), runId: z.string(), message: z.string() }),
]);
export type TrainerEvent = z.infer<typeof TrainerEvent>;
export type TrainerEventOf<T extends TrainerEvent['type']> = Extract<TrainerEvent, { type: T }>;
