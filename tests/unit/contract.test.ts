// The contract's pieces agree: the plain channel-name arrays the preload uses
// name exactly the channels that have schemas, the one error-code list covers
// the engine's UserError codes, and refusals carry params to word them by.
import { describe, expect, it } from 'vitest';
import {
  EVENT_NAMES,
  INVOKE_NAMES,
  eventChannelId,
  eventListenerName,
  invokeChannelId,
  isEventName,
  isInvokeName,
} from '../../common/channels.js';
import { ErrorCode, eventChannels, invokeChannels, parseEvent, parseRequest } from '../../common/contract.js';
import {
  ERROR_CODES,
  UserError,
  toLabError,
  type ErrorCode as ErrorCodeType,
  type UserErrorCode,
} from '../../common/errors.js';

describe('channel names', () => {
  it('are exactly the channels with schemas, in both directions', () => {
    expect([...INVOKE_NAMES].sort()).toEqual(Object.keys(invokeChannels).sort());
    expect([...EVENT_NAMES].sort()).toEqual(Object.keys(eventChannels).sort());
    expect(new Set(INVOKE_NAMES).size).toBe(INVOKE_NAMES.length);
    expect(new Set(EVENT_NAMES).size).toBe(EVENT_NAMES.length);
  });

  it('derive the Electron channel strings and listener names', () => {
    expect(invokeChannelId('saveModel')).toBe('lab:invoke:saveModel');
    expect(eventChannelId('trainerEvent')).toBe('lab:event:trainerEvent');
    expect(eventListenerName('modelChanged')).toBe('onModelChanged');
  });

  it('recognise their own names only (no prototype keys, no look-alikes)', () => {
    expect(isInvokeName('info')).toBe(true);
    for (const name of ['constructor', 'toString', '__proto__', 'Info', 'info ', '', 42, null])
      expect(isInvokeName(name)).toBe(false);
    expect(isEventName('menuCommand')).toBe(true);
    expect(isEventName('hasOwnProperty')).toBe(false);
  });
});

describe('error codes', () => {
  it('one list, the zod enum made from it, covering every UserError code', () => {
    expect(ErrorCode.options).toEqual([...ERROR_CODES]);
    // Literal table: the engine's codes (UserErrorCode) and the hosts' own.
    const userCodes: UserErrorCode[] = ['bad-file', 'not-found', 'invalid-request', 'diverged', 'unsupported', 'busy'];
    const hostCodes: ErrorCodeType[] = ['bad-sender', 'crashed', 'internal'];
    expect([...ERROR_CODES].sort()).toEqual([...userCodes, ...hostCodes].sort());
  });

  it('a UserError keeps its code and params across the boundary; anything else is internal', () => {
    const user = new UserError('not-found', 'no model at /x', { dir: '/x' });
    expect(toLabError(user, 'openModel failed')).toEqual({
      code: 'not-found',
      params: { dir: '/x' },
      message: 'no model at /x',
    });
    expect(new UserError('busy', 'later').params).toEqual({});
    expect(toLabError(new Error('disk on fire'), 'saveModel failed')).toEqual({
      code: 'internal',
      params: { context: 'saveModel failed', detail: 'disk on fire' },
      message: 'saveModel failed: disk on fire',
    });
  });
});

describe('parseRequest', () => {
  it('names the channel, the field and the issue, so the page can word a refusal', () => {
    const refused = parseRequest('saveModel', { name: '../x' });
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'invalid-request',
        params: { channel: 'saveModel', field: 'name', issue: 'custom' },
        message: 'saveModel: name: a name cannot hold / or \\ (it would be a path, not a name)',
      },
    });
    expect(Object.keys((refused as { error: object }).error).sort()).toEqual(['code', 'message', 'params']);
    expect(parseRequest('saveModel', { name: 5 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request', params: { channel: 'saveModel', field: 'name', issue: 'invalid_type' } },
    });
    expect(parseRequest('evaluate', { limit: 0 })).toMatchObject({
      ok: false,
      error: { params: { channel: 'evaluate', field: 'limit', issue: 'too_small' } },
    });
    expect(parseRequest('info', { extra: 1 })).toMatchObject({
      ok: false,
      error: { params: { channel: 'info', field: null, issue: 'unrecognized_keys' } },
    });
    expect(parseRequest('nope' as never, {})).toMatchObject({
      ok: false,
      error: { params: { channel: 'nope', issue: 'unknown-channel' } },
    });
  });

  it('fills defaults once, so the worker gets a whole config', () => {
    expect(parseRequest('train', { variant: 'lenet5' })).toEqual({
      ok: true,
      value: { variant: 'lenet5', recipe: {}, dataset: { kind: 'mnist' } },
    });
  });
});

describe('parseEvent', () => {
  it('passes events that match their schema and says why it drops the rest', () => {
    expect(parseEvent('trainerCrashed', { message: 'gone', exitCode: null })).toEqual({
      ok: true,
      name: 'trainerCrashed',
      payload: { message: 'gone', exitCode: null },
    });
    expect(parseEvent('trainerEvent', { type: 'state', runId: 'r', phase: 'flying' })).toMatchObject({
      ok: false,
      name: 'trainerEvent',
    });
    expect(parseEvent('toString', {})).toEqual({ ok: false, name: 'toString', why: 'unknown event' });
    expect(parseEvent(7, {})).toMatchObject({ ok: false, why: 'unknown event' });
  });

  it('menu commands: a literal list of what the menu may send', () => {
    const menu = (payload: unknown) => parseEvent('menuCommand', payload).ok;
    expect([
      menu({ command: 'navigate', view: 'filters' }), menu({ command: 'save-model' }), menu({ command: 'open-model' }),
      menu({ command: 'start-or-pause' }), menu({ command: 'about' }), menu({ command: 'glossary' }),
      menu({ command: 'set-language', locale: 'zh-CN' }), menu({ command: 'set-language', locale: 'en' }), menu({ command: 'start-lesson' }),
    ]).toEqual([true, true, true, true, true, true, true, true, true]);
    expect([
      menu({ command: 'navigate', view: 'settings' }), menu({ command: 'navigate' }), menu({ command: 'set-language' }),
      menu({ command: 'set-language', locale: 'fr' }), menu({ command: 'glossary', term: 'x' }), menu({ command: 'start-lesson', extra: 1 }),
      menu({ command: 'quit' }), menu({}), menu(null),
    ]).toEqual([false, false, false, false, false, false, false, false, false]);
  });
});
