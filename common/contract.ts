// The one IPC contract. Main, the hosts, the browser-mode bridge and the renderer
// all import it, so request, response and event types cannot drift apart.
//   invoke: renderer asks, host answers with a Result (never throws across).
//   events: host pushes to renderer.
// The names alone live in ./channels.ts (the preload needs nothing more), the
// error shape in ./errors.ts.
import { z } from 'zod';
import { type EventName, type InvokeName } from './channels.js';
import { ERROR_CODES, failure, type Result } from './errors.js';
import { ModelName } from './model-name.js';
import { BatchPoint, GradientPoint } from './run-record.js';
import { BackendName, DatasetRef, RunPhase, TrainConfig, TrainerEvent, VariantName, WireTensor } from './protocol.js';
import { VIEW_NAMES } from './views.js';
import { LOCALES } from './i18n/locales.js';
import { MAX_SAVE_BASE64_CHARS, MAX_SUGGESTED_NAME_CHARS, MAX_UPLOAD_BASE64_CHARS, SAVE_FILE_EXTENSIONS, SAVE_FILE_KINDS } from './file-kinds.js';

const Empty = z.strictObject({});
const Name = ModelName;
const Dir = z.string().min(1).max(4096);

export const ModelSummary = z.strictObject({
  name: z.string(),
  dir: z.string(),
  variant: VariantName,
  dataset: z.string(),
  backend: BackendName,
  testAccuracy: z.number().nullable(),
  savedAt: z.string(),
  builtin: z.boolean(),
  /** True when the model holds training that is not saved yet. */
  unsaved: z.boolean(),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

export const LabInfo = z.strictObject({
  appVersion: z.string(),
  transport: z.enum(['electron', 'browser']),
  backend: BackendName,
  backendNote: z.string(),
  versions: z.record(z.string(), z.string()),
  dataset: z.strictObject({ name: z.string(), dir: z.string(), trainCount: z.number(), testCount: z.number() }),
  modelsDir: z.string(),
  canOpenDialogs: z.boolean(),
});
export type LabInfo = z.infer<typeof LabInfo>;

export const Split = z.enum(['train', 'test']);
export const SamplesRequest = z.strictObject({
  split: Split,
  dataset: DatasetRef.optional(),
  indices: z.array(z.number().int().min(0).max(10_000_000)).min(1).max(1000),
});
export const Samples = z.strictObject({
  /** n × rows × cols uint8 pixels, base64, ink = 255. */
  images: z.string(),
  labels: z.array(z.number().int()),
  rows: z.number().int(),
  cols: z.number().int(),
});
export type Samples = z.infer<typeof Samples>;

export const EvalResult = z.strictObject({
  accuracy: z.number(),
  loss: z.number(),
  count: z.number(),
  confusion: z.array(z.array(z.number())),
  /** Every misclassified test image, most confident mistakes first. */
  mistakes: z.array(z.strictObject({ index: z.number(), label: z.number(), predicted: z.number(), confidence: z.number() })),
  /** predictions[i] is the predicted class of test image i. */
  predictions: z.array(z.number()),
  backend: BackendName,
});
export type EvalResult = z.infer<typeof EvalResult>;

export const ModelWeights = z.strictObject({ summary: ModelSummary, tensors: z.array(WireTensor) });
export type ModelWeights = z.infer<typeof ModelWeights>;

export const TrainStatus = z.strictObject({ phase: RunPhase, runId: z.string().nullable() });

// ------------------------------------------------------------------------------------------------
// Classroom channels (issue 11): history and timeline kept with a model, one-file export and import, CSV
// exports and the recovery slot. One block, so merges with other contract changes stay easy.

/** Which model: a saved model's folder, or (no dir) the model open now. */
const WhichModel = z.strictObject({ dir: Dir.optional() });

/** The upload and save limits (common/file-kinds.ts: no zod there, so the renderer can use them). */
export { MAX_SAVE_BASE64_CHARS, MAX_SUGGESTED_NAME_CHARS, MAX_UPLOAD_BASE64_CHARS, SAVE_FILE_EXTENSIONS } from './file-kinds.js';

export const EpochPoint = z.strictObject({
  epoch: z.number(), epochs: z.number(), trainLoss: z.number(), trainAccuracy: z.number(), testLoss: z.number(),
  testAccuracy: z.number(), seconds: z.number(), imagesPerSecond: z.number(), learningRate: z.number(),
});

/** A model's training history, for charts and for overlaying earlier runs. NaN travels as null in JSON. */
export const ModelHistory = z.strictObject({
  name: z.string(),
  variant: VariantName,
  /** False for models saved before runs were recorded (or never trained here): only `epochs` is known. */
  recorded: z.boolean(),
  epochs: z.array(EpochPoint.extend({ trainLoss: z.number().nullable(), trainAccuracy: z.number().nullable(), testLoss: z.number().nullable(), testAccuracy: z.number().nullable() })),
  batches: z.array(BatchPoint.extend({ loss: z.number().nullable(), accuracy: z.number().nullable() })),
  gradientLayers: z.array(z.string()),
  gradients: z.array(GradientPoint.extend({ norms: z.array(z.number().nullable()) })),
});
export type ModelHistory = z.infer<typeof ModelHistory>;

/** The Filters timeline kept with a model: C1 and C3 kernels at up to 30 moments of its run, oldest first. */
export const ModelSnapshots = z.strictObject({
  name: z.string(),
  variant: VariantName,
  snapshots: z.array(z.strictObject({ step: z.number(), epoch: z.number(), batch: z.number(), tensors: z.array(WireTensor) })),
});
export type ModelSnapshots = z.infer<typeof ModelSnapshots>;

/** A file the page offers as a download. */
export const ExportedFile = z.strictObject({ fileName: z.string(), mimeType: z.string(), base64: z.string() });
export const CsvKind = z.enum(['epochs', 'batches', 'confusion', 'mistakes']);
export const CsvFile = z.strictObject({ fileName: z.string(), text: z.string() });

/** What a window may save to disk; each kind has one extension (SAVE_FILE_EXTENSIONS). */
export const SaveFileKind = z.enum(SAVE_FILE_KINDS);
export type SaveFileKind = z.infer<typeof SaveFileKind>;
/** No folder separators and no control characters (C0 and DEL). */
const isPlainFileName = (text: string): boolean => [...text].every((ch) => ch !== '/' && ch !== '\\' && ch.charCodeAt(0) >= 32 && ch.charCodeAt(0) !== 127);
/** Standard padded base64. One flat character class: a grouped pattern overflows the stack on 64 Mi characters. */
const isPaddedBase64 = (text: string): boolean => text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
/** A suggested file name: a plain name (no folder, no control characters) with its kind's extension. */
export const SaveFileRequest = z.strictObject({
  kind: SaveFileKind,
  suggestedName: z.string().min(1).max(MAX_SUGGESTED_NAME_CHARS).refine(isPlainFileName, 'a plain file name, without folders or control characters'),
  base64: z.string().min(4).max(MAX_SAVE_BASE64_CHARS).refine(isPaddedBase64, 'padded base64'),
}).refine((request) => request.suggestedName.toLowerCase().endsWith(SAVE_FILE_EXTENSIONS[request.kind]) && request.suggestedName.length > SAVE_FILE_EXTENSIONS[request.kind].length,
  { path: ['suggestedName'], message: 'the name must end with the extension of its kind' });
export type SaveFileRequest = z.infer<typeof SaveFileRequest>;
/** saved: false when the user cancelled the save dialog; fileName is the name written (no folder). */
export const SavedFile = z.strictObject({ saved: z.boolean(), fileName: z.string().nullable() });

const classroomChannels = {
  /** Training history of a saved model (dir) or of the open model. */
  modelHistory: { request: WhichModel, response: ModelHistory },
  /** Filters-timeline snapshots of a saved model (dir) or of the open model. */
  modelSnapshots: { request: WhichModel, response: ModelSnapshots },
  /** A saved model (dir) or the open model as one .lenetlab file (base64). */
  exportModel: { request: WhichModel, response: ExportedFile },
  /** Saves an uploaded .lenetlab into the models folder as a new model (never over one); does not open it. */
  importModel: {
    request: z.strictObject({ base64: z.string().min(1).max(MAX_UPLOAD_BASE64_CHARS), fileName: z.string().max(260).optional(), name: Name.optional() }),
    response: ModelSummary,
  },
  /** CSV of the open model: per epoch, per batch with gradient norms, or its last evaluation's confusion matrix or mistakes. */
  exportCsv: { request: z.strictObject({ kind: CsvKind }), response: CsvFile },
  /** The last finished or stopped run, kept automatically; null when there is none. */
  recoveryInfo: { request: Empty, response: ModelSummary.nullable() },
  /** Opens the recovered run as the current, unsaved model (the slot stays until discarded or replaced). */
  restoreRecovery: { request: Empty, response: ModelSummary },
  discardRecovery: { request: Empty, response: z.null() },
  /**
   * Saves a file the page made (a panel PNG, a CSV, a .lenetlab) where the user picks. Electron: main's save
   * dialog and an atomic write. Browser mode: the page's own download (the bridge answers, never the host).
   */
  saveFile: { request: SaveFileRequest, response: SavedFile },
} as const;

/** invoke channels: name → request and response schema. */
export const invokeChannels = {
  ...classroomChannels,
  info: { request: Empty, response: LabInfo },
  train: { request: TrainConfig, response: z.strictObject({ runId: z.string() }) },
  pause: { request: Empty, response: TrainStatus },
  resume: { request: Empty, response: TrainStatus },
  stop: { request: Empty, response: TrainStatus },
  status: { request: Empty, response: TrainStatus },
  currentModel: { request: Empty, response: ModelWeights },
  samples: { request: SamplesRequest, response: Samples },
  evaluate: { request: z.strictObject({ limit: z.number().int().min(1).max(10_000_000).optional() }), response: EvalResult },
  saveModel: { request: z.strictObject({ name: Name }), response: ModelSummary },
  listModels: { request: Empty, response: z.array(ModelSummary) },
  openModel: { request: z.strictObject({ dir: Dir }), response: ModelSummary },
  /** Native folder picker; hosts without one answer with an error code 'unsupported'. */
  openModelDialog: { request: Empty, response: ModelSummary.nullable() },
  historyCsv: { request: Empty, response: z.string() },
  restartTrainer: { request: Empty, response: TrainStatus },
  /** The OS's preferred languages, best first (Electron); browser mode answers [] and the page reads navigator.languages. */
  systemLanguages: { request: Empty, response: z.array(z.string().max(64)).max(32) },
  /** The page's language, so the host's own words (the Electron menu, the About box) follow it. */
  setLanguage: { request: z.strictObject({ locale: z.enum(LOCALES) }), response: Empty },
} as const satisfies Record<InvokeName, { request: z.ZodType; response: z.ZodType }>;
export type InvokeChannels = typeof invokeChannels;
export type RequestOf<K extends InvokeName> = z.input<InvokeChannels[K]['request']>;
export type ParsedRequestOf<K extends InvokeName> = z.output<InvokeChannels[K]['request']>;
export type ResponseOf<K extends InvokeName> = z.output<InvokeChannels[K]['response']>;

export const MenuCommand = z.discriminatedUnion('command', [
  z.strictObject({ command: z.literal('navigate'), view: z.enum(VIEW_NAMES) }),
  z.strictObject({ command: z.literal('save-model') }),
  z.strictObject({ command: z.literal('open-model') }),
  z.strictObject({ command: z.literal('start-or-pause') }),
  z.strictObject({ command: z.literal('about') }),
  z.strictObject({ command: z.literal('glossary') }),
  z.strictObject({ command: z.literal('set-language'), locale: z.enum(LOCALES) }),
  z.strictObject({ command: z.literal('start-lesson') }),
]);
export type MenuCommand = z.infer<typeof MenuCommand>;

/** event channels: name → payload schema, pushed by the host. */
export const eventChannels = {
  trainerEvent: TrainerEvent,
  modelChanged: ModelSummary,
  trainerCrashed: z.strictObject({ message: z.string(), exitCode: z.number().nullable() }),
  menuCommand: MenuCommand,
} as const satisfies Record<EventName, z.ZodType>;
export type EventChannels = typeof eventChannels;
export type EventOf<K extends EventName> = z.output<EventChannels[K]>;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The API the renderer sees, whatever the transport. */
export type LabApi = {
  [K in InvokeName]: (request: RequestOf<K>) => Promise<Result<ResponseOf<K>>>;
} & {
  [K in EventName as `on${Capitalize<K>}`]: (listener: (payload: EventOf<K>) => void) => () => void;
};

/**
 * Validate a request against its schema: the one gate, run once where a request enters a host.
 * A refusal names the channel, the field and zod's issue code, so the page can word it.
 */
export function parseRequest<K extends InvokeName>(name: K, payload: unknown): Result<ParsedRequestOf<K>> {
  const schema = Object.hasOwn(invokeChannels, name) ? invokeChannels[name].request : undefined;
  if (!schema) {
    const channel = String(name).slice(0, 60);
    return failure('invalid-request', `unknown channel "${channel}"`, { channel, field: null, issue: 'unknown-channel' });
  }
  const parsed = schema.safeParse(payload ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as ParsedRequestOf<K> };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'request';
  return failure('invalid-request', `${String(name)}: ${where}: ${issue.message}`, {
    channel: name,
    field: issue.path.length ? issue.path.join('.') : null,
    issue: issue.code,
  });
}

export { EVENT_NAMES, INVOKE_NAMES, eventChannelId, eventListenerName, invokeChannelId, isEventName, isInvokeName } from './channels.js';
export type { EventName, InvokeName } from './channels.js';
export type { ErrorParams, LabError, Result } from './errors.js';

export type CheckedEvent = { ok: true; name: EventName; payload: unknown } | { ok: false; name: string; why: string };

/** Check an event against its schema: run once, where a worker's events enter a host. */
export function parseEvent(name: unknown, payload: unknown): CheckedEvent {
  if (typeof name !== 'string' || !Object.hasOwn(eventChannels, name)) return { ok: false, name: String(name).slice(0, 60), why: 'unknown event' };
  const parsed = eventChannels[name as EventName].safeParse(payload);
  if (!parsed.success) return { ok: false, name, why: parsed.error.issues[0]?.message ?? 'invalid payload' };
  return { ok: true, name: name as EventName, payload: parsed.data };
}
