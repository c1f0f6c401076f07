// The phase the page keeps after the answer to pause, resume or stop, when the run's own events may have
// overtaken that answer (the e2e flow "stop a paused run" met it: 'done' first, then 'stopping').
import { describe, expect, it } from 'vitest';
import { phaseAfterAnswer, type PageRun } from '../../renderer/src/lib/run-phase.js';
import type { RunPhase } from '../../common/protocol.js';

const cases: Array<[string, PageRun, { phase: RunPhase; runId: string | null }, RunPhase]> = [
  ['the answer for the run the page follows is taken', { phase: 'running', runId: 'a', endedRunId: null }, { phase: 'paused', runId: 'a' }, 'paused'],
  ['a stop of a paused run answered before its done', { phase: 'paused', runId: 'a', endedRunId: null }, { phase: 'stopping', runId: 'a' }, 'stopping'],
  ['a stop answered after its run\'s done keeps the page idle', { phase: 'idle', runId: 'a', endedRunId: 'a' }, { phase: 'stopping', runId: 'a' }, 'idle'],
  ['a pause answered after its run\'s done keeps the page idle', { phase: 'idle', runId: 'a', endedRunId: 'a' }, { phase: 'paused', runId: 'a' }, 'idle'],
  ['the previous run\'s done does not block the next run', { phase: 'running', runId: 'b', endedRunId: 'a' }, { phase: 'paused', runId: 'b' }, 'paused'],
  ['an answer about another run is ignored', { phase: 'running', runId: 'b', endedRunId: null }, { phase: 'stopping', runId: 'a' }, 'running'],
  ['idle is always taken (the lab has no run)', { phase: 'stopping', runId: 'a', endedRunId: null }, { phase: 'idle', runId: null }, 'idle'],
  ['idle is taken for another run too', { phase: 'running', runId: 'b', endedRunId: null }, { phase: 'idle', runId: 'a' }, 'idle'],
];

describe('the phase after a control answer', () => {
  it.each(cases)('%s', (_, page, answer, expected) => {
    expect(phaseAfterAnswer(page, answer)).toBe(expected);
  });
});
