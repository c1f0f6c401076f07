#!/usr/bin/env node
// `node tests/mutation/progress.mjs data [--survivors]`: the counts so far of a running (or stopped) target,
// per file, from reports/mutation/<target>-progress.jsonl; with --survivors, each surviving and uncovered mutant.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const [name, flag] = process.argv.slice(2);
const file = path.join(root, 'reports', 'mutation', `${name}-progress.jsonl`);
if (!name || !existsSync(file)) {
  console.error(`usage: node tests/mutation/progress.mjs <target> [--survivors] (no ${file})`);
  process.exit(2);
}
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const per = new Map();
for (const r of rows) {
  const f = path.relative(root, r.file);
  const c = per.get(f) ?? { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
  if (r.status in c) c[r.status]++;
  else c.other++;
  per.set(f, c);
}
const score = (c) => {
  const valid = c.Killed + c.Timeout + c.Survived + c.NoCoverage;
  return valid ? ((100 * (c.Killed + c.Timeout)) / valid).toFixed(1) + '%' : '-';
};
const total = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
console.log('file                                   killed timeout survived no-cov ignored  score');
for (const [f, c] of [...per].sort()) {
  for (const k of Object.keys(total)) total[k] += c[k];
  console.log(`${f.padEnd(38)} ${String(c.Killed).padStart(6)} ${String(c.Timeout).padStart(7)} ${String(c.Survived).padStart(8)} ${String(c.NoCoverage).padStart(6)} ${String(c.other).padStart(7)} ${score(c).padStart(6)}`);
}
console.log(`${'all'.padEnd(38)} ${String(total.Killed).padStart(6)} ${String(total.Timeout).padStart(7)} ${String(total.Survived).padStart(8)} ${String(total.NoCoverage).padStart(6)} ${String(total.other).padStart(7)} ${score(total).padStart(6)}`);
if (flag === '--survivors') {
  for (const r of rows.filter((r) => r.status === 'Survived' || r.status === 'NoCoverage' || r.status === 'Timeout')) {
    console.log(`${r.status.padEnd(10)} ${path.relative(root, r.file)}:${r.line}:${r.column} ${r.mutatorName}: ${JSON.stringify(r.replacement).slice(0, 100)}`);
  }
}
