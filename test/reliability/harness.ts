/**
 * Runs one corpus case and checks what a user must be able to rely on: the exit status, exactly one
 * stderr line `netdecouple: …` on failure (none on success), nothing left in the working folder, the
 * temp folder or beside the output, every input byte-identical, and bounded memory.
 *
 * Most cases run in this process through runCli (the CLI as a function; 2 ms each instead of a
 * 1–2 s node start-up that loads tfjs), with the working folder and TMPDIR switched to the case's
 * own. Cases marked `spawn` run `node dist/cli/main.js` for real: exit statuses set by the process,
 * native libraries' stderr, and the peak RSS of the whole process.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { MAIN, ROOT } from '../helpers/cli.js';
import { runCli } from '../../cli/run.js';

export interface Work {
  /** The case's working folder (the CLI's cwd), holding copies of the base inputs. */
  dir: string;
  /** The case's TMPDIR. */
  tmp: string;
  /** Absolute path of a file in the working folder. */
  at(rel: string): string;
}

export interface Case {
  name: string;
  args: string[] | ((w: Work) => string[]);
  setup?: (w: Work) => void;
  exit: 0 | 1 | 2;
  message?: RegExp;
  /** On success: the output folder (relative to the working folder) that may be created or replaced. */
  out?: string;
  /** Run as a real process (see above). */
  spawn?: boolean;
  /** Extra properties after the run (stale siblings gone, old output restored, …). */
  check?: (w: Work, r: RunResult) => void;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS in bytes: of the child process (spawn), or of this process so far (in-process). */
  maxRss: number;
  ms: number;
}

const RSS_PROBE = path.join(ROOT, 'test', 'reliability', 'rss-probe.mjs');

/** Files under `dir` (symlinks not followed) → content hash, 'dir', or 'link → target'. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymbolicLink()) out.set(r, `link → ${fs.readlinkSync(p)}`);
      else if (e.isDirectory()) {
        out.set(r, 'dir');
        walk(p, r);
      } else out.set(r, createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(dir, '');
  return out;
}

export async function runInProcess(args: string[], w: Work): Promise<RunResult> {
  const cwd = process.cwd();
  const tmpdir = process.env.TMPDIR;
  let stdout = '';
  let stderr = '';
  const outWrite = process.stdout.write;
  const errWrite = process.stderr.write;
  const t0 = performance.now();
  process.chdir(w.dir);
  process.env.TMPDIR = w.tmp;
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await runCli(['node', 'netdecouple', ...args]);
  } finally {
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
    process.chdir(cwd);
    if (tmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpdir;
  }
  return { code, stdout, stderr, maxRss: process.resourceUsage().maxRSS * 1024, ms: performance.now() - t0 };
}

export function runSpawned(args: string[], w: Work, env: Record<string, string> = {}, onStart?: (pid: number) => void): Promise<RunResult> {
  // Outside the case folder, whose contents are checked.
  const probe = path.join(path.dirname(path.dirname(path.dirname(w.dir))), `rss-${Math.random().toString(16).slice(2)}`);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RSS_PROBE, MAIN, ...args], {
      cwd: w.dir,
      env: { ...process.env, TMPDIR: w.tmp, NETDECOUPLE_RSS_PROBE: probe, ...env },
      timeout: 60_000,
    });
    onStart?.(child.pid as number);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let maxRss = 0;
      try {
        maxRss = Number(fs.readFileSync(probe, 'utf8')) * 1024;
        fs.rmSync(probe);
      } catch {
        // killed: no probe
      }
      resolve({ code: code ?? (signal ? -1 : null), stdout, stderr, maxRss, ms: performance.now() - t0 });
    });
  });
}

/** A temp sibling of an output, as written by a run that was killed (ours, or an earlier version's). */
const STALE = /(^|\/)\.[^/]+\.(netdecouple-\d+-[0-9a-f]+\.(new|old)|tmp-[A-Za-z0-9]{6}(\.old)?)(\/|$)/;

/** Memory any case may use: the biggest legitimate run here is a tiny model on a tiny input. */
export const RSS_BOUND = 1.5 * 2 ** 30;

/** The checks every case gets; `before` is the snapshot of the case folder (work + tmp) before the run. */
export function checkCase(c: Case, w: Work, r: RunResult, before: Map<string, string>, root: string): void {
  const what = `${c.name}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
  expect(r.code, what).toBe(c.exit);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  if (c.exit === 0) {
    expect(r.stderr, what).toBe('');
  } else {
    expect(lines, what).toHaveLength(1);
    expect(lines[0], what).toMatch(/^netdecouple: \S/);
    if (c.message) expect(lines[0], what).toMatch(c.message);
  }
  expect(r.maxRss, `${c.name}: peak RSS`).toBeLessThan(RSS_BOUND);
  const after = snapshot(root);
  const outPrefix = c.out ? `work/${path.normalize(c.out).replace(/\/$/, '')}` : null;
  // Only the output folder may change, and temp siblings a killed run left may be cleaned up.
  const mayChange = (p: string) => (outPrefix !== null && (p === outPrefix || p.startsWith(outPrefix + '/'))) || STALE.test(p);
  for (const [p, h] of before) if (!mayChange(p)) expect(after.get(p), `${c.name}: ${p} was changed or removed`).toBe(h);
  for (const p of after.keys()) if (!before.has(p) && !(outPrefix !== null && (p === outPrefix || p.startsWith(outPrefix + '/')))) expect.fail(`${c.name}: left ${p} behind`);
  if (outPrefix && c.exit === 0) expect(after.get(outPrefix), `${c.name}: no output folder ${c.out}`).toBe('dir');
  expect(fs.readdirSync(w.tmp), `${c.name}: temp folder`).toEqual([]);
}
