// A Stryker reporter that appends each tested mutant to reports/mutation/<target>-progress.jsonl as it finishes,
// so that survivors can be read while a long run is still going, and a run stopped early still leaves its
// partial counts (Stryker writes its own reports only at the end).
import { appendFileSync, writeFileSync } from 'node:fs';
import { PluginKind, declareClassPlugin } from '@stryker-mutator/api/plugin';

class ProgressReporter {
  static inject = [];
  constructor() {
    this.file = process.env.LENET_MUTATION_PROGRESS_FILE;
    if (this.file) writeFileSync(this.file, '');
  }
  onMutantTested(result) {
    if (!this.file) return;
    const { id, fileName, location, mutatorName, replacement, status, statusReason, killedBy } = result;
    appendFileSync(this.file, JSON.stringify({
      id, file: fileName, line: location.start.line, column: location.start.column + 1, mutatorName, replacement, status,
      ...(status === 'Timeout' || status === 'RuntimeError' || status === 'CompileError' ? { statusReason } : {}),
      ...(killedBy?.length ? { killedBy: killedBy.slice(0, 1) } : {}),
    }) + '\n');
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'lenet-progress', ProgressReporter)];
