/** Option parsers and output helpers shared by every command. */
import { InvalidArgumentError } from 'commander';
import { jsonSafe } from '../src/pipeline.js';
import { prepareOutputDir } from '../src/models/output-dir.js';
import { UsageError } from '../src/usage-error.js';

/** Runs a check of the options alone (no files involved): what it throws is a usage error, exit 2. */
export function asUsage(check: () => void): void {
  try {
    check();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export const FORCE_HELP = 'replace a non-empty -o folder that netdecouple did not write (never an input or the current folder)';

/** Checks -o before any work (see output-dir.ts); `inputs` are every path the command reads (images:<dir> too). */
export function prepareOut(out: string, o: { force?: boolean }, inputs: (string | undefined)[]): void {
  const paths = inputs.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => (x.startsWith('images:') ? x.slice('images:'.length) : x));
  prepareOutputDir(out, { inputs: paths, force: o.force });
}

export function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`"${v}" is not an integer`);
  return n;
}
export function num(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`"${v}" is not a number`);
  return n;
}
export const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function print(json: boolean, data: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(data, jsonSafe, 2) + '\n' : text + '\n');
}
