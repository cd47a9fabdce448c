/**
 * Showing results in a tslab notebook: charts, image rows and text tables.
 *
 * Charts are rendered by the project's plotting module (src/report/plots.ts, vega-lite → SVG →
 * PNG), the same one report.html uses, so a notebook draws exactly the report's charts. Output is
 * PNG, not SVG: Jupyter hides SVG in untrusted notebooks (docs/notebooks.md). tslab only imports
 * TypeScript under the notebook's folder, hence this file lives here and imports the compiled public
 * entry (dist/src/index.js), like the notebooks.
 */
import * as tslab from 'tslab';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { renderPng, renderTable, type VegaLiteSpec, type RgbImage } from '../dist/src/index.js';

/**
 * Without any system font the rasteriser draws charts with no text at all, silently; fail loudly
 * instead, so a machine set up without fonts cannot commit blank axes.
 */
function requireFonts(): void {
  if (GlobalFonts.families.length === 0) {
    throw new Error('no system fonts found for chart text: install one, e.g. apt-get install fonts-dejavu-core (the charts ask for DejaVu Sans)');
  }
}

/** Renders a vega-lite spec and shows it as a PNG (1.5× its CSS size: crisp without filling the page). */
export async function showChart(spec: VegaLiteSpec, scale = 1.5): Promise<void> {
  requireFonts();
  tslab.display.png(new Uint8Array(await renderPng(spec, scale)));
}

/** A plain-text table on stdout (shows the same on every notebook viewer). */
export function showTable(headers: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): void {
  console.log(renderTable(headers, rows.map((r) => r.map(String)), align));
}

export interface Panel {
  title: string;
  image: RgbImage;
  /** A second line under the title (e.g. the PSNR). */
  caption?: string;
}

export interface ImageRowOptions {
  /** Nearest-neighbour magnification of every panel, so pixels stay visible (default 1). */
  zoom?: number;
  /** Height of every panel in image pixels; smaller images are magnified to it by nearest neighbour. */
  height?: number;
  gap?: number;
  /** JPEG (default, quality 92) keeps photo rows small in the committed notebook; PNG is lossless. */
  format?: 'jpeg' | 'png';
}

/** Panels side by side with their titles above, as one image (pixel values clipped to [0, 255]). */
export function imageRow(panels: Panel[], opts: ImageRowOptions = {}): Buffer {
  if (!panels.length) throw new Error('imageRow: no panels to show');
  requireFonts();
  const gap = opts.gap ?? 12;
  const zoom = opts.zoom ?? 1;
  const target = opts.height ?? Math.max(...panels.map((p) => p.image.height));
  const sizes = panels.map((p) => {
    const f = Math.max(1, Math.round(target / p.image.height)) * zoom;
    return { f, w: p.image.width * f, h: p.image.height * f };
  });
  const head = panels.some((p) => p.caption) ? 40 : 24;
  const width = sizes.reduce((a, s) => a + s.w, 0) + gap * (panels.length + 1);
  const height = Math.max(...sizes.map((s) => s.h)) + head + gap;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, width, height);
  let x = gap;
  panels.forEach((p, i) => {
    const { f, w, h } = sizes[i];
    label(ctx, p, x, w);
    const img = ctx.createImageData(w, h);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const src = (Math.floor(y / f) * p.image.width + Math.floor(xx / f)) * 3;
        const dst = (y * w + xx) * 4;
        for (let c = 0; c < 3; c++) img.data[dst + c] = Math.max(0, Math.min(255, Math.round(p.image.data[src + c])));
        img.data[dst + 3] = 255;
      }
    }
    ctx.putImageData(img, x, head);
    x += w + gap;
  });
  return opts.format === 'png' ? canvas.toBuffer('image/png') : canvas.toBuffer('image/jpeg', 92);
}

function label(ctx: SKRSContext2D, p: Panel, x: number, w: number): void {
  ctx.fillStyle = '#222';
  ctx.font = 'bold 13px "DejaVu Sans", sans-serif';
  ctx.fillText(p.title, x, 16, w);
  if (p.caption) {
    ctx.font = '12px "DejaVu Sans", sans-serif';
    ctx.fillStyle = '#555';
    ctx.fillText(p.caption, x, 32, w);
  }
}

export function showImages(panels: Panel[], opts: ImageRowOptions = {}): void {
  const bytes = new Uint8Array(imageRow(panels, opts));
  if (opts.format === 'png') tslab.display.png(bytes);
  else tslab.display.jpeg(bytes);
}

/** |a − b| × gain per pixel, as an image (grey where equal is black): where two outputs differ. */
export function difference(a: RgbImage, b: RgbImage, gain = 4): RgbImage {
  if (a.height !== b.height || a.width !== b.width) throw new Error(`difference: ${a.height}×${a.width} vs ${b.height}×${b.width} images`);
  const data = new Float32Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.abs(a.data[i] - b.data[i]) * gain;
  return { height: a.height, width: a.width, data };
}

/** A model output batch [1, H, W, 3] as an image. */
export function asImage(out: { shape: number[]; data: Float32Array }): RgbImage {
  const [, h, w, c] = out.shape;
  if (c !== 3) throw new Error(`asImage: expected an [1, H, W, 3] output, got [${out.shape.join(', ')}]`);
  return { height: h, width: w, data: out.data };
}
