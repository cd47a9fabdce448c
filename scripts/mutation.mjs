/**
 * `npm run test:mutation [-- --mutate src/eval/metrics.ts,src/models/cost.ts]`: StrykerJS over the files
 * stryker.config.json names. StrykerJS 10 declares Node >= 22 and its command-line entry refuses to
 * start on older ones, while the project supports Node >= 20.19; its API runs fine on Node 20 (the
 * scores in docs/testing.md were measured so), so start it through the API instead of the CLI.
 */
const core = import.meta.resolve('@stryker-mutator/core');
const { Stryker } = await import(new URL('./stryker.js', core).href);

const args = process.argv.slice(2);
const options = {};
for (let i = 0; i < args.length; i += 2) {
  const [flag, value] = [args[i], args[i + 1]];
  if (flag === '--mutate' && value) options.mutate = value.split(',');
  else if (flag === '--concurrency' && value) options.concurrency = Number(value);
  else if (flag === '--report-name' && value) {
    options.htmlReporter = { fileName: `reports/mutation/${value}.html` };
    options.jsonReporter = { fileName: `reports/mutation/${value}.json` };
  } else {
    console.error(`netdecouple: test:mutation: unknown option "${flag}"; use --mutate a.ts,b.ts, --concurrency N or --report-name NAME`);
    process.exit(1);
  }
}
await new Stryker(options).runMutationTest();
