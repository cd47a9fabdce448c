/**
 * Validation (--data) and calibration (--calibrate) must not share images: a model refitted on the
 * images it is then judged on looks better than it is. Fashion-MNIST's test split (--data) and its
 * training split (--calibrate) are disjoint by construction (loadCalibrationData refuses the test
 * split); two photo folders are refused when they are the same folder, one holds the other, or
 * they hold a file with the same bytes (a copied photo).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { listImageFolder } from './image-folder.js';

const folderOf = (spec: string): string | null => spec.match(/^images:(.+)$/)?.[1] ?? null;

async function realDir(dir: string): Promise<string> {
  try {
    return await fs.realpath(dir);
  } catch {
    return path.resolve(dir);
  }
}

const inside = (a: string, b: string): boolean => {
  const rel = path.relative(b, a);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

async function digest(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** A file of `a` with the same bytes as a file of `b`; only files of equal size are hashed. */
async function sharedFile(a: string[], b: string[]): Promise<[string, string] | null> {
  const bySize = new Map<number, string[]>();
  for (const f of b) {
    const size = (await fs.stat(f)).size;
    bySize.set(size, [...(bySize.get(size) ?? []), f]);
  }
  for (const f of a) {
    const same = bySize.get((await fs.stat(f)).size);
    if (!same) continue;
    const h = await digest(f);
    for (const g of same) if ((await digest(g)) === h) return [f, g];
  }
  return null;
}

export async function checkDisjoint(data: string, calibration: string): Promise<void> {
  const refuse = (why: string) => {
    throw new Error(`--data ${data} and --calibrate ${calibration} ${why}: validate on images the calibration never saw (a different folder, or fashion-mnist with fashion-mnist-train)`);
  };
  if (data.trim() === calibration.trim()) refuse('are the same data');
  const a = folderOf(data);
  const b = folderOf(calibration);
  if (a === null || b === null) return;
  const [ra, rb] = await Promise.all([realDir(a), realDir(b)]);
  if (inside(ra, rb) || inside(rb, ra)) refuse(ra === rb ? 'are the same folder' : 'overlap (one folder holds the other)');
  const shared = await sharedFile((await listImageFolder(a, `--data ${data}`)).files, (await listImageFolder(b, `--calibrate ${calibration}`)).files);
  if (shared) refuse(`share a photo (${shared[0]} has the bytes of ${shared[1]})`);
}
