/**
 * Generator of test/fixtures/onnx/tiny-cnn.onnx: a 4 KB NCHW classifier laid out the way a
 * PyTorch export is (Conv, separate BatchNormalization and Relu, a residual Add, GlobalAveragePool,
 * Flatten, Gemm with transB = 1, symbolic batch), built directly as ONNX protobuf — not through our
 * writer — so reading it tests the reader on its own. Seeded: same code, same bytes.
 */
import { buildModel, floatInit, onnxNode, randn, valueInfo } from './helpers.js';

export const TINY_CNN_FILE = 'test/fixtures/onnx/tiny-cnn.onnx';

export function tinyCnnOnnx(): Uint8Array {
  const he = (fanIn: number) => Math.sqrt(2 / fanIn);
  return buildModel({
    opset: 13,
    irVersion: 7,
    inputs: [valueInfo('input', ['batch', 3, 16, 16])],
    outputs: [valueInfo('logits', ['batch', 10])],
    initializers: [
      floatInit('conv1.weight', [4, 3, 3, 3], randn(108, 101, he(27))),
      floatInit('bn1.weight', [4], randn(4, 102, 0.1).map((v) => 1 + v)),
      floatInit('bn1.bias', [4], randn(4, 103, 0.1)),
      floatInit('bn1.running_mean', [4], randn(4, 104, 0.1)),
      floatInit('bn1.running_var', [4], randn(4, 105, 0.1).map((v) => 1 + Math.abs(v))),
      floatInit('conv2.weight', [8, 4, 3, 3], randn(288, 106, he(36))),
      floatInit('conv2.bias', [8], randn(8, 107, 0.1)),
      floatInit('conv3.weight', [8, 8, 3, 3], randn(576, 108, he(72))),
      floatInit('conv3.bias', [8], randn(8, 109, 0.1)),
      floatInit('fc.weight', [10, 8], randn(80, 110, he(8))),
      floatInit('fc.bias', [10], randn(10, 111, 0.1)),
    ],
    nodes: [
      onnxNode('Conv', ['input', 'conv1.weight'], ['/conv1/Conv_output_0'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] }, '/conv1/Conv'),
      onnxNode('BatchNormalization', ['/conv1/Conv_output_0', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var'], ['/bn1/BatchNormalization_output_0'], { epsilon: 1e-5 }, '/bn1/BatchNormalization'),
      onnxNode('Relu', ['/bn1/BatchNormalization_output_0'], ['/relu1/Relu_output_0'], {}, '/relu1/Relu'),
      onnxNode('Conv', ['/relu1/Relu_output_0', 'conv2.weight', 'conv2.bias'], ['/conv2/Conv_output_0'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, '/conv2/Conv'),
      onnxNode('Relu', ['/conv2/Conv_output_0'], ['/relu2/Relu_output_0'], {}, '/relu2/Relu'),
      onnxNode('Conv', ['/relu2/Relu_output_0', 'conv3.weight', 'conv3.bias'], ['/conv3/Conv_output_0'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/conv3/Conv'),
      onnxNode('Add', ['/conv3/Conv_output_0', '/relu2/Relu_output_0'], ['/Add_output_0'], {}, '/Add'),
      onnxNode('Relu', ['/Add_output_0'], ['/relu3/Relu_output_0'], {}, '/relu3/Relu'),
      onnxNode('GlobalAveragePool', ['/relu3/Relu_output_0'], ['/pool/GlobalAveragePool_output_0'], {}, '/pool/GlobalAveragePool'),
      onnxNode('Flatten', ['/pool/GlobalAveragePool_output_0'], ['/Flatten_output_0'], { axis: 1 }, '/Flatten'),
      onnxNode('Gemm', ['/Flatten_output_0', 'fc.weight', 'fc.bias'], ['logits'], { alpha: 1, beta: 1, transB: 1 }, '/fc/Gemm'),
    ],
  });
}
