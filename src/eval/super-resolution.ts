/**
 * Super-resolution fidelity. Two numbers per photo, both PSNR over data range 255, RGB, every pixel:
 *   - vs the original model's output (raw float outputs, as the convert report measures): what
 *     the conversion changed — docs/design.md#errors: on real photos these models beat bilinear by only
 *     ~0.5–1 dB, so this is the sensitive number;
 *   - vs the ground-truth photo (model output clipped to [0, 255], as an image viewer shows it),
 *     for the converted and the original model side by side.
 * Means are over photos of the per-photo PSNR (the usual super-resolution convention).
 */
import type { PreparedModel } from './engine.js';
import type { SuperResolutionData } from './datasets.js';
import { compareOutputs } from './metrics.js';
import type { Batch } from './tfjs-run.js';

export interface PhotoFidelity {
  name: string;
  /** Ground-truth size, H×W. */
  size: [number, number];
  psnrVsOriginalDb: number | null;
  psnrVsGroundTruthDb: number;
  originalPsnrVsGroundTruthDb: number | null;
}

export interface SuperResolutionMetrics {
  n: number;
  scale: number;
  downscale: string;
  psnrVsOriginalDb: number | null;
  psnrVsGroundTruthDb: number;
  originalPsnrVsGroundTruthDb: number | null;
  photos: PhotoFidelity[];
}

const clip255 = (d: Float32Array) => d.map((v) => Math.min(255, Math.max(0, v)));

/** Outputs of the model on every photo's low-resolution input, in dataset order. */
export async function upscaleAll(model: PreparedModel, data: SuperResolutionData, onPhoto?: (name: string) => void): Promise<Batch[]> {
  const out: Batch[] = [];
  for (const it of data.items) {
    onPhoto?.(it.name);
    const [y] = await model.run({ shape: [1, it.lowRes.height, it.lowRes.width, 3], data: it.lowRes.data });
    const want = it.highRes.height * it.highRes.width * 3;
    if (y.data.length !== want) throw new Error(`${it.name}: the model output has ${y.data.length} values, expected ${it.highRes.height}×${it.highRes.width}×3 = ${want}`);
    out.push(y);
  }
  return out;
}

export function superResolutionMetrics(data: SuperResolutionData, outputs: Batch[], originalOutputs?: Batch[]): SuperResolutionMetrics {
  const photos: PhotoFidelity[] = data.items.map((it, i) => {
    const y = outputs[i].data;
    const ref = originalOutputs?.[i].data;
    return {
      name: it.name,
      size: [it.highRes.height, it.highRes.width],
      psnrVsOriginalDb: ref ? compareOutputs(ref, y, 255).psnrDb : null,
      psnrVsGroundTruthDb: compareOutputs(it.highRes.data, clip255(y), 255).psnrDb,
      originalPsnrVsGroundTruthDb: ref ? compareOutputs(it.highRes.data, clip255(ref), 255).psnrDb : null,
    };
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    n: data.n,
    scale: data.scale,
    downscale: data.downscale,
    psnrVsOriginalDb: originalOutputs ? mean(photos.map((p) => p.psnrVsOriginalDb as number)) : null,
    psnrVsGroundTruthDb: mean(photos.map((p) => p.psnrVsGroundTruthDb)),
    originalPsnrVsGroundTruthDb: originalOutputs ? mean(photos.map((p) => p.originalPsnrVsGroundTruthDb as number)) : null,
    photos,
  };
}
