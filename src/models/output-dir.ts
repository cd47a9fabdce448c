/**
 * Where a command may write: `-o` is resolved (symlinks followed) and refused, before any work,
 * when writing there could lose a file the tool did not create — the input, a folder holding it,
 * the current folder, an existing file, or a non-empty folder that is not an earlier output of ours.
 */
import * as fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../usage-error.js';
import { recoverOutput } from './output-recovery.js';

export interface OutputCheck {
  /** Every file or folder the command reads; the output may be none of them, nor hold them. */
  inputs?: string[];
  /** Replace a non-empty folder this tool did not write (never an input or the current folder). */
  force?: boolean;
  /** The path as the user gave it, for messages. */
  shown?: string;
}

/** Report files whose `tool` field marks a folder as written by this tool. */
const REPORTS = ['report.json', 'compare.json', 'sweep.json'];
/** What our outputs hold; anything else in the folder was put there by someone else. */
const OUR_FILES = /\.(json|bin|onnx|svg|png|csv|html)$/;

/** Validates `-o`, restores a swap a killed run left half-done, and returns the real absolute path. */
export function prepareOutputDir(out: string, opts: OutputCheck = {}): string {
  if (out.trim() === '') throw new UsageError('-o is empty: give an output folder, e.g. -o out/');
  const target = realPathLoose(path.resolve(out), out);
  recoverOutput(target);
  checkOutputDir(target, { ...opts, shown: opts.shown ?? out });
  return target;
}

/** realpath of the longest existing prefix, the rest appended: symlinks to folders are followed. */
export function realPathLoose(abs: string, shown = abs): string {
  const rest: string[] = [];
  let p = abs;
  for (;;) {
    try {
      return path.join(fs.realpathSync(p), ...rest);
    } catch (e) {
      if (isLink(p)) throw new Error(`-o ${shown}: ${p} is a symbolic link to a missing target; remove it or choose another -o`);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`-o ${shown}: cannot resolve ${p} (${(e as NodeJS.ErrnoException).code})`);
      const parent = path.dirname(p);
      if (parent === p) return abs;
      rest.unshift(path.basename(p));
      p = parent;
    }
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);

/** The refusals, on the resolved target; run again just before the swap (the folder may have changed). */
export function checkOutputDir(target: string, opts: OutputCheck = {}): void {
  const shown = opts.shown ?? target;
  for (const input of opts.inputs ?? []) {
    let real: string;
    let isDir: boolean;
    try {
      real = fs.realpathSync(path.resolve(input));
      isDir = fs.statSync(real).isDirectory();
    } catch {
      continue; // a missing input is the loader's error to report
    }
    if (target === real) throw new Error(`-o ${shown} is the input ${input}; choose another -o (nothing was written)`);
    if (within(real, target)) throw new Error(`-o ${shown} holds the input ${input}; choose a folder outside it (nothing was written)`);
    if (isDir && within(target, real)) throw new Error(`-o ${shown} is inside the input folder ${input}; choose a folder outside it (nothing was written)`);
  }
  const cwd = fs.realpathSync(process.cwd());
  if (within(cwd, target)) throw new Error(`-o ${shown} is the current folder${target === cwd ? '' : ' or holds it'}; give a new folder, e.g. -o out/ (nothing was written)`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return; // a new folder
  }
  if (!stat.isDirectory()) throw new Error(`-o ${shown} is an existing file, not a folder; choose another -o (nothing was written)`);
  const foreign = foreignEntries(target);
  if (foreign.length && !opts.force) {
    throw new Error(`-o ${shown} is a non-empty folder netdecouple did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); choose a new folder, or pass --force to replace it`);
  }
}

/** Entries that show the folder is not (only) an earlier output of ours; [] for an empty folder. */
export function foreignEntries(dir: string): string[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  if (!entries.length) return [];
  if (!isOurOutput(dir)) return entries.map((e) => e.name).sort();
  return entries.filter((e) => !e.isFile() || !OUR_FILES.test(e.name)).map((e) => e.name).sort();
}

/** An earlier output of this tool: its report names the tool (zoo builds: model.json's convertedBy). */
export function isOurOutput(dir: string): boolean {
  for (const name of [...REPORTS, 'model.json']) {
    const file = path.join(dir, name);
    try {
      const st = fs.statSync(file);
      if (!st.isFile() || st.size > 256 * 2 ** 20) continue;
      const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { tool?: unknown; convertedBy?: unknown };
      if (name === 'model.json' ? typeof j.convertedBy === 'string' && j.convertedBy.startsWith('netdecouple') : j.tool === 'netdecouple') return true;
    } catch {
      // not there or not ours
    }
  }
  return false;
}
