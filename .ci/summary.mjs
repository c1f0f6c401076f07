// Prints one plain closing line for the whole run from Vitest's JSON reports: "N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
for (const suite of ['unit', 'integration', 'e2e']) {
  const file = path.join(dir, `${suite}.json`);
  if (!existsSync(file)) {
    console.log(`(${suite} tests did not report: they did not run)`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
