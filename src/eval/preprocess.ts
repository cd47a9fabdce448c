/**
 * How a model wants its pixels — the one preprocessing spec that eval, calibration, convert's output
 * check, bench and sweep share. A photo (RGB, HWC, [0, 255]) becomes a model input by
 *
 *   1. geometry: `resize` (shorter side to S, torchvision's Resize(int) rule, or exactly H×W), then a
 *      centre `crop` H×W; a fixed-size model with neither gets "cover, then centre-crop" to its size;
 *   2. channels: 1-channel models get luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B, PIL's "L"),
 *      3-channel models RGB or BGR (`channels`);
 *   3. values: (pixel / divisor − mean[c]) / std[c], mean/std in the model's channel order;
 *   4. layout: NHWC or NCHW, from the model.
 *
 * Presets (Keras' `preprocess_input` modes keep their names):
 *   0-1       p / 255                       (the project's Fashion-MNIST classifiers)
 *   0-255     p                             (esrgan and most TF.js image models)
 *   tf        p / 127.5 − 1 → [−1, 1]       (Inception, MobileNet)
 *   torch     p / 255, ImageNet mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]
 *   caffe     BGR, p − [103.939, 116.779, 123.68] (B, G, R means), no scaling (VGG/ResNet from Caffe)
 *   imagenet  torch + torchvision's eval geometry: resize shorter side to 256, centre-crop 224
 *
 * Resizing is bilinear with antialiasing (a triangle filter widened by the downscale factor), as PIL's
 * Image.resize(BILINEAR) and torchvision's Resize on tensors with antialias=True compute it; PIL
 * rounds to 8 bits after each pass, we keep floats, so ours equals torchvision's tensor path and is
 * within one 8-bit level of its PIL path (test/eval/preprocess.test.ts checks both).
 */
import type { Graph, Layout } from '../models/ir.js';
import { spatialOf, type Shape } from '../models/shapes.js';
import type { RgbImage } from './image.js';

export const PRESETS = ['0-1', '0-255', 'tf', 'torch', 'caffe', 'imagenet'] as const;
export type Preset = (typeof PRESETS)[number];

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** What the user asked for (the CLI flags); every field optional, applied over the preset. */
export interface PreprocessOptions {
  preset?: string;
  mean?: number[];
  std?: number[];
  /** Multiplier of the pixel value, or its reciprocal form "1/255" (kept exact as a divisor). */
  scale?: number | string;
  channels?: string;
  /** [S] = shorter side to S; [H, W] = exactly H×W. */
  resize?: number[];
  /** [S] or [H, W], centre crop. */
  crop?: number[];
}

export interface Preprocessing {
  /** Preset name, or 'custom' when flags changed it. */
  name: string;
  /** value = (pixel / divisor − mean) / std; a divisor, not a scale, so p / 255 is bit-exact. */
  divisor: number;
  mean: number[];
  std: number[];
  channels: 'rgb' | 'bgr';
  resize: [number] | [number, number] | null;
  crop: [number, number] | null;
  /** Why this preprocessing: a flag, the model's package, or the default rule. */
  source: string;
}

function preset(name: string): Omit<Preprocessing, 'source'> {
  const base = { name, mean: [0], std: [1], channels: 'rgb' as const, resize: null, crop: null };
  switch (name) {
    case '0-1':
      return { ...base, divisor: 255 };
    case '0-255':
      return { ...base, divisor: 1 };
    case 'tf':
      return { ...base, divisor: 127.5, mean: [1] };
    case 'torch':
      return { ...base, divisor: 255, mean: IMAGENET_MEAN, std: IMAGENET_STD };
    case 'caffe':
      return { ...base, divisor: 1, channels: 'bgr', mean: [103.939, 116.779, 123.68] };
    case 'imagenet':
      return { ...base, divisor: 255, mean: IMAGENET_MEAN, std: IMAGENET_STD, resize: [256], crop: [224, 224] };
    default:
      throw new Error(`--preprocess "${name}": unknown preset; choose one of ${PRESETS.join(', ')}`);
  }
}

/**
 * The default when no --preprocess is given: the range the model's package declares (the esrgan
 * packages declare [0, 255]); else 0-1 for 1-channel inputs (the Fashion-MNIST convention) and
 * 0-255 for 3-channel ones (TF.js image models), 0-1 for any other input — always stated in the reports.
 */
export function defaultPreset(graph: Graph, declaredRange?: [number, number] | null): { preset: Preset; source: string } {
  if (declaredRange && declaredRange[0] === 0 && (declaredRange[1] === 255 || declaredRange[1] === 1)) {
    return { preset: declaredRange[1] === 255 ? '0-255' : '0-1', source: `the model's package declares input range [${declaredRange.join(', ')}]` };
  }
  const c = inputChannels(graph);
  if (c === 3) return { preset: '0-255', source: 'default for 3-channel models; --preprocess changes it' };
  return { preset: '0-1', source: `default for ${c ?? 'non-image'}-channel models; --preprocess changes it` };
}

function parseScale(s: number | string): number {
  if (typeof s === 'number') {
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`--scale ${s}: must be a positive number, e.g. 1/255`);
    return 1 / s;
  }
  const frac = s.trim().match(/^1\s*\/\s*([0-9.]+)$/);
  const d = frac ? Number(frac[1]) : 1 / Number(s);
  if (!(d > 0) || !Number.isFinite(d)) throw new Error(`--scale "${s}": must be a positive number such as 0.0039 or 1/255`);
  return d;
}

function pair(v: number[], flag: string): [number, number] {
  if (!Array.isArray(v) || v.length < 1 || v.length > 2 || v.some((x) => !Number.isInteger(x) || x < 1 || x > 16384)) {
    throw new Error(`${flag} ${String(v)}: give S or H,W with positive integers`);
  }
  return v.length === 1 ? [v[0], v[0]] : [v[0], v[1]];
}

/** The preprocessing for a model: the preset (or the model's default) with the flags applied over it. */
export function resolvePreprocessing(graph: Graph, opts: PreprocessOptions = {}, declaredRange?: [number, number] | null): Preprocessing {
  const def = opts.preset === undefined ? defaultPreset(graph, declaredRange) : null;
  const p: Preprocessing = { ...preset(opts.preset ?? (def as { preset: Preset }).preset), source: def ? def.source : `--preprocess ${opts.preset}` };
  const flags: string[] = [];
  if (opts.scale !== undefined) (p.divisor = parseScale(opts.scale)), flags.push('--scale');
  if (opts.mean !== undefined) (p.mean = checkVector(opts.mean, '--mean')), flags.push('--mean');
  if (opts.std !== undefined) (p.std = checkVector(opts.std, '--std')), flags.push('--std');
  if (p.std.some((s) => !(s > 0))) throw new Error(`--std ${p.std.join(',')}: every value must be positive`);
  if (opts.channels !== undefined) {
    if (opts.channels !== 'rgb' && opts.channels !== 'bgr') throw new Error(`--channels "${opts.channels}": choose rgb or bgr`);
    p.channels = opts.channels;
    flags.push('--channels');
  }
  if (opts.resize !== undefined) (p.resize = opts.resize.length === 1 ? [pair(opts.resize, '--resize')[0]] : pair(opts.resize, '--resize')), flags.push('--resize');
  if (opts.crop !== undefined) (p.crop = pair(opts.crop, '--crop')), flags.push('--crop');
  if (flags.length) {
    p.name = opts.preset ? `${opts.preset} + ${flags.join(' ')}` : 'custom';
    if (!opts.preset) p.source = `${flags.join(', ')} over the ${p.source.replace(/; --preprocess changes it$/, '')}`;
  }
  const c = inputChannels(graph);
  for (const [v, flag] of [[p.mean, '--mean'], [p.std, '--std']] as const) {
    if (v.length !== 1 && v.length !== (c ?? 3)) {
      throw new Error(`${flag} has ${v.length} values but model "${graph.name}" takes ${c} channel(s); give 1 value${c === 1 ? ' (e.g. --mean 0.449 --std 0.226 for ImageNet-trained grey models)' : ` or ${c}`}`);
    }
  }
  return p;
}

function checkVector(v: number[], flag: string): number[] {
  if (!Array.isArray(v) || (v.length !== 1 && v.length !== 3) || v.some((x) => !Number.isFinite(x))) throw new Error(`${flag} ${String(v)}: give 1 or 3 numbers, comma-separated`);
  return v;
}

/** One line for reports: what was done to every pixel. */
export function describePreprocessing(p: Preprocessing, graph: Graph): string {
  const c = inputChannels(graph);
  const parts = [
    `${p.name}:`,
    c === 1 ? 'grey (0.299 R + 0.587 G + 0.114 B)' : p.channels.toUpperCase(),
    p.divisor === 1 ? 'pixel in [0, 255]' : `pixel / ${+p.divisor.toPrecision(6)}`,
  ];
  if (p.mean.some((m) => m !== 0)) parts.push(`− mean [${p.mean.join(', ')}]`);
  if (p.std.some((s) => s !== 1)) parts.push(`÷ std [${p.std.join(', ')}]`);
  const geo = [p.resize ? (p.resize.length === 1 ? `resize shorter side to ${p.resize[0]}` : `resize to ${p.resize[0]}×${p.resize[1]}`) + ' (bilinear, antialiased)' : null, p.crop ? `centre-crop ${p.crop[0]}×${p.crop[1]}` : null].filter(Boolean);
  return `${parts.join(' ')}${geo.length ? `; ${geo.join(', ')}` : ''}; ${graph.layout} (${p.source})`;
}

export function inputChannels(graph: Graph): number | null {
  const node = graph.nodes.find((n) => n.name === graph.inputs[0]);
  if (!node || node.op !== 'input') throw new Error('the model has no input layer');
  return node.shape.length === 3 ? spatialOf(node.shape, graph.layout).c : null;
}

/** The model's fixed input size, or null where it takes any size. */
export function fixedInputSize(graph: Graph): { h: number; w: number } | null {
  const node = graph.nodes.find((n) => n.name === graph.inputs[0]);
  if (!node || node.op !== 'input' || node.shape.length !== 3) return null;
  const { h, w } = spatialOf(node.shape, graph.layout);
  return h !== null && w !== null ? { h, w } : null;
}

// ───────────────────────── geometry ─────────────────────────

/**
 * Antialiased bilinear resampling weights along one axis (PIL's and torchvision's scheme): output i
 * is centred at (i + ½)·scale in input pixels; the triangle filter is widened to the scale when
 * downscaling, so every input pixel contributes (no aliasing); weights are renormalised at the edges.
 */
function axisWeights(inSize: number, outSize: number): { start: Int32Array; count: Int32Array; weights: Float64Array; width: number } {
  const scale = inSize / outSize;
  const support = scale >= 1 ? scale : 1;
  const inv = scale >= 1 ? 1 / scale : 1;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * width);
  for (let i = 0; i < outSize; i++) {
    const centre = scale * (i + 0.5);
    // Truncation toward zero, as the C implementations do.
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const hi = Math.min(Math.trunc(centre + support + 0.5), inSize);
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j - centre + 0.5) * inv));
      weights[i * width + j - lo] = w;
      total += w;
    }
    for (let j = 0; j < hi - lo; j++) weights[i * width + j] /= total || 1;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, width };
}

/** Bilinear (antialiased) resize of an HWC image with `c` channels; horizontal pass, then vertical. */
export function resizeBilinear(img: RgbImage, height: number, width: number, c = 3): RgbImage {
  if (height === img.height && width === img.width) return img;
  const ax = axisWeights(img.width, width);
  const tmp = new Float64Array(img.height * width * c);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      const s = ax.start[x];
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let j = 0; j < ax.count[x]; j++) acc += ax.weights[x * ax.width + j] * img.data[(y * img.width + s + j) * c + k];
        tmp[(y * width + x) * c + k] = acc;
      }
    }
  }
  const ay = axisWeights(img.height, height);
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const s = ay.start[y];
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < c; k++) {
        let acc = 0;
        for (let j = 0; j < ay.count[y]; j++) acc += ay.weights[y * ay.width + j] * tmp[((s + j) * width + x) * c + k];
        out[(y * width + x) * c + k] = acc;
      }
    }
  }
  return { height, width, data: out };
}

/** torchvision's Resize(S): the shorter side becomes S, the longer int(S · long / short) (truncated). */
export function shorterSideSize(h: number, w: number, s: number): [number, number] {
  return h <= w ? [s, Math.trunc((s * w) / h)] : [Math.trunc((s * h) / w), s];
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Centre crop as torchvision's CenterCrop: offsets round((H − h) / 2); an image smaller than the crop is zero-padded around. */
export function centreCrop(img: RgbImage, height: number, width: number, c = 3): RgbImage {
  if (height === img.height && width === img.width) return img;
  const top = roundHalfEven((img.height - height) / 2);
  const left = roundHalfEven((img.width - width) / 2);
  const out = new Float32Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= img.width) continue;
      for (let k = 0; k < c; k++) out[(y * width + x) * c + k] = img.data[(sy * img.width + sx) * c + k];
    }
  }
  return { height, width, data: out };
}

/**
 * The geometric part: --resize, then --crop; a fixed-size model with neither gets the photo
 * resized so it covers the model's size (aspect kept) and centre-cropped to it.
 */
export function fitGeometry(img: RgbImage, p: Preprocessing, target: { h: number; w: number } | null): RgbImage {
  let out = img;
  if (p.resize) {
    const [h, w] = p.resize.length === 1 ? shorterSideSize(out.height, out.width, p.resize[0]) : p.resize;
    out = resizeBilinear(out, h, w);
  }
  if (p.crop) out = centreCrop(out, p.crop[0], p.crop[1]);
  if (!p.resize && !p.crop && target && (out.height !== target.h || out.width !== target.w)) {
    const s = Math.max(target.h / out.height, target.w / out.width);
    out = resizeBilinear(out, Math.max(target.h, Math.round(out.height * s)), Math.max(target.w, Math.round(out.width * s)));
    out = centreCrop(out, target.h, target.w);
  }
  return out;
}

// ───────────────────────── values and layout ─────────────────────────

/**
 * Pixel values → model values for one image, HWC with the model's channel count (1 or 3), not yet
 * in the model's layout. A grey pixel (R = G = B) stays exactly its value: weights that sum to 1
 * in floating point need not give back the same number.
 */
export function normalisePixels(img: RgbImage, p: Preprocessing, channels: 1 | 3): Float32Array {
  const n = img.height * img.width;
  const out = new Float32Array(n * channels);
  const d = img.data;
  const m = (k: number) => p.mean[p.mean.length === 1 ? 0 : k];
  const s = (k: number) => p.std[p.std.length === 1 ? 0 : k];
  for (let i = 0; i < n; i++) {
    const r = d[i * 3];
    const g = d[i * 3 + 1];
    const b = d[i * 3 + 2];
    if (channels === 1) {
      const grey = r === g && g === b ? r : 0.299 * r + 0.587 * g + 0.114 * b;
      out[i] = (grey / p.divisor - m(0)) / s(0);
    } else {
      const [c0, c2] = p.channels === 'bgr' ? [b, r] : [r, b];
      out[i * 3] = (c0 / p.divisor - m(0)) / s(0);
      out[i * 3 + 1] = (g / p.divisor - m(1)) / s(1);
      out[i * 3 + 2] = (c2 / p.divisor - m(2)) / s(2);
    }
  }
  return out;
}

/** HWC → CHW for one example (NCHW models). */
export function hwcToChw(x: Float32Array, h: number, w: number, c: number): Float32Array {
  if (c === 1) return x;
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) out[(k * h + y) * w + xx] = x[(y * w + xx) * c + k];
  return out;
}

/** A photo as one example in the model's layout: geometry, channels, values. */
export function photoToExample(img: RgbImage, p: Preprocessing, graph: Graph): { data: Float32Array; h: number; w: number; c: 1 | 3 } {
  const channels = inputChannels(graph) ?? 3;
  if (channels !== 1 && channels !== 3) throw new Error(`model "${graph.name}" takes ${channels} input channels; photos give 1 (grey) or 3 (RGB/BGR)`);
  const c = channels;
  const fitted = fitGeometry(img, p, fixedInputSize(graph));
  const hwc = normalisePixels(fitted, p, c);
  return { data: graph.layout === 'NCHW' ? hwcToChw(hwc, fitted.height, fitted.width, c) : hwc, h: fitted.height, w: fitted.width, c };
}

/**
 * Pixel-space values (any layout, [0, 255]) through the value transform in place: random "photos"
 * of the model's input range for the output check, bench and sweep timing. Channel c of an NHWC
 * example is the last axis, of an NCHW one the first; non-image inputs use the first mean/std.
 */
export function normaliseTensor(data: Float32Array, exampleShape: Shape, layout: Layout, p: Preprocessing): Float32Array {
  const dims = exampleShape as number[];
  const per = dims.reduce((a, b) => a * b, 1);
  const image = dims.length === 3;
  const c = image ? (layout === 'NHWC' ? dims[2] : dims[0]) : 1;
  const hw = image ? per / c : per;
  for (let i = 0; i < data.length; i++) {
    const e = i % per;
    const k = !image || c === 1 ? 0 : layout === 'NHWC' ? e % c : Math.floor(e / hw);
    const mi = p.mean.length === 1 ? 0 : k;
    const si = p.std.length === 1 ? 0 : k;
    data[i] = (data[i] / p.divisor - p.mean[mi]) / p.std[si];
  }
  return data;
}

/** The model-value range of pixels 0 and 255 (over channels), for stating random inputs. */
export function valueRange(p: Preprocessing): [number, number] {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let k = 0; k < Math.max(p.mean.length, p.std.length); k++) {
    const m = p.mean[p.mean.length === 1 ? 0 : k];
    const s = p.std[p.std.length === 1 ? 0 : k];
    lo.push((0 - m) / s);
    hi.push((255 / p.divisor - m) / s);
  }
  return [Math.min(...lo), Math.max(...hi)];
}
