import { defineConfig } from 'vitest/config';

// The test files Stryker runs against each mutant (`npm run test:mutation`): the in-process tests that
// exercise the mutated files. CLI tests are left out: they spawn dist/, which mutants never reach,
// and each costs seconds of process start-up per mutant.
export default defineConfig({
  test: {
    include: [
      'test/decompose/*.test.ts',
      'test/convert/fold-batchnorm.test.ts',
      'test/convert/exactness.test.ts',
      'test/convert-methods/compare.test.ts',
      'test/convert-methods/full-rank.test.ts',
      'test/convert-methods/methods.test.ts',
      'test/calibrate/*.test.ts',
      'test/budget/budget.test.ts',
      'test/eval/measure-metrics.test.ts',
      'test/eval/conversion-errors.test.ts',
      'test/eval/metrics-edges.test.ts',
      'test/models/cost.test.ts',
      'test/onnx-convert/full-rank.test.ts',
      'test/onnx-convert/rank-error.test.ts',
    ],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
