/**
 * Reader for IDX files (the MNIST / Fashion-MNIST container), gzipped or not.
 *
 * Layout (big-endian): 2 zero bytes, a type byte (0x08 = unsigned byte), a dimension count d,
 * d uint32 sizes, then the row-major data. Only unsigned-byte files are accepted — every
 * MNIST-family file is one. The byte count must match the header exactly: a truncated download
 * or a wrong file must fail here, with its name, not as a shape error three layers later.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  /** Sizes from the header, outermost first, e.g. [10000, 28, 28]. */
  dims: number[];
  /** Row-major values; length is the product of `dims`. */
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

export interface ParseIdxOptions {
  /** Used in error messages (a file path, usually). */
  name?: string;
  /** If set, the number of dimensions the file must have. */
  ndims?: number;
}

/** Parses an IDX buffer (gzip is detected by its magic bytes and inflated first). */
export function parseIdx(input: Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const name = options.name ?? 'idx buffer';
  let buf = input;
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new Error(`${name}: gzip stream is corrupt or truncated (${(e as Error).message}); re-copy the file`);
    }
  }
  if (buf.length < 4) {
    throw new Error(`${name}: ${buf.length} bytes is too short for an IDX header (needs at least 4)`);
  }
  const magic = ((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]) >>> 0;
  const hex = `0x${magic.toString(16).padStart(8, '0')}`;
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new Error(`${name}: bad magic number ${hex}; an IDX file starts with 0x0000 then a type byte and a dimension count (e.g. 0x00000803 for images)`);
  }
  const type = buf[2];
  if (type !== IDX_UBYTE) {
    const typeName = TYPE_NAMES[type] ?? 'unknown type';
    throw new Error(`${name}: magic ${hex} declares element type 0x${type.toString(16).padStart(2, '0')} (${typeName}); only unsigned-byte IDX files (0x08) are supported`);
  }
  const ndims = buf[3];
  if (ndims === 0) {
    throw new Error(`${name}: magic ${hex} declares 0 dimensions`);
  }
  if (options.ndims !== undefined && ndims !== options.ndims) {
    throw new Error(`${name}: expected ${options.ndims} dimension(s), the header (magic ${hex}) declares ${ndims}`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes) {
    throw new Error(`${name}: truncated header: ${ndims} dimensions need ${headerBytes} header bytes, file has ${buf.length}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const expected = headerBytes + count;
  if (buf.length !== expected) {
    const what = buf.length < expected ? 'truncated' : 'has trailing bytes';
    throw new Error(`${name}: ${what}: header ${headerBytes} B + ${dims.join('×')} data = ${expected} B expected, got ${buf.length} B`);
  }
  // Copy so the result does not pin a large decompression buffer or alias the caller's bytes.
  return { dims, data: buf.slice(headerBytes) };
}

/** Reads and parses an IDX file; errors name the path. */
export function readIdxFile(path: string, options: Omit<ParseIdxOptions, 'name'> = {}): IdxArray {
  return parseIdx(readFileSync(path), { ...options, name: path });
}
