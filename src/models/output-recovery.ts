/**
 * The temp siblings of an output folder and how a later run (or a signal handler) puts things right.
 * A write goes to `.<name>.netdecouple-<pid>-<id>.new`; the folder it replaces is parked at
 * `…-<pid>-<id>.old` for the instant between the two renames. So whenever `<name>` is missing while a
 * `.old` sibling exists, that sibling is the previous complete output and is renamed back.
 */
import * as fs from 'node:fs';
import path from 'node:path';

const SIBLING = /^netdecouple-(\d+)-[0-9a-f]+\.(new|old)$/;
/** What earlier versions left: fs.mkdtemp's `.<name>.tmp-XXXXXX`, and its `.old` during the swap. */
const LEGACY = /^tmp-[A-Za-z0-9]{6}(\.old)?$/;

export function tempSibling(target: string, kind: 'new' | 'old', id: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.netdecouple-${process.pid}-${id}.${kind}`);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp siblings of `target` whose run is over (its process is gone), newest first. */
function staleSiblings(target: string): { path: string; old: boolean }[] {
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(target));
  } catch {
    return [];
  }
  const found: { path: string; old: boolean; mtime: number }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const ours = SIBLING.exec(rest);
    const legacy = LEGACY.exec(rest);
    if (!(ours && !alive(Number(ours[1]))) && !legacy) continue;
    const p = path.join(path.dirname(target), name);
    try {
      found.push({ path: p, old: ours ? ours[2] === 'old' : legacy![1] !== undefined, mtime: fs.lstatSync(p).mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime);
}

const exists = (p: string) => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

/** A run killed mid-swap left no `target` but its previous version parked aside: put it back; drop the rest. */
export function recoverOutput(target: string): void {
  const stale = staleSiblings(target);
  const parked = stale.find((s) => s.old);
  if (parked && !exists(target)) fs.renameSync(parked.path, target);
  for (const s of stale) fs.rmSync(s.path, { recursive: true, force: true });
}

/** Writes in progress in this process, so a signal handler can undo them. */
export interface ActiveWrite {
  target: string;
  tmp: string;
  old: string;
}
export const activeWrites = new Set<ActiveWrite>();

/** Synchronous, for signal handlers: the previous output back in place (or the new one kept), temps gone. */
export function abortActiveWrites(): void {
  for (const w of activeWrites) {
    if (exists(w.old) && !exists(w.target)) fs.renameSync(w.old, w.target);
    fs.rmSync(w.old, { recursive: true, force: true });
    fs.rmSync(w.tmp, { recursive: true, force: true });
    activeWrites.delete(w);
  }
}

/**
 * Test hook: with NETDECOUPLE_TEST_PAUSE=<point>, the run stops at that point (after touching the
 * file NETDECOUPLE_TEST_PAUSE_FILE) so a test can kill it there. Without it nothing yields.
 */
export async function pauseForTest(point: string): Promise<void> {
  if (process.env.NETDECOUPLE_TEST_PAUSE !== point) return;
  if (process.env.NETDECOUPLE_TEST_PAUSE_FILE) fs.writeFileSync(process.env.NETDECOUPLE_TEST_PAUSE_FILE, point);
  await new Promise(() => setInterval(() => {}, 1000));
}
