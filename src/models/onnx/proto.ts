/**
 * The one place that binds the generated ONNX protobuf classes (`onnx-proto`, onnx v1.10 schema)
 * and smooths over what protobufjs hands back: int64 fields arrive as `Long` objects, attribute
 * strings as bytes. Everything else in src/models/onnx talks to ONNX through these helpers.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type { OnnxTypes };

export type INodeProto = OnnxTypes.INodeProto;
export type ITensorProto = OnnxTypes.ITensorProto;
export type IAttributeProto = OnnxTypes.IAttributeProto;
export type IValueInfoProto = OnnxTypes.IValueInfoProto;
export type IGraphProto = OnnxTypes.IGraphProto;
export type IModelProto = OnnxTypes.IModelProto;

/** protobufjs returns int64 as a `Long` when the `long` package is present, else as a number. */
export type Int64 = number | { toNumber(): number; toString(): string } | null | undefined;

/**
 * int64 → number. Values beyond 2^53 come back as an inexact float so size checks downstream
 * (`Number.isSafeInteger`) reject them instead of silently wrapping.
 */
export function toNum(v: Int64): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = Number(v.toString());
  return n;
}

/** TensorProto.DataType codes used here (onnx.proto). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

const DATA_TYPE_NAMES = new Map<number, string>(Object.entries(DataType).map(([k, v]) => [v, k]));

export function dataTypeName(code: number | null | undefined): string {
  return DATA_TYPE_NAMES.get(code ?? 0) ?? `unknown(${code})`;
}

/** Bytes per element in raw_data; undefined for STRING (variable length). */
export const DATA_TYPE_BYTES: Record<number, number | undefined> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 8: undefined, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
};

export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** Read-side view of a node's attributes with ONNX defaults supplied by the caller. */
export class Attrs {
  private readonly map: Map<string, IAttributeProto>;

  constructor(node: INodeProto) {
    this.map = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  int(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a ? toNum(a.i as Int64) : dflt;
  }

  float(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a ? (a.f ?? 0) : dflt;
  }

  str(name: string, dflt: string): string {
    const a = this.map.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.map.get(name);
    return a ? (a.ints ?? []).map((v) => toNum(v as Int64)) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.map.get(name);
    return a ? [...(a.floats ?? [])] : undefined;
  }

  tensor(name: string): ITensorProto | undefined {
    return this.map.get(name)?.t ?? undefined;
  }

  /** True when any attribute carries a subgraph (If/Loop/Scan bodies). */
  hasSubgraph(): boolean {
    for (const a of this.map.values()) if (a.g || (a.graphs && a.graphs.length > 0)) return true;
    return false;
  }
}

/** Write-side attribute builders: the type tag is required by ORT's loader. */
export const attr = {
  int: (name: string, i: number): IAttributeProto => ({ name, type: AttrType.INT, i }),
  float: (name: string, f: number): IAttributeProto => ({ name, type: AttrType.FLOAT, f }),
  str: (name: string, s: string): IAttributeProto => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  ints: (name: string, ints: number[]): IAttributeProto => ({ name, type: AttrType.INTS, ints }),
  floats: (name: string, floats: number[]): IAttributeProto => ({ name, type: AttrType.FLOATS, floats }),
};

/** The ai.onnx opset of a model ('' and 'ai.onnx' both name the default domain). */
export function defaultOpset(model: IModelProto): number | undefined {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toNum(entry.version as Int64) : undefined;
}

/** Lowest ONNX IR version that can carry a given ai.onnx opset (onnx/helper.py VERSION_TABLE). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}
