/**
 * IR → ONNX. Known ops are always emitted from their IR fields (so rewritten weights are what gets
 * written); opaque nodes read from ONNX are put back from their NodeProto.
 *
 * NHWC graphs (TF.js) are exported with NCHW internals, which is what ONNX operators assume: the
 * model input stays NHWC as the user feeds it and is transposed once; every rank-4 tensor inside is
 * NCHW (concat/batchNorm axes remapped); Flatten/Reshape of a rank-4 tensor transposes back to NHWC
 * first so dense weights trained on NHWC order stay valid; rank-4 outputs are transposed back.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Graph } from '../ir.js';
import { irVersionForOpset, onnx, type IValueInfoProto } from './proto.js';
import type { OnnxMeta } from './read.js';
import { WriteContext } from './write-context.js';
import { nameOutputs, reserveInputs, writeInputs, writeOutputs } from './write-interface.js';
import { checkOpaqueNodes } from './write-opaque.js';
import { emitNode } from './write-ops.js';

export interface OnnxWriteOptions {
  /** ai.onnx opset; default: the opset the graph was read with, else 17. */
  opset?: number;
  /** producer_name written into the model. */
  producerName?: string;
}

export const DEFAULT_OPSET = 17;
/** Range the writer's own op lowering is written for (Clip/Pad/Resize inputs from 11; ORT 1.30 reads ≤ 21). */
export const MIN_WRITE_OPSET = 11;
export const MAX_WRITE_OPSET = 21;

function onnxMeta(graph: Graph): OnnxMeta | undefined {
  const m = graph.meta as Partial<OnnxMeta> | undefined;
  return m?.sourceFormat === 'onnx' && m.onnx ? (m as OnnxMeta) : undefined;
}

/** Serialises an IR graph to ONNX model bytes. Throws a one-line error naming any node it cannot export. */
export function graphToOnnx(graph: Graph, options: OnnxWriteOptions = {}): Uint8Array {
  const meta = onnxMeta(graph);
  const opset = options.opset ?? meta?.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_WRITE_OPSET || opset > MAX_WRITE_OPSET) {
    throw new Error(`cannot write ONNX opset ${opset}: supported opsets are ${MIN_WRITE_OPSET}–${MAX_WRITE_OPSET}`);
  }
  const w = new WriteContext(graph, opset);
  // Names fixed by the model come first, so generated names step around them.
  checkOpaqueNodes(graph, w, meta);
  const inputNodes = reserveInputs(graph, w);
  const outputNames = nameOutputs(graph, w, meta);
  const inputInfos = writeInputs(inputNodes, w);
  for (const node of graph.nodes) {
    if (node.op === 'input') {
      if (!w.tensorOf.has(node.name)) throw new Error(`input node "${node.name}" is not listed in graph.inputs`);
      continue;
    }
    w.tensorOf.set(node.name, emitNode(node, w));
  }
  const outputInfos = writeOutputs(graph, w, outputNames);
  return encodeModel({ graph, w, meta, options, io: { input: inputInfos, output: outputInfos } });
}

interface ModelParts {
  graph: Graph;
  w: WriteContext;
  meta: OnnxMeta | undefined;
  options: OnnxWriteOptions;
  io: { input: IValueInfoProto[]; output: IValueInfoProto[] };
}

/** The ModelProto around the emitted graph, keeping what was read from ONNX (metadata, functions). */
function encodeModel({ graph, w, meta, options, io }: ModelParts): Uint8Array {
  const opset = w.opset;
  const customImports = (meta?.onnx.opsetImports ?? []).filter((o) => o.domain !== '' && o.domain !== 'ai.onnx');
  const irVersion = Math.max(irVersionForOpset(opset), meta && meta.opset === opset ? meta.irVersion : 0);
  const model = onnx.ModelProto.create({
    irVersion,
    producerName: options.producerName ?? 'netdecouple',
    producerVersion: '',
    domain: meta?.onnx.domain ?? '',
    modelVersion: meta?.onnx.modelVersion ?? 0,
    docString: meta?.onnx.docString ?? '',
    opsetImport: [{ domain: '', version: opset }, ...customImports],
    metadataProps: meta?.onnx.metadataProps ?? [],
    functions: (meta?.onnx.functions ?? []) as never[],
    graph: {
      name: graph.name,
      node: w.em.nodes,
      initializer: w.em.initializers,
      input: io.input,
      output: io.output,
      valueInfo: w.valueInfos,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Writes the model atomically: a temp file in the same folder, then one rename. */
export async function writeOnnx(graph: Graph, file: string, options: OnnxWriteOptions = {}): Promise<void> {
  const bytes = graphToOnnx(graph, options);
  const target = path.resolve(file);
  const dir = path.dirname(target);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`);
  try {
    await fsp.writeFile(tmp, bytes);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
