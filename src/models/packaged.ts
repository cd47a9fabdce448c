/** Real pretrained models that install with the project (npm packages with weights inside). */
import path from 'node:path';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

/** Folder of an installed package, found from its main entry (their `exports` hide package.json). */
export function packageDir(name: string): string {
  const entry = require.resolve(name);
  const marker = path.join('node_modules', name);
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot locate the installed package ${name}; run npm ci`);
  return entry.slice(0, at + marker.length);
}

export interface PackagedModel {
  modelJson: string;
  fixture: string;
  /** The package's own result of upscaling `fixture` with this model. */
  expected: string;
}

export function esrgan(variant: 'slim' | 'medium', scale: 2 | 3 | 4 = 2): PackagedModel {
  const dir = packageDir(`@upscalerjs/esrgan-${variant}`);
  return {
    modelJson: path.join(dir, 'models', `x${scale}`, 'model.json'),
    fixture: path.join(dir, 'assets', 'fixture.png'),
    expected: path.join(dir, 'assets', 'samples', `${scale}x`, 'result.png'),
  };
}

/**
 * The input range a model's npm package declares, e.g. `inputRange: [0, 255,]` in the @upscalerjs
 * model definitions: found by walking up from the model file to its package and reading the
 * package's ESM build. null when the model is not inside such a package.
 */
export function declaredInputRange(modelPath: string): [number, number] | null {
  let dir = path.dirname(path.resolve(modelPath));
  for (let i = 0; i < 6 && dir !== path.dirname(dir); i++, dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (!existsSync(pkg)) continue;
    return rangeInPackage(path.join(dir, 'dist', 'esm'));
  }
  return null;
}

function rangeInPackage(dir: string): [number, number] | null {
  if (!existsSync(dir)) return null;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop() as string;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.js')) {
        const m = readFileSync(p, 'utf8').match(/inputRange:\s*\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,?\s*\]/);
        if (m) return [Number(m[1]), Number(m[2])];
      }
    }
  }
  return null;
}
