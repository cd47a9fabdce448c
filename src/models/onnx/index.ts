/** ONNX ⇄ IR. */
export { readOnnx, onnxToGraph, isOnnxBytes, type OnnxReadOptions, type OnnxMeta } from './read.js';
export { graphToOnnx, writeOnnx, DEFAULT_OPSET, type OnnxWriteOptions } from './write.js';
export { MAX_TENSOR_ELEMENTS, MIN_OPSET } from './validate.js';
export { onnxSource, type OnnxSource, type InputSlot } from './source.js';
