/**
 * `node scripts/mutation-summary.mjs [reports/mutation/*.json …] [--survivors] [--union]`: the per-file
 * table docs/testing.md quotes, from StrykerJS JSON reports (default: every area's report) — mutants,
 * valid ones (not rejected by the type checker, not static), score = (killed + timed out) / valid,
 * survived and without coverage — and with --survivors each surviving mutant's line, mutator and
 * replacement. A later report replaces an earlier one's files; with --union the reports are runs of
 * the same mutants against different tests, and a mutant counts as detected if any run detected it:
 * the score of all their tests together, e.g. an area's old tests plus a new test file run alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AREAS } from './mutation-areas.mjs';

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function readReport(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`netdecouple: mutation-summary: cannot read ${file} (${e.code ?? e.message}); run npm run test:mutation first or name the report`);
    process.exit(1);
  }
}

const RANK = { Killed: 0, Timeout: 1, Survived: 2, NoCoverage: 3 };
const mutantKey = (m) => JSON.stringify([m.location, m.mutatorName, m.replacement]);

/** The same mutants from two runs, each with the better status (detected over survived over not covered). */
function unite(a, b) {
  const other = new Map(b.map((m) => [mutantKey(m), m]));
  if (other.size !== a.length || a.some((m) => !other.has(mutantKey(m)))) {
    console.error('netdecouple: mutation-summary: --union needs reports of the same mutants (the same --area and --mutate)');
    process.exit(1);
  }
  return a.map((m) => {
    const o = other.get(mutantKey(m));
    return (RANK[o.status] ?? 9) < (RANK[m.status] ?? 9) ? o : m;
  });
}

/** Each file's mutants, later reports replacing earlier ones for the same file or, with union, united with them. */
function mutantsByFile(files, union = false) {
  const byFile = new Map();
  for (const f of files) {
    for (const [name, { mutants }] of Object.entries(readReport(f).files)) {
      byFile.set(name, union && byFile.has(name) ? unite(byFile.get(name), mutants) : mutants);
    }
  }
  return [...byFile].sort(([a], [b]) => a.localeCompare(b));
}

function counts(mutants) {
  const count = (pred) => mutants.filter((m) => pred(m.status)).length;
  const r = { mutants: mutants.length, detected: count((s) => DETECTED.has(s)), survived: count((s) => s === 'Survived'), noCoverage: count((s) => s === 'NoCoverage') };
  return { ...r, valid: r.detected + r.survived + r.noCoverage };
}

const pct = (r) => (r.valid ? `${((100 * r.detected) / r.valid).toFixed(1)} %` : '—');

/** The markdown table, one row per file and a total. */
export function summarise(files, union = false) {
  const lines = ['| file | mutants (valid) | score | survived | no coverage |', '|---|---|---|---|---|'];
  const total = { mutants: 0, valid: 0, detected: 0, survived: 0, noCoverage: 0 };
  const rows = mutantsByFile(files, union);
  for (const [name, mutants] of rows) {
    const r = counts(mutants);
    for (const k of Object.keys(total)) total[k] += r[k];
    lines.push(`| \`${name}\` | ${r.mutants} (${r.valid}) | ${pct(r)} | ${r.survived} | ${r.noCoverage} |`);
  }
  lines.push(`| **all ${rows.length} files** | ${total.mutants} (${total.valid}) | ${pct(total)} | ${total.survived} | ${total.noCoverage} |`);
  return lines;
}

/** One line per surviving or uncovered mutant. */
export function survivors(files, union = false) {
  const lines = [];
  for (const [name, mutants] of mutantsByFile(files, union)) {
    for (const m of mutants.filter((m) => UNDETECTED.has(m.status)).sort((a, b) => a.location.start.line - b.location.start.line)) {
      lines.push(`${name}:${m.location.start.line}\t${m.status}\t${m.mutatorName}\t${JSON.stringify(m.replacement ?? '').slice(0, 90)}`);
    }
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const named = args.filter((a) => !a.startsWith('--'));
  const files = named.length ? named : Object.keys(AREAS).map((a) => `reports/mutation/${a}.json`).filter(existsSync);
  if (!files.length) {
    console.error('netdecouple: mutation-summary: no reports in reports/mutation/; run npm run test:mutation first or name the report');
    process.exit(1);
  }
  const union = args.includes('--union');
  if (args.includes('--survivors')) console.log(survivors(files, union).join('\n'));
  console.log(summarise(files, union).join('\n'));
}
