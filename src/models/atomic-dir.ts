/**
 * Writes a folder of files so that it appears whole or not at all: everything goes to a hidden
 * sibling temp folder first, then one rename puts it in place. A failed run leaves nothing behind.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function writeFolderAtomically(dir: string, files: Record<string, Uint8Array | string>, opts: { protect?: string[] } = {}): Promise<void> {
  const target = path.resolve(dir);
  for (const p of opts.protect ?? []) {
    const prot = path.resolve(p);
    if (target === prot || prot.startsWith(target + path.sep)) {
      throw new Error(`output folder ${dir} would overwrite the input ${p}; choose another -o`);
    }
  }
  const parent = path.dirname(target);
  await fs.mkdir(parent, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    // mkdtemp makes the folder private (0700); the output is an ordinary folder.
    await fs.chmod(tmp, 0o755);
    for (const [name, content] of Object.entries(files)) {
      if (name.includes('..') || path.isAbsolute(name)) throw new Error(`refusing to write "${name}" outside ${dir}`);
      await fs.mkdir(path.dirname(path.join(tmp, name)), { recursive: true });
      await fs.writeFile(path.join(tmp, name), content);
    }
    // An existing output folder is replaced only once the new one is complete.
    const old = `${tmp}.old`;
    let moved = false;
    try {
      await fs.rename(target, old);
      moved = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await fs.rename(tmp, target);
    if (moved) await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
