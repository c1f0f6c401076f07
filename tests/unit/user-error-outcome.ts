// What a call that may refuse its input gave: [code, message] of the UserError it threw, or ['ok', ''] when it
// returned. Anything else it throws is a bug and is thrown on, so a table of refusals cannot hide a crash.
import { isUserError } from '../../common/errors.js';

export function userErrorOutcome(call: () => unknown): [string, string] {
  try {
    call();
    return ['ok', ''];
  } catch (e) {
    if (!isUserError(e)) throw e;
    return [e.code, e.message];
  }
}
