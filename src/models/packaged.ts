/** Real pretrained models that install with the project (npm packages with weights inside). */
import path from 'node:path';
import { createRequire } from 'node:module';

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
