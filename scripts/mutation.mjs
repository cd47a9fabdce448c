/**
 * `npm run test:mutation [-- --area kernels,measure] [-- --mutate src/eval/metrics.ts --area measure]`:
 * StrykerJS over the areas of scripts/mutation-areas.mjs, one after another (all of them by default),
 * each with its own tests, reports (reports/mutation/<area>.html|json) and incremental file, so a
 * rerun only retests mutants whose code or tests changed (`--force` retests everything). Ends with the
 * per-file table of scripts/mutation-summary.mjs and each area's wall time.
 *
 * StrykerJS 10 declares Node >= 22 and its command-line entry refuses to start on older ones, while
 * the project supports Node >= 20.19; its API runs fine on Node 20, so start it through the API.
 */
import { AREAS } from './mutation-areas.mjs';
import { summarise } from './mutation-summary.mjs';

const fail = (msg) => {
  console.error(`netdecouple: test:mutation: ${msg}`);
  process.exit(1);
};
const args = process.argv.slice(2);
const opts = { areas: Object.keys(AREAS), force: false };
for (let i = 0; i < args.length; i++) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--force') opts.force = true;
  else if (flag === '--area' && value) (opts.areas = value.split(',')), i++;
  else if (flag === '--mutate' && value) (opts.mutate = value.split(',')), i++;
  else if (flag === '--concurrency' && value) (opts.concurrency = Number(value)), i++;
  else fail(`unknown option "${flag}"; use --area ${Object.keys(AREAS).join(',')}, --mutate a.ts,b.ts (with one --area), --concurrency N or --force`);
}
const unknown = opts.areas.filter((a) => !AREAS[a]);
if (unknown.length) fail(`unknown area "${unknown[0]}"; the areas are ${Object.keys(AREAS).join(', ')}`);
if (opts.mutate && opts.areas.length !== 1) fail('--mutate needs exactly one --area, whose tests are run against it');

const core = import.meta.resolve('@stryker-mutator/core');
const { Stryker } = await import(new URL('./stryker.js', core).href);
const reports = [];
const times = [];
for (const area of opts.areas) {
  const name = opts.mutate ? `${area}-partial` : area;
  process.env.MUTATION_AREA = area;
  const started = Date.now();
  await new Stryker({
    mutate: opts.mutate ?? AREAS[area].mutate,
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    force: opts.force,
    incrementalFile: `reports/mutation/${name}-incremental.json`,
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
  }).runMutationTest();
  reports.push(`reports/mutation/${name}.json`);
  times.push(`${area}: ${((Date.now() - started) / 60_000).toFixed(1)} min`);
}
console.log(summarise(reports).join('\n'));
console.log(`wall time: ${times.join(', ')}`);
