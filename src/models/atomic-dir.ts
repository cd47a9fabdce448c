/**
 * Writes a folder of files so that it appears whole or not at all, and replaces an earlier output
 * so that a crash at any instant leaves the previous complete folder or the new one: the files go to
 * a hidden temp sibling, the old folder is renamed aside, the new one renamed into place, the old
 * one deleted. A run killed between the two renames leaves the old folder parked aside, and the next
 * run on that output puts it back (output-recovery.ts). A failed run leaves nothing behind.
 *
 * The file system calls are synchronous on purpose: a SIGINT handler then runs only between whole
 * steps, never while a write or rename is in flight on libuv's thread pool.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { checkOutputDir, realPathLoose } from './output-dir.js';
import { activeWrites, pauseForTest, recoverOutput, tempSibling, type ActiveWrite } from './output-recovery.js';

export interface AtomicWriteOptions {
  /** Inputs the output may not be, hold, or (for folders) sit inside. */
  protect?: string[];
  /** Replace a non-empty folder this tool did not write. */
  force?: boolean;
}

export async function writeFolderAtomically(dir: string, files: Record<string, Uint8Array | string>, opts: AtomicWriteOptions = {}): Promise<void> {
  if (dir.trim() === '') throw new Error('the output folder path is empty');
  for (const name of Object.keys(files)) {
    if (name.split(/[\\/]/).includes('..') || path.isAbsolute(name)) throw new Error(`refusing to write "${name}" outside ${dir}`);
  }
  const target = realPathLoose(path.resolve(dir), dir);
  recoverOutput(target);
  const check = { inputs: opts.protect, force: opts.force, shown: dir };
  checkOutputDir(target, check);
  const parent = path.dirname(target);
  const createdParent = mkdirOrWrap(parent, dir);
  const id = randomBytes(4).toString('hex');
  const w: ActiveWrite = { target, tmp: tempSibling(target, 'new', id), old: tempSibling(target, 'old', id) };
  activeWrites.add(w);
  try {
    mkdirOrWrap(w.tmp, dir);
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(w.tmp, name);
      mkdirOrWrap(path.dirname(file), dir);
      try {
        fs.writeFileSync(file, content);
      } catch (e) {
        throw new Error(`cannot write ${path.join(dir, name)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      await pauseForTest('writing');
    }
    await pauseForTest('written');
    // Someone may have put files there while we worked: check again right before replacing.
    checkOutputDir(target, check);
    const replacing = fs.existsSync(target);
    if (replacing) fs.renameSync(target, w.old);
    await pauseForTest('swap');
    fs.renameSync(w.tmp, target);
    await pauseForTest('swapped');
    if (replacing) fs.rmSync(w.old, { recursive: true, force: true });
  } catch (e) {
    if (fs.existsSync(w.old) && !fs.existsSync(target)) fs.renameSync(w.old, target);
    fs.rmSync(w.tmp, { recursive: true, force: true });
    if (createdParent) fs.rmSync(createdParent, { recursive: true, force: true });
    throw e;
  } finally {
    activeWrites.delete(w);
  }
}

/** mkdir -p; returns the first folder it created (to remove on failure), with the path in any error. */
function mkdirOrWrap(dir: string, shown: string): string | undefined {
  try {
    // A fresh folder is an ordinary one (0755 before umask), as the final output should be.
    return fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the output folder ${shown}: ${(e as NodeJS.ErrnoException).code} at ${(e as NodeJS.ErrnoException).path ?? dir}`);
  }
}
