/**
 * A run killed at any point leaves the previous complete output or the new complete one at -o
 * (after a run killed between the two renames, the next run on that -o puts the previous one back
 * before anything else); SIGINT/SIGTERM undo the half-done output, print one line and exit 130/143.
 * The runs pause at named points (NETDECOUPLE_TEST_PAUSE, see output-recovery.ts) so the kill lands
 * exactly there; two more are killed at random times. Same input and options → the same bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAIN } from '../helpers/cli.js';
import { mulberry32 } from '../../src/decompose/random.js';
import { buildBase, freshWork } from './fixtures.js';
import { runInProcess, runSpawned, snapshot, type RunResult, type Work } from './harness.js';

let root: string;
let base: string;
/** The previous output (rank 2) and the one the killed run was writing (rank 1). */
let previous: Map<string, string>;
let next: Map<string, string>;
const convert = (rank: number, out: string) => ['convert', 'm.onnx', '--rank', String(rank), '--no-eval', '-o', out];
let n = 0;
const fresh = () => freshWork(base, path.join(root, `case-${n++}`));

/** The output's files, with report.json's wall-clock seconds (the one thing that varies) left out. */
function contents(dir: string): Map<string, string> {
  const snap = snapshot(dir);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
  delete report.seconds;
  snap.set('report.json', JSON.stringify(report));
  return snap;
}

const siblings = (w: Work) => fs.readdirSync(w.dir).filter((f) => f.startsWith('.out.'));

async function writeOutput(w: Work, rank: number, out = 'out'): Promise<void> {
  const r = await runInProcess(convert(rank, out), w);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first (npm run build; npm test does it)`);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netdecouple-crash-'));
  base = path.join(root, 'base');
  await buildBase(base);
  const w = fresh();
  await writeOutput(w, 2, 'a');
  await writeOutput(w, 1, 'b');
  previous = contents(w.at('a'));
  next = contents(w.at('b'));
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the rank-1 convert over an existing rank-2 output and sends `signal` at `point` (or after `delayMs`). */
async function interrupted(o: { point?: string; delayMs?: number; signal: NodeJS.Signals }): Promise<{ w: Work; r: RunResult }> {
  const w = fresh();
  await writeOutput(w, 2);
  const flag = path.join(root, `paused-${n}`);
  let pid = 0;
  const done = runSpawned(convert(1, 'out'), w, o.point ? { NETDECOUPLE_TEST_PAUSE: o.point, NETDECOUPLE_TEST_PAUSE_FILE: flag } : {}, (p) => (pid = p));
  let finished = false;
  void done.then(() => (finished = true));
  if (o.point) {
    while (!fs.existsSync(flag) && !finished) await new Promise((res) => setTimeout(res, 20));
    expect(finished, `the run never reached "${o.point}"`).toBe(false);
  } else {
    await new Promise((res) => setTimeout(res, o.delayMs));
  }
  if (!finished) process.kill(pid, o.signal);
  return { w, r: await done };
}

/** At -o: the previous output or the new one, whole. */
function expectWhole(w: Work): void {
  const got = contents(w.at('out'));
  expect([previous, next].some((want) => JSON.stringify([...want]) === JSON.stringify([...got])), 'the output is neither the previous nor the new one').toBe(true);
}

describe('killed runs never lose the output', () => {
  it('same input and options → byte-identical outputs', async () => {
    const w = fresh();
    await writeOutput(w, 2, 'again');
    expect(contents(w.at('again'))).toEqual(previous);
    expect(fs.readFileSync(w.at('again/model.onnx')).equals(fs.readFileSync(path.join(root, 'case-0', 'work', 'a', 'model.onnx')))).toBe(true);
  });

  for (const point of ['writing', 'written', 'swap', 'swapped']) {
    it(`SIGKILL at "${point}": the previous or the new output, and the next run cleans up`, async () => {
      const { w } = await interrupted({ point, signal: 'SIGKILL' });
      if (point === 'swap') {
        // Between the two renames the previous output is parked beside -o; the next run restores it first.
        expect(fs.existsSync(w.at('out'))).toBe(false);
        const parked = siblings(w).filter((f) => f.endsWith('.old'));
        expect(parked).toHaveLength(1);
        expect(contents(w.at(parked[0]))).toEqual(previous);
        const failing = await runInProcess(['convert', 'missing.onnx', '--rank', '1', '-o', 'out'], w);
        expect(failing.code).toBe(1);
        expect(contents(w.at('out'))).toEqual(previous);
      } else {
        expectWhole(w);
      }
      await writeOutput(w, 1);
      expect(contents(w.at('out'))).toEqual(next);
      expect(siblings(w)).toEqual([]);
      expect(fs.readdirSync(w.tmp)).toEqual([]);
    });
  }

  for (const [point, signal, status] of [['writing', 'SIGINT', 130], ['swap', 'SIGINT', 130], ['written', 'SIGTERM', 143], ['swapped', 'SIGTERM', 143]] as const) {
    it(`${signal} at "${point}": exit ${status}, one line, the previous output in place (or the new one, once swapped), no temp folder`, async () => {
      const { w, r } = await interrupted({ point, signal });
      expect(r.code, r.stderr).toBe(status);
      expect(r.stderr).toMatch(new RegExp(`^netdecouple: interrupted by ${signal}[^\\n]*\\n$`));
      expect(contents(w.at('out'))).toEqual(point === 'swapped' ? next : previous);
      expect(siblings(w)).toEqual([]);
      expect(fs.readdirSync(w.tmp)).toEqual([]);
    });
  }

  it('SIGKILL at random times: always a whole output at -o after the next run starts', async () => {
    const rand = mulberry32(7);
    for (let i = 0; i < 3; i++) {
      const { w } = await interrupted({ delayMs: 300 + Math.floor(rand() * 2500), signal: 'SIGKILL' });
      await runInProcess(['convert', 'missing.onnx', '--rank', '1', '-o', 'out'], w);
      expectWhole(w);
      expect(siblings(w)).toEqual([]);
    }
  });
});
