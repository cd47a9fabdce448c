/** Runs the built CLI (`node dist/cli/main.js`, built by `npm test`) as a user would. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], timeout = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function cli(...args: string[]): Promise<CliResult> {
  return runCli(args);
}

/** Runs `f` over `items`, two at a time (two cores; most of a CLI run is process start-up). */
export async function inPairs<T, R>(items: T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** Exit ≠ 0, one stderr line `netdecouple: …`; with `outDir`, no output folder and no `.out.*` temp sibling. */
export function expectCleanFailure(r: CliResult, message: RegExp, outDir?: string): void {
  expect(r.code, r.stderr).not.toBe(0);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^netdecouple: /);
  expect(lines[0]).toMatch(message);
  if (outDir === undefined) return;
  expect(fs.existsSync(outDir), `${outDir} was created`).toBe(false);
  const leftovers = fs.readdirSync(path.dirname(outDir)).filter((f) => f.startsWith(`.${path.basename(outDir)}.`));
  expect(leftovers).toEqual([]);
}
