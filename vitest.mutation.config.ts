import { defineConfig } from 'vitest/config';
import { AREAS } from './scripts/mutation-areas.mjs';

// The test files Stryker runs against each mutant (`npm run test:mutation`): the fast in-process tests
// of the area being mutated (scripts/mutation-areas.mjs; scripts/mutation.mjs names it in
// MUTATION_AREA). Left out: CLI tests (they spawn dist/, which mutants never reach) and the end-to-end
// tests on esrgan / tfjs / fmnist-vgg (minutes per run once instrumented).
const area = AREAS[process.env.MUTATION_AREA ?? ''];
if (!area) throw new Error(`netdecouple: vitest.mutation.config.ts: MUTATION_AREA must be one of ${Object.keys(AREAS).join(', ')}; run npm run test:mutation`);

export default defineConfig({
  test: {
    include: area.tests,
    // Generous: on a loaded machine a test that passes can take minutes, and a timeout fails the initial run.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
