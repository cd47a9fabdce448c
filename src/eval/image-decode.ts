/**
 * The one image reader: PNG (pngjs) or JPEG (jpeg-js, pure JS, so every platform decodes the same
 * pixels), recognised by content rather than extension, as float RGB in [0, 255], HWC. Used by
 * --input, images:<folder> datasets and calibration photos alike. The size in the header is checked
 * before decoding, so a small file claiming a huge picture cannot exhaust memory.
 */
import { promises as fs } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import type { RgbImage } from './image.js';

/** 50 megapixels: any photo a CNN is evaluated on, and 600 MB as float RGB at most. */
export const MAX_IMAGE_PIXELS = 50e6;

export type ImageKind = 'png' | 'jpeg';

export function imageKind(buf: Uint8Array): ImageKind | null {
  if (buf.length > 8 && buf[0] === 0x89 && buf[1] === 0x50 && buf[2] === 0x4e && buf[3] === 0x47) return 'png';
  if (buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  return null;
}

export async function readImageFile(file: string): Promise<RgbImage> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `image not found: ${file}` : `${file}: cannot read the image (${code === 'EISDIR' ? 'it is a folder' : code})`);
  }
  return decodeImage(buf, file);
}

export function decodeImage(buf: Buffer, file: string): RgbImage {
  const kind = imageKind(buf);
  if (kind === 'png') return decodePng(buf, file);
  if (kind === 'jpeg') return decodeJpeg(buf, file);
  throw new Error(`${file} is not a PNG or JPEG image`);
}

function checkSize(width: number, height: number, file: string): void {
  if (!(width > 0 && height > 0)) throw new Error(`${file}: the image is ${width}×${height}, empty`);
  if (width * height > MAX_IMAGE_PIXELS) throw new Error(`${file}: the image is ${width}×${height}, above the ${MAX_IMAGE_PIXELS / 1e6} megapixel limit; downscale it first`);
}

function decodePng(buf: Buffer, file: string): RgbImage {
  // IHDR is the first chunk: width and height at bytes 16..23.
  if (buf.length >= 24) checkSize(buf.readUInt32BE(16), buf.readUInt32BE(20), file);
  let png: PNG;
  try {
    png = PNG.sync.read(buf);
  } catch (e) {
    throw new Error(`${file}: damaged PNG, it cannot be decoded (${(e as Error).message}); re-export the image`);
  }
  return fromRgba(png.data, png.width, png.height);
}

function decodeJpeg(buf: Buffer, file: string): RgbImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
  } catch (e) {
    const msg = (e as Error).message;
    if (/maxResolutionInMP/.test(msg)) throw new Error(`${file}: the JPEG is above the ${MAX_IMAGE_PIXELS / 1e6} megapixel limit; downscale it first`);
    throw new Error(`${file}: damaged JPEG, it cannot be decoded (${msg}); re-export the image`);
  }
  checkSize(img.width, img.height, file);
  return fromRgba(img.data, img.width, img.height);
}

function fromRgba(rgba: ArrayLike<number>, width: number, height: number): RgbImage {
  const data = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = rgba[p * 4 + c];
  return { height, width, data };
}
