import { defineConfig } from 'vitest/config';

// The test files Stryker runs against each mutant (`npm run test:mutation`): the fast in-process tests
// of the mutated files (pure math, small graphs in onnxruntime). Left out: CLI tests (they spawn
// dist/, which mutants never reach) and the end-to-end tests on esrgan / tfjs (minutes per run on a
// shared 2-core machine; a mutant they alone would kill counts as surviving here).
export default defineConfig({
  test: {
    include: [
      'test/decompose/*.test.ts',
      'test/convert/fold-batchnorm.test.ts',
      'test/convert-methods/methods.test.ts',
      'test/calibrate/least-squares.test.ts',
      'test/calibrate/onnx-calibrate.test.ts',
      'test/calibrate/honest-errors.test.ts',
      'test/calibrate/joint-factors.test.ts',
      'test/budget/budget.test.ts',
      'test/eval/measure-metrics.test.ts',
      'test/eval/conversion-errors.test.ts',
      'test/eval/metrics-edges.test.ts',
      'test/models/cost.test.ts',
      'test/onnx-convert/full-rank.test.ts',
      'test/onnx-convert/rank-error.test.ts',
    ],
    // Generous: on a loaded machine a test that passes can take minutes, and a timeout fails the initial run.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
