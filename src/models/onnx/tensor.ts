/**
 * ONNX TensorProto ⇄ typed arrays. Sizes are checked against the declared dims before any buffer
 * is allocated; data may sit in raw_data (little-endian), in the typed repeated fields, or in an
 * external file inside the model folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { DATA_TYPE_BYTES, DataType, dataTypeName, toNum, type ITensorProto, type Int64 } from './proto.js';
import { checkFinite, checkedNumel, resolveExternalPath } from './validate.js';

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

/** A validated initializer: header checked, data located, nothing decoded yet. */
export interface TensorHeader {
  name: string;
  proto: ITensorProto;
  dims: number[];
  numel: number;
  dataType: number;
  /** Where the bytes are when they are not in the proto itself. */
  external?: { file: string; offset: number; length: number };
}

function typedFieldLength(t: ITensorProto, dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.COMPLEX64:
      return t.floatData?.length ?? 0;
    case DataType.DOUBLE:
    case DataType.COMPLEX128:
      return t.doubleData?.length ?? 0;
    case DataType.INT64:
      return t.int64Data?.length ?? 0;
    case DataType.UINT32:
    case DataType.UINT64:
      return t.uint64Data?.length ?? 0;
    case DataType.STRING:
      return t.stringData?.length ?? 0;
    default:
      return t.int32Data?.length ?? 0;
  }
}

/**
 * Checks dims, dtype and byte counts of one tensor. `what` names it in errors
 * (`initializer "conv1.weight"`). External data needs `baseDir` (the model's folder).
 */
export function checkTensor(t: ITensorProto, what: string, baseDir?: string): TensorHeader {
  const dims = (t.dims ?? []).map((d) => toNum(d as Int64));
  const numel = checkedNumel(dims, what);
  const dataType = t.dataType ?? 0;
  if (!(dataType in DATA_TYPE_BYTES)) {
    throw new Error(`${what}: unsupported data type ${dataTypeName(dataType)}`);
  }
  if (t.segment) throw new Error(`${what}: segmented tensors are not supported; re-save the model without segments`);
  const elemBytes = DATA_TYPE_BYTES[dataType];
  const perElem = dataType === DataType.COMPLEX64 || dataType === DataType.COMPLEX128 ? 2 : 1;
  const header: TensorHeader = { name: t.name ?? '', proto: t, dims, numel, dataType };

  if (t.dataLocation === 1) {
    const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (location === undefined) throw new Error(`${what}: external data without a "location" entry`);
    if (baseDir === undefined) {
      throw new Error(`${what}: uses external data "${location}" but no model folder is known; load it with readOnnx(path) or pass { baseDir }`);
    }
    if (elemBytes === undefined) throw new Error(`${what}: external STRING tensors are not supported`);
    const file = resolveExternalPath(baseDir, location, what);
    const offset = Number(entries.get('offset') ?? '0');
    const expected = numel * elemBytes;
    const length = entries.has('length') ? Number(entries.get('length')) : expected;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length)) {
      throw new Error(`${what}: invalid external data offset/length (${entries.get('offset')}, ${entries.get('length')})`);
    }
    if (length !== expected) {
      throw new Error(`${what}: external data length ${length} bytes does not match shape [${dims.join(', ')}] × ${elemBytes} bytes = ${expected}`);
    }
    const size = fs.statSync(file).size;
    if (offset + length > size) {
      throw new Error(`${what}: external data "${location}" has ${size} bytes, needs ${offset + length} (offset ${offset} + ${length}); the data file is truncated`);
    }
    header.external = { file, offset, length };
    return header;
  }

  const raw = t.rawData;
  if (raw && raw.length > 0) {
    if (elemBytes === undefined) throw new Error(`${what}: STRING tensor with raw_data is invalid`);
    if (raw.length !== numel * elemBytes) {
      throw new Error(
        `${what}: raw_data has ${raw.length} bytes but shape [${dims.join(', ')}] of ${dataTypeName(dataType)} needs ${numel * elemBytes}`,
      );
    }
    return header;
  }
  const got = typedFieldLength(t, dataType);
  if (got !== numel * perElem) {
    throw new Error(`${what}: has ${got} stored values but shape [${dims.join(', ')}] needs ${numel * perElem}${got === 0 ? ' (no data)' : ''}`);
  }
  return header;
}

/** The tensor's bytes when they are in raw_data or an external file; undefined for typed fields. */
function rawBytes(h: TensorHeader): Uint8Array | undefined {
  if (h.external) {
    const buf = Buffer.alloc(h.external.length);
    const fd = fs.openSync(h.external.file, 'r');
    try {
      let done = 0;
      while (done < buf.length) {
        const n = fs.readSync(fd, buf, done, buf.length - done, h.external.offset + done);
        if (n === 0) throw new Error(`tensor "${h.name}": external data file ended early`);
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  }
  const raw = h.proto.rawData;
  return raw && raw.length > 0 ? raw : undefined;
}

/** Decodes a FLOAT tensor; other dtypes are refused with the dtype named. Checks finiteness. */
export function decodeFloat(h: TensorHeader, what: string): Float32Array {
  if (h.dataType !== DataType.FLOAT) {
    throw new Error(
      `${what}: data type ${dataTypeName(h.dataType)} is unsupported for weights; netdecouple reads float32 weights ` +
        '(convert or dequantize the model to float32 first)',
    );
  }
  const out = new Float32Array(h.numel);
  const raw = rawBytes(h);
  if (raw) {
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(out.buffer).set(raw);
    } else {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < h.numel; i++) out[i] = view.getFloat32(i * 4, true);
    }
  } else {
    out.set(h.proto.floatData ?? []);
  }
  checkFinite(out, what);
  return out;
}

/** Decodes a small integer tensor (INT64/INT32: shapes, pads, axes) to numbers. */
export function decodeInts(h: TensorHeader, what: string): number[] {
  const raw = rawBytes(h);
  if (h.dataType === DataType.INT64) {
    if (!raw) return (h.proto.int64Data ?? []).map((v) => toNum(v as Int64));
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: h.numel }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
  if (h.dataType === DataType.INT32) {
    if (!raw) return [...(h.proto.int32Data ?? [])];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: h.numel }, (_, i) => view.getInt32(i * 4, true));
  }
  throw new Error(`${what}: expected an INT64 or INT32 tensor, got ${dataTypeName(h.dataType)}`);
}

/** Decodes a small float tensor (scales, clip bounds) without the finiteness check: ±Inf is meaningful there. */
export function decodeFloatsLoose(h: TensorHeader, what: string): number[] {
  const raw = rawBytes(h);
  if (h.dataType === DataType.FLOAT) {
    if (!raw) return [...(h.proto.floatData ?? [])];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: h.numel }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (h.dataType === DataType.DOUBLE) {
    if (!raw) return [...(h.proto.doubleData ?? [])];
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: h.numel }, (_, i) => view.getFloat64(i * 8, true));
  }
  throw new Error(`${what}: expected a FLOAT tensor, got ${dataTypeName(h.dataType)}`);
}

/** A copy of the tensor with external data pulled inline, so it can be written anywhere. */
export function inlineTensor(h: TensorHeader): ITensorProto {
  if (!h.external) return h.proto;
  const { externalData: _e, dataLocation: _l, ...rest } = h.proto;
  return { ...rest, rawData: rawBytes(h) };
}

/** float32 initializer with little-endian raw_data (the compact form every runtime reads). */
export function floatTensorProto(name: string, dims: number[], data: Float32Array): ITensorProto {
  let raw: Uint8Array;
  if (LITTLE_ENDIAN_HOST) {
    raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  } else {
    raw = new Uint8Array(data.length * 4);
    const view = new DataView(raw.buffer);
    data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return { name, dims, dataType: DataType.FLOAT, rawData: raw };
}

export function int64TensorProto(name: string, dims: number[], values: number[]): ITensorProto {
  return { name, dims, dataType: DataType.INT64, int64Data: values };
}
