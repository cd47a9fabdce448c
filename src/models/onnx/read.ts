/**
 * ONNX → IR (layout 'NCHW'). Ops the IR models become IR nodes (conv kernels stay OIHW, Gemm/MatMul
 * weights become dense [out, in]); anything else, or a known op with attributes the IR cannot say,
 * becomes an `opaque` node that keeps its NodeProto so the writer can put it back unchanged.
 * Every node keeps `source: { format: 'onnx', node }`.
 */
import { ModelFormatError, asModelFormatError } from '../errors.js';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Graph, InputNode, Node } from '../ir.js';
import { DataType, dataTypeName, defaultOpset, toNum, type IGraphProto, type IModelProto, type INodeProto, type Int64 } from './proto.js';
import { splitConstants } from './read-constants.js';
import { addOpaque } from './read-opaque.js';
import { mapKnown } from './read-ops.js';
import { ReadState, isDefaultDomain, valueInfoDims } from './read-state.js';
import type { OnnxSource } from './source.js';
import { topoSort } from './topo-sort.js';
import { MAX_MODEL_BYTES, decodeModel } from './validate.js';

export interface OnnxReadOptions {
  /** Folder that external-data locations are relative to (readOnnx sets it to the model's folder). */
  baseDir?: string;
  /** Graph name when the model does not carry one. */
  name?: string;
}

/** What `graph.meta` holds for a graph read from ONNX (the writer uses `onnx` to write it back). */
export interface OnnxMeta {
  sourceFormat: 'onnx';
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  onnx: {
    /** All opset imports, custom domains included. */
    opsetImports: { domain: string; version: number }[];
    /** Graph output tensor names, positionally matching `graph.outputs`. */
    outputNames: string[];
    modelVersion: number;
    domain: string;
    docString: string;
    metadataProps: { key: string; value: string }[];
    /** Model-local functions, kept for opaque nodes that call them. */
    functions: unknown[];
  };
}

export async function readOnnx(file: string): Promise<Graph> {
  const stat = await fsp.stat(file);
  if (stat.size > MAX_MODEL_BYTES) {
    throw new ModelFormatError(`${file}: ${stat.size} bytes exceeds the 2 GiB protobuf limit; store weights as external data`);
  }
  const bytes = await fsp.readFile(file);
  try {
    return onnxToGraph(bytes, { baseDir: path.dirname(path.resolve(file)), name: path.basename(file, path.extname(file)) });
  } catch (err) {
    throw asModelFormatError(err, `${file}: `);
  }
}

/**
 * Parses an ONNX model. `bytes` is the .onnx file; external data is looked up in `baseDir`.
 * Throws one-line errors for files that are not ONNX, truncated, too old (opset < 11), or carry
 * invalid weights (see validate.ts).
 */
export function onnxToGraph(bytes: Uint8Array, options: OnnxReadOptions = {}): Graph {
  try {
    return parseOnnx(bytes, options);
  } catch (err) {
    // The reader's checks throw plain Errors: one error type for every model reader (../errors.ts).
    throw asModelFormatError(err);
  }
}

function parseOnnx(bytes: Uint8Array, options: OnnxReadOptions): Graph {
  const model = decodeModel(bytes);
  const g = model.graph!;
  const opset = defaultOpset(model)!;
  const { consts, bodyNodes } = splitConstants(g, options.baseDir);
  const state = new ReadState(consts, g, opset);
  const inputNames = readInputs(g, state);
  const order = topoSort(bodyNodes, new Set([...consts.keys(), ...state.producer.keys()]));
  state.noteReaders(order);
  readBody(order, state);
  const { outputs, outputNames } = readOutputs(g, state);
  return {
    name: g.name || options.name || 'onnx_model',
    layout: 'NCHW',
    nodes: state.irNodes,
    inputs: inputNames,
    outputs,
    meta: onnxMeta(model, opset, outputNames) as unknown as Record<string, unknown>,
  };
}

/** Graph inputs become IR input nodes (those that are initializers are defaults, not inputs). */
function readInputs(g: IGraphProto, state: ReadState): string[] {
  const inputNames: string[] = [];
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (state.consts.has(name)) continue;
    const elem = vi.type?.tensorType?.elemType ?? 0;
    if (elem !== DataType.FLOAT && elem !== DataType.INT32) {
      throw new Error(`graph input "${name}" has element type ${dataTypeName(elem)}; netdecouple reads float32 (or int32) inputs`);
    }
    const dims = valueInfoDims(vi);
    if (!dims) throw new Error(`graph input "${name}" declares no shape; give the model input a shape (at least its rank)`);
    const irName = state.uniqueName(name);
    const input: InputNode = {
      op: 'input',
      name: irName,
      inputs: [],
      shape: dims.slice(1),
      dtype: elem === DataType.FLOAT ? 'float32' : 'int32',
      source: { format: 'onnx', node: vi },
    };
    state.irNodes.push(input);
    inputNames.push(irName);
    state.producer.set(name, irName);
  }
  return inputNames;
}

/**
 * Each body node in order: an IR node when its reader (read-ops.ts) maps it, else opaque. A node
 * with extra outputs that something reads stays opaque: IR nodes have one output.
 */
function readBody(order: INodeProto[], state: ReadState): void {
  const skip = new Set<INodeProto>();
  for (const n of order) {
    if (skip.has(n)) continue;
    const extraUsed = (n.output ?? []).slice(1).some((o) => o && state.isUsed(o));
    const mapped = isDefaultDomain(n) && !extraUsed ? mapKnown(n, state) : null;
    if (!mapped) {
      addOpaque(n, state);
      continue;
    }
    const name = state.uniqueName(n.name || n.output?.[0] || `${n.opType}_${state.irNodes.length}`);
    const source: OnnxSource = { format: 'onnx', node: n, ...(mapped.fused ? { fused: [mapped.fused] } : {}) };
    state.irNodes.push({ ...mapped.node, name, inputs: mapped.dataInputs.map((t) => state.producer.get(t)!), source } as Node);
    const out = mapped.fused ? mapped.fused.output?.[0] ?? '' : n.output?.[0] ?? '';
    if (mapped.fused) skip.add(mapped.fused);
    state.producer.set(out, name);
    state.rankOf.set(out, state.rankOf.get(out) ?? mapped.rank);
  }
}

function readOutputs(g: IGraphProto, state: ReadState): { outputs: string[]; outputNames: string[] } {
  const outputNames: string[] = [];
  const outputs = (g.output ?? []).map((o) => {
    const t = o.name ?? '';
    if (state.consts.has(t)) throw new Error(`graph output "${t}" is a constant; constant outputs are unsupported`);
    const p = state.producer.get(t);
    if (!p) throw new Error(`graph output "${t}" is not produced by any node or input`);
    outputNames.push(t);
    return p;
  });
  if (outputs.length === 0) throw new Error('the ONNX graph declares no outputs');
  return { outputs, outputNames };
}

/** Everything of the model the IR does not hold, so the writer can put it back. */
function onnxMeta(model: IModelProto, opset: number, outputNames: string[]): OnnxMeta {
  return {
    sourceFormat: 'onnx',
    opset,
    irVersion: toNum(model.irVersion as Int64),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    onnx: {
      opsetImports: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: toNum(o.version as Int64) })),
      outputNames,
      modelVersion: toNum(model.modelVersion as Int64),
      domain: model.domain ?? '',
      docString: model.docString ?? '',
      metadataProps: (model.metadataProps ?? []).map((p) => ({ key: p.key ?? '', value: p.value ?? '' })),
      functions: model.functions ?? [],
    },
  };
}

/** Re-exported for callers that only need to sniff a buffer. */
export function isOnnxBytes(bytes: Uint8Array): boolean {
  try {
    decodeModel(bytes);
    return true;
  } catch {
    return false;
  }
}
