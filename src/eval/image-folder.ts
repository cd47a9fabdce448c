/**
 * A folder of photos for a classifier, read lazily so thousands of images stream in batches:
 *   - labelled: one subfolder per class, torchvision's ImageFolder convention — class index = the
 *     subfolders' names sorted, or their line numbers in a --labels file (one class name a line,
 *     the model's class order; needed when the folder holds only some of the model's classes);
 *   - unlabelled: the photos lie in the folder itself (subfolders are then ignored); only agreement
 *     with --against is measured.
 * Every photo goes through the one preprocessing (preprocess.ts) to the model's input.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Graph } from '../models/ir.js';
import { readImage } from './datasets.js';
import { fixedInputSize, inputChannels, photoToExample, type Preprocessing } from './preprocess.js';

/** Files the folder reader passes over: dotfiles and the folder's own documentation. */
export const DOC_FILE = /^(\.|readme|licen[cs]e|copying|labels\.txt$)/i;

export interface ImageFolder {
  files: string[];
  /** Per file, or null when unlabelled. */
  labels: Int32Array | null;
  classNames: string[] | null;
}

async function entries(dir: string, what: string) {
  return fs.readdir(dir, { withFileTypes: true }).catch(() => {
    throw new Error(`${what}: folder not found: ${dir}`);
  });
}

/** Photos under a class folder, recursively, in sorted order (as ImageFolder walks them). */
async function photosUnder(dir: string, what: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await entries(dir, what)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (DOC_FILE.test(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await photosUnder(p, what)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export async function listImageFolder(dir: string, what: string, labelsFile?: string): Promise<ImageFolder> {
  const all = (await entries(dir, what)).filter((e) => !DOC_FILE.test(e.name));
  const classes = all.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const loose = all.filter((e) => e.isFile()).map((e) => e.name).sort();
  // Loose photos make the folder unlabelled (its subfolders, e.g. sources, are not classes).
  if (!classes.length || loose.length) {
    if (labelsFile) throw new Error(`${what}: --labels ${labelsFile} needs one subfolder per class in ${dir}${loose.length ? ` and no loose files (${loose[0]}…)` : ', but it has none'}`);
    if (!loose.length) throw new Error(`${what}: no PNG or JPEG images in ${dir} (photos, or one subfolder of them per class)`);
    return { files: loose.map((f) => path.join(dir, f)), labels: null, classNames: null };
  }
  const names = labelsFile ? await readLabels(labelsFile) : classes;
  const index = new Map(names.map((n, i) => [n, i]));
  const files: string[] = [];
  const labels: number[] = [];
  for (const c of classes) {
    const i = index.get(c);
    if (i === undefined) throw new Error(`${what}: class folder "${c}" is not a line of --labels ${labelsFile}; name the folders as the labels file does`);
    const photos = await photosUnder(path.join(dir, c), what);
    files.push(...photos);
    labels.push(...photos.map(() => i));
  }
  if (!files.length) throw new Error(`${what}: the class folders in ${dir} hold no files`);
  return { files, labels: Int32Array.from(labels), classNames: names };
}

async function readLabels(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new Error(`--labels ${file}: file not found`);
  });
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!names.length) throw new Error(`--labels ${file}: no class names (one per line, in the model's class order)`);
  if (new Set(names).size !== names.length) throw new Error(`--labels ${file}: a class name appears twice`);
  return names;
}

/** The per-example NHWC shape every photo is brought to; errors when the model and flags leave it open. */
export function exampleSizeFor(graph: Graph, p: Preprocessing, what: string): [number, number, number] {
  const c = inputChannels(graph) ?? 3;
  const fixed = fixedInputSize(graph);
  const size = p.crop ?? (p.resize?.length === 2 ? p.resize : null) ?? (fixed ? [fixed.h, fixed.w] : null);
  if (!size) throw new Error(`${what}: model "${graph.name}" takes any input size; give --crop H,W (or --preprocess imagenet) so every photo has one size`);
  if (fixed && (size[0] !== fixed.h || size[1] !== fixed.w)) {
    throw new Error(`${what}: preprocessing makes ${size[0]}×${size[1]} images, but model "${graph.name}" takes ${fixed.h}×${fixed.w}; use --crop ${fixed.h},${fixed.w}`);
  }
  return [size[0], size[1], c];
}

/** Examples [start, start + count) of the file list, preprocessed, in the model's layout. */
export async function readExamples(files: string[], start: number, count: number, opts: { graph: Graph; preprocessing: Preprocessing; shape: [number, number, number] }): Promise<Float32Array> {
  const [h, w, c] = opts.shape;
  const per = h * w * c;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const file = files[start + i];
    const x = photoToExample(await readImage(file), opts.preprocessing, opts.graph);
    if (x.h !== h || x.w !== w) throw new Error(`${file}: preprocessed to ${x.h}×${x.w}, the others to ${h}×${w}; give --crop H,W so every photo has one size`);
    out.set(x.data, i * per);
  }
  return out;
}
