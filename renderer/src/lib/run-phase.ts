// The phase the page adopts from the answer to pause, resume or stop. The answer is the lab's status when it
// served the request, and the run's own events may overtake it: a paused run that is stopped ends at once, so
// its 'done' can reach the page before the answer that says 'stopping'. An answer never revives a run that ended.
import type { RunPhase } from '../../../common/protocol.js';

export interface PageRun {
  phase: RunPhase;
  runId: string | null;
  /** The run whose 'done' the page has received, if any. */
  endedRunId: string | null;
}

export function phaseAfterAnswer(page: PageRun, answer: { phase: RunPhase; runId: string | null }): RunPhase {
  if (answer.phase === 'idle') return 'idle';
  if (answer.runId !== page.runId || answer.runId === page.endedRunId) return page.phase;
  return answer.phase;
}
