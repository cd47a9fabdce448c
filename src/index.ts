/**
 * netdecouple's library API: everything the notebooks use, and what a library user needs to load a
 * model, convert it with any method, measure it and render the results. Deep imports of dist/ files
 * are not part of the API (test/api/public-api.test.ts checks the notebooks need none).
 */

// Models: the IR, load/save in every format, shapes, costs, the zoo and the packaged models.
export * from './models/ir.js';
export { loadGraph, formatOf, type ModelFormat } from './models/load.js';
export { modelFiles, ModelFormatError } from './models/io.js';
export { inferShapes, parseInputShape } from './models/shapes.js';
export { graphCosts, totalCost, learnedParams, formatCount, type NodeCost, type CostTotals } from './models/cost.js';
export { ZOO, zooEntry, buildZooModel, type ZooOptions } from './models/zoo/index.js';
export { esrgan, type PackagedModel } from './models/packaged.js';
export { registerCustomLayer, type CustomLayerSpec } from './models/tfjs/custom-layers.js';
export { graphToLayersArtifacts, kerasLayerName } from './models/tfjs/ir-to-keras.js';
export { layersModelFiles, loadTfjsGraph } from './models/tfjs/load.js';
export { readKerasH5, readKerasZip, writeKerasH5, writeKerasZip } from './models/keras/lazy.js';
export { graphFromLayersModel, saveLayersModel } from './models/tfjs/from-model.js';

// Decompositions: pure math on kernels (docs/design.md).
export { decouple, reconstruct, type NdOrder, type NdResult } from './decompose/nd.js';
export { cp3, cp4, type Cp3Result, type Cp4Result, type CpOptions } from './decompose/cp.js';
export { tucker2, type Tucker2Result, type Tucker2Options } from './decompose/tucker2.js';
export { spatial, type SpatialResult, type SpatialOptions } from './decompose/spatial.js';
export { vbmfRank, tucker2VbmfRanks } from './decompose/vbmf.js';
export { retainedEnergy, chooseRank } from './decompose/rank.js';

// Conversion: which layers, which method, what it costs, the rewritten graph.
export { convertGraph, type ConvertOptions, type Conversion, type LayerConversion, type LayerPlan } from './convert/convert.js';
export { selectLayers, ineligibility, type SelectOptions } from './convert/select.js';
export { METHODS, type Method } from './convert/methods.js';
export { macRatio, methodMacs, type MethodRanks } from './convert/method-cost.js';
export { foldBatchNorms } from './convert/fold-batchnorm.js';
export { convertModel, saveConversion, VERSION, OUTPUT_FORMATS, type OutputFormat } from './pipeline.js';
export { convertWithinAccuracy, type AccuracyBudgetOptions } from './accuracy-budget.js';

// Evaluation: runtimes, inputs and data sets, errors, calibration, sweeps.
export { useBackend } from './eval/backend.js';
export { runGraph, toLayersModel } from './eval/tfjs-run.js';
export { createEngine, type Engine } from './eval/engine.js';
export { createRunner } from './eval/runner.js';
export { resolvePreprocessing, describePreprocessing, photoToExample, PRESETS, type Preprocessing, type PreprocessOptions } from './eval/preprocess.js';
export { readPng, toPng, type RgbImage } from './eval/image.js';
export { loadDataset, type Dataset } from './eval/datasets.js';
export { compareOutputs } from './eval/metrics.js';
export { measureConversion } from './eval/conversion-errors.js';
export { evaluateModel, type EvalReport } from './eval/evaluate.js';
export { benchLatency, type LatencyReport } from './eval/latency.js';
export { calibrate, type CalibrationOptions } from './eval/calibrate.js';
export { loadCalibrationData } from './eval/calibration-data.js';
export { runSweep, bestSetting, kernelErrorCurves, type SweepOptions, type SweepReport, type SweepRow, type Tolerance } from './eval/sweep.js';

// Reports: tables, charts and files rendered from the measured JSON; the method comparison.
export { buildReport, type ConversionReport } from './report/conversion-report.js';
export { renderTable, conversionTable } from './report/table.js';
export { sweepText, evalText, latencyText } from './report/measure-tables.js';
export { sweepCharts, renderSvg, renderPng, type VegaLiteSpec, type SweepCharts } from './report/plots.js';
export { sweepFiles } from './report/sweep-files.js';
export { sweepHtml } from './report/html.js';
export { compareGraph, type CompareOptions, type CompareReport } from './eval/compare.js';
export { compareTable, compareFiles } from './report/compare.js';
