/** PNG ↔ float RGB in [0, 255], HWC — what the super-resolution models take and give. */
import { promises as fs } from 'node:fs';
import { PNG } from 'pngjs';

export interface RgbImage {
  height: number;
  width: number;
  /** HWC, RGB, float values in [0, 255]. */
  data: Float32Array;
}

export async function readPng(file: string): Promise<RgbImage> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch {
    throw new Error(`image not found: ${file}`);
  }
  let png: PNG;
  try {
    png = PNG.sync.read(buf);
  } catch (e) {
    throw new Error(`${file} is not a readable PNG image: ${(e as Error).message}`);
  }
  const data = new Float32Array(png.width * png.height * 3);
  for (let p = 0; p < png.width * png.height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = png.data[p * 4 + c];
  return { height: png.height, width: png.width, data };
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
