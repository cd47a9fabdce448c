/** PNG ↔ float RGB in [0, 255], HWC — what the super-resolution models take and give. */
import { PNG } from 'pngjs';
import { readImageFile } from './image-decode.js';

export interface RgbImage {
  height: number;
  width: number;
  /** HWC, RGB, float values in [0, 255]. */
  data: Float32Array;
}

/** Reads an image file (PNG or JPEG, by content; the name is kept for existing callers). */
export async function readPng(file: string): Promise<RgbImage> {
  return readImageFile(file);
}

/** Clips to [0, 255] and rounds, as an 8-bit image viewer would. */
export function toPng(img: RgbImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  for (let p = 0; p < img.width * img.height; p++) {
    for (let c = 0; c < 3; c++) png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(img.data[p * 3 + c])));
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

export function quantize8(data: Float32Array): Float32Array {
  return data.map((v) => Math.max(0, Math.min(255, Math.round(v))));
}
