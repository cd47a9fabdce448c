/** netdecouple's library API. */
export * from './models/ir.js';
export { loadGraph, formatOf } from './models/load.js';
export { inferShapes, parseInputShape } from './models/shapes.js';
export { graphCosts, totalCost } from './models/cost.js';
export { registerCustomLayer, type CustomLayerSpec } from './models/tfjs/custom-layers.js';
export { graphToLayersArtifacts, kerasLayerName } from './models/tfjs/ir-to-keras.js';
export { layersModelFiles, loadTfjsGraph } from './models/tfjs/load.js';
export { graphFromLayersModel, saveLayersModel } from './models/tfjs/from-model.js';
export { decouple, reconstruct } from './decompose/nd.js';
export { convertGraph, type ConvertOptions, type Conversion, type LayerConversion } from './convert/convert.js';
export { foldBatchNorms } from './convert/fold-batchnorm.js';
export { useBackend } from './eval/backend.js';
export { runGraph, toLayersModel } from './eval/tfjs-run.js';
export { compareOutputs } from './eval/metrics.js';
export { measureConversion } from './eval/conversion-errors.js';
export { buildReport, type ConversionReport } from './report/conversion-report.js';
export { convertModel, saveConversion, VERSION } from './pipeline.js';
