/**
 * How long Tucker-2, CP (3-way) and spatial decompositions take on VGG16's 13 conv kernels
 * (seeded He-normal weights, 3×3), each at about the 2× MAC point:
 *   Tucker-2  R1 = ρ·C, R2 = ρ·N with C·R1 + R1·R2·9 + R2·N = N·C·9/2
 *   CP3       R·(C + 9 + N) = N·C·9/2
 *   spatial   K·3·(C + N) = N·C·9/2
 * Build, then run:  npx tsc -p tsconfig.json && node dist/bench/decompose-methods.js
 * Flags: --tucker-iters N (HOOI iterations, default 1), --cp-iters N (ALS iterations, default 1),
 *        --only tucker2,cp3,spatial, --layers conv1_1,conv4_2 (subset).
 *
 * Random weights have flat spectra: the errors printed are what a 2× compression costs on
 * unstructured weights (an upper bound for trained ones), and CP-ALS barely moves from its slice
 * start on them. The times are what matters here.
 */
import { cp3 } from '../src/decompose/cp.js';
import { gaussianArray } from '../src/decompose/random.js';
import { spatial } from '../src/decompose/spatial.js';
import type { Tensor } from '../src/decompose/tensor.js';
import { tucker2 } from '../src/decompose/tucker2.js';

interface ConvSpec {
  name: string;
  C: number;
  N: number;
}

const VGG16: ConvSpec[] = [
  { name: 'conv1_1', C: 3, N: 64 },
  { name: 'conv1_2', C: 64, N: 64 },
  { name: 'conv2_1', C: 64, N: 128 },
  { name: 'conv2_2', C: 128, N: 128 },
  { name: 'conv3_1', C: 128, N: 256 },
  { name: 'conv3_2', C: 256, N: 256 },
  { name: 'conv3_3', C: 256, N: 256 },
  { name: 'conv4_1', C: 256, N: 512 },
  { name: 'conv4_2', C: 512, N: 512 },
  { name: 'conv4_3', C: 512, N: 512 },
  { name: 'conv5_1', C: 512, N: 512 },
  { name: 'conv5_2', C: 512, N: 512 },
  { name: 'conv5_3', C: 512, N: 512 },
];
const K = 9;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** R1 = ρC, R2 = ρN solving N·C·K·ρ² + (C² + N²)·ρ = N·C·K/2 (2× fewer MACs per pixel). */
function tuckerRanks(C: number, N: number): [number, number] {
  const a = N * C * K;
  const b = C * C + N * N;
  const rho = (-b + Math.sqrt(b * b + 2 * a * a)) / (2 * a);
  const clamp = (x: number, max: number) => Math.min(max, Math.max(1, Math.round(x)));
  return [clamp(rho * N, N), clamp(rho * C, C)];
}

function cpRank(C: number, N: number): number {
  return Math.max(1, Math.round((N * C * K) / 2 / (C + K + N)));
}

function spatialRank(C: number, N: number): number {
  return Math.min(3 * C, 3 * N, Math.max(1, Math.round((N * C * K) / 2 / (3 * C + 3 * N))));
}

function kernelOf(spec: ConvSpec, seed: number): Tensor {
  const shape = [spec.N, spec.C, 3, 3];
  // He-normal: std = sqrt(2 / fan_in).
  return { shape, data: gaussianArray(spec.N * spec.C * K, seed, Math.sqrt(2 / (spec.C * K))) };
}

interface Row {
  layer: string;
  shape: string;
  rank: string;
  macRatio: number;
  seconds: number;
  /** CPU time of this process (user + system): wall time minus time lost to other processes. */
  cpuSeconds: number;
  relError: number;
  extra: string;
}

/** Runs f, returning its value with wall and CPU seconds. */
function timed<T>(f: () => T): { value: T; seconds: number; cpuSeconds: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { value, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

function printTable(method: string, rows: Row[]): void {
  console.log(`\n${method}`);
  console.log(
    `${'layer'.padEnd(8)} ${pad('C→N', 9)} ${pad('rank', 10)} ${pad('MAC÷', 6)} ` +
      `${pad('wall s', 8)} ${pad('cpu s', 8)} ${pad('relErr', 8)}  notes`,
  );
  for (const r of rows) {
    const cells = [r.layer.padEnd(8), pad(r.shape, 9), pad(r.rank, 10)];
    cells.push(pad(r.macRatio.toFixed(2), 6), pad(r.seconds.toFixed(2), 8));
    cells.push(pad(r.cpuSeconds.toFixed(2), 8));
    cells.push(pad(r.relError.toFixed(4), 8), ` ${r.extra}`);
    console.log(cells.join(' '));
  }
  const total = rows.reduce((s, r) => s + r.seconds, 0);
  const cpu = rows.reduce((s, r) => s + r.cpuSeconds, 0);
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `total ${method}: ${total.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU; ` +
      `process peak RSS so far ${rssMb.toFixed(0)} MB`,
  );
}

function main(): void {
  const tuckerIters = Number(flag('tucker-iters') ?? 1);
  const cpIters = Number(flag('cp-iters') ?? 1);
  const only = (flag('only') ?? 'tucker2,spatial,cp3').split(',');
  const layerFilter = flag('layers')?.split(',');
  const layers = VGG16.filter((l) => !layerFilter || layerFilter.includes(l.name));
  console.log(
    `VGG16 conv kernels, seeded He-normal weights; Tucker-2 HOOI iterations ${tuckerIters}, ` +
      `CP3 ALS iterations ≤ ${cpIters}; Node ${process.version}`,
  );
  const kernels = layers.map((l, i) => kernelOf(l, 1000 + i));
  const dense = (l: ConvSpec) => l.N * l.C * K;

  if (only.includes('tucker2')) {
    const rows: Row[] = [];
    layers.forEach((l, i) => {
      const ranks = tuckerRanks(l.C, l.N);
      const { value: r, seconds, cpuSeconds } = timed(() =>
        tucker2(kernels[i], { ranks, nIterMax: tuckerIters, name: l.name }),
      );
      const macs = l.C * ranks[1] + ranks[1] * ranks[0] * K + ranks[0] * l.N;
      rows.push({
        layer: l.name,
        shape: `${l.C}→${l.N}`,
        rank: `${ranks[0]},${ranks[1]}`,
        macRatio: dense(l) / macs,
        seconds,
        cpuSeconds,
        relError: r.kernelRelError,
        extra: `${r.iterations} it${r.converged ? ', converged' : ''}`,
      });
    });
    printTable('Tucker-2 (HOSVD + HOOI)', rows);
  }

  if (only.includes('spatial')) {
    const rows: Row[] = [];
    layers.forEach((l, i) => {
      const rank = spatialRank(l.C, l.N);
      const { value: r, seconds, cpuSeconds } = timed(() =>
        spatial(kernels[i], { rank, name: l.name }),
      );
      rows.push({
        layer: l.name,
        shape: `${l.C}→${l.N}`,
        rank: String(rank),
        macRatio: dense(l) / (rank * 3 * (l.C + l.N)),
        seconds,
        cpuSeconds,
        relError: r.kernelRelError,
        extra: '',
      });
    });
    printTable('spatial (Jaderberg, truncated SVD)', rows);
  }

  if (only.includes('cp3')) {
    const rows: Row[] = [];
    layers.forEach((l, i) => {
      const rank = cpRank(l.C, l.N);
      const { value: r, seconds, cpuSeconds } = timed(() =>
        cp3(kernels[i], { rank, nIterMax: cpIters, name: l.name }),
      );
      rows.push({
        layer: l.name,
        shape: `${l.C}→${l.N}`,
        rank: String(rank),
        macRatio: dense(l) / (rank * (l.C + K + l.N)),
        seconds,
        cpuSeconds,
        relError: r.kernelRelError,
        extra: [
          `${r.iterations} it`,
          ...(r.converged ? ['converged'] : []),
          ...(r.degenerate ? ['DEGENERATE'] : []),
          ...(r.warnings.length ? [`${r.warnings.length} warnings`] : []),
        ].join(', '),
      });
    });
    printTable('CP3 (ALS, slice start)', rows);
  }
}

main();
