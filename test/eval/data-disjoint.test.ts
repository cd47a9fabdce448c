/** Validation and calibration data must not share images: what checkDisjoint lets through and what it refuses. */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkDisjoint } from '../../src/eval/data-disjoint.js';

const PHOTOS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/photos');

describe('checkDisjoint', () => {
  it('lets Fashion-MNIST\'s test split validate and its training split calibrate', async () => {
    await expect(checkDisjoint('fashion-mnist:500', 'fashion-mnist-train:256')).resolves.toBeUndefined();
  });

  it('lets two folders of different photos through, and refuses the same folder reached through a symlink', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-disjoint-'));
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.copyFileSync(path.join(PHOTOS, 'astronaut.png'), path.join(a, 'x.png'));
    fs.copyFileSync(path.join(PHOTOS, 'coffee.png'), path.join(b, 'y.png'));
    await expect(checkDisjoint(`images:${a}`, `images:${b}`)).resolves.toBeUndefined();
    fs.symlinkSync(a, path.join(tmp, 'link'));
    await expect(checkDisjoint(`images:${a}`, `images:${path.join(tmp, 'link')}`)).rejects.toThrow(/same folder/);
  });
});
