// A user error: something the user gave us was wrong (a file, a flag, a recipe).
// Hosts print `message` alone (no stack) and the CLI exits with code 2.
export type UserErrorCode = 'bad-file' | 'not-found' | 'invalid-request' | 'diverged' | 'unsupported' | 'busy';

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(readonly code: UserErrorCode, message: string) {
    super(message);
  }
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;

/** The one-line text to show for any thrown value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
