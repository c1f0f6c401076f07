// Errors as data. Every failure that crosses a process boundary is
// { code, params } (plus an English `message` for logs, the CLI and tests):
// the renderer words it from code and params alone, in any language.
// This module imports nothing, so every process (the preload included) may use it.

/** The one list of error codes: the engine's UserError codes and the hosts' own. */
export const ERROR_CODES = [
  'invalid-request',
  'bad-sender',
  'busy',
  'not-found',
  'bad-file',
  'unsupported',
  'crashed',
  'diverged',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What a message needs to be worded: names, counts, limits. Flat, so any host can clone and log it. */
export type ErrorParams = Readonly<Record<string, string | number | boolean | null>>;

export interface LabError {
  code: ErrorCode;
  params: ErrorParams;
  /** English, for logs, the CLI and the tests; the UI words the error from code + params. */
  message: string;
}

/** What every host answers: never a throw across a process boundary. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: LabError };

export const labError = (code: ErrorCode, message: string, params: ErrorParams = {}): LabError => ({
  code,
  params,
  message,
});
export const failure = (
  code: ErrorCode,
  message: string,
  params: ErrorParams = {},
): { ok: false; error: LabError } => ({
  ok: false,
  error: labError(code, message, params),
});

/** The engine's user errors are the codes a user can cause (not the hosts' own). */
export type UserErrorCode = Extract<
  ErrorCode,
  'bad-file' | 'not-found' | 'invalid-request' | 'diverged' | 'unsupported' | 'busy'
>;

// A user error: something the user gave us was wrong (a file, a flag, a recipe).
// Hosts print `message` alone (no stack) and the CLI exits with code 2.
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly params: ErrorParams = {},
  ) {
    super(message);
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;

/** The one-line text to show for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Any thrown value as a LabError: a UserError keeps its code and params, anything else is 'internal'. */
export function toLabError(e: unknown, context: string): LabError {
  if (isUserError(e)) return labError(e.code, e.message, e.params);
  return labError('internal', `${context}: ${errorMessage(e)}`, { context, detail: errorMessage(e) });
}
