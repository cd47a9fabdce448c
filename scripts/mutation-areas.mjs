/**
 * The areas `npm run test:mutation` mutates one at a time, each with the fast tests that exercise it
 * directly. Stryker instruments every mutated file, and instrumented numeric loops run ~30× slower
 * (every expression becomes a mutant switch): mutating the whole scope at once made each mutant's
 * tests run the SVD, eigen-solver and GEMM loops instrumented, ~10 hours on 2 cores. One area at a
 * time, the code outside it runs at native speed; a mutant only another area's tests would kill counts
 * as surviving, so the scores are lower bounds for the whole suite.
 */
export const AREAS = {
  // Graph rewrites, BN folding, the budget.
  convert: {
    mutate: ['src/convert/**/*.ts'],
    tests: [
      'test/convert-methods/methods.test.ts', 'test/convert/fold-batchnorm.test.ts', 'test/budget/budget.test.ts',
      'test/onnx-convert/full-rank.test.ts', 'test/onnx-convert/rank-error.test.ts', 'test/eval/conversion-errors.test.ts',
      'test/convert/options.test.ts', 'test/convert/reported-errors.test.ts', 'test/convert/exactness.test.ts', 'test/budget/budget-dp.test.ts',
      'test/budget/pointwise.test.ts', 'test/budget/cp-search.test.ts', 'test/ghost/ghost-convert.test.ts', 'test/ghost/ghost-budget.test.ts',
      'test/convert-methods/method-candidates.test.ts', 'test/convert-methods/method-plans.test.ts', 'test/convert/candidate-grid.test.ts',
      'test/budget/budget-plan.test.ts', 'test/convert/fold-selection.test.ts', 'test/ghost/ghost-rewrite.test.ts',
    ],
  },
  // The numbers a report prints: per-layer errors, calibration figures, metrics, MACs.
  measure: {
    mutate: ['src/eval/conversion-errors.ts', 'src/eval/calibrate*.ts', 'src/eval/metrics.ts', 'src/models/cost.ts'],
    tests: [
      'test/calibrate/onnx-calibrate.test.ts', 'test/calibrate/honest-errors.test.ts', 'test/calibrate/factor-layer.test.ts', 'test/calibrate/nd-layer.test.ts', 'test/calibrate/ghost-refit.test.ts', 'test/calibrate/output-check.test.ts', 'test/calibrate/gather-patches.test.ts',
      'test/eval/measure-metrics.test.ts', 'test/eval/conversion-errors.test.ts', 'test/eval/metrics-edges.test.ts', 'test/models/cost.test.ts',
    ],
  },
  // The numeric kernels everything else calls: their own tests give exact oracles (orthogonality,
  // reconstruction, Eckart–Young, known spectra).
  kernels: {
    mutate: ['src/decompose/{linalg,svd,symeig,kernel64,tensor,random,assignment}.ts'],
    tests: ['test/decompose/linalg.test.ts', 'test/decompose/kernel-parts.test.ts', 'test/decompose/nd.test.ts', 'test/decompose/tucker2.test.ts', 'test/decompose/spatial.test.ts', 'test/decompose/vbmf.test.ts', 'test/ghost/ghost-math.test.ts'],
  },
  // The decompositions, Ghost's cheap operations and the rank rules.
  decompose: {
    mutate: ['src/decompose/{nd,cp,tucker2,spatial,ghost,vbmf,rank,rank-rules}.ts'],
    tests: [
      'test/decompose/nd.test.ts', 'test/decompose/cp.test.ts', 'test/decompose/tucker2.test.ts', 'test/decompose/spatial.test.ts',
      'test/decompose/vbmf.test.ts', 'test/decompose/rank-rules.test.ts', 'test/ghost/ghost-math.test.ts', 'test/ghost/ghost-oracles.test.ts',
      'test/convert-methods/methods.test.ts', 'test/decompose/cp-als.test.ts',
    ],
  },
  // The activation-aware forms: input moments, whitening, the refits and their least-squares solves.
  'data-aware': {
    mutate: ['src/decompose/{moments,kron-moments,least-squares,nd-refit,factor-refit}.ts', 'src/decompose/*-whiten.ts'],
    tests: [
      'test/decompose/nd-refit.test.ts', 'test/decompose/whiten-methods.test.ts', 'test/calibrate/least-squares.test.ts',
      'test/decompose/moments.test.ts', 'test/decompose/refit-parts.test.ts', 'test/decompose/whiten-oracles.test.ts',
      'test/calibrate/factor-layer.test.ts', 'test/calibrate/nd-layer.test.ts',
    ],
  },
};
