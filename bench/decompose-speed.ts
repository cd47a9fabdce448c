/**
 * How long network decoupling takes on VGG16's 13 conv kernels (seeded He-normal weights).
 * Build, then run:  npx tsc -p tsconfig.json && node dist/bench/decompose-speed.js
 *
 * Random weights have flat spectra, so the energy run keeps more components (and costs more)
 * than it would on trained VGG16 weights: this is an upper bound for the rank-selection step.
 */
import { decouple, ndCost, type NdOptions } from '../src/decompose/nd.js';
import { gaussianArray } from '../src/decompose/random.js';
import type { Tensor } from '../src/decompose/tensor.js';

interface ConvSpec {
  name: string;
  C: number;
  N: number;
  /** Output (= input, 'same' padding, stride 1) resolution at 224² input. */
  hw: number;
}

const VGG16: ConvSpec[] = [
  { name: 'conv1_1', C: 3, N: 64, hw: 224 },
  { name: 'conv1_2', C: 64, N: 64, hw: 224 },
  { name: 'conv2_1', C: 64, N: 128, hw: 112 },
  { name: 'conv2_2', C: 128, N: 128, hw: 112 },
  { name: 'conv3_1', C: 128, N: 256, hw: 56 },
  { name: 'conv3_2', C: 256, N: 256, hw: 56 },
  { name: 'conv3_3', C: 256, N: 256, hw: 56 },
  { name: 'conv4_1', C: 256, N: 512, hw: 28 },
  { name: 'conv4_2', C: 512, N: 512, hw: 28 },
  { name: 'conv4_3', C: 512, N: 512, hw: 28 },
  { name: 'conv5_1', C: 512, N: 512, hw: 14 },
  { name: 'conv5_2', C: 512, N: 512, hw: 14 },
  { name: 'conv5_3', C: 512, N: 512, hw: 14 },
];

interface RunSpec {
  label: string;
  opts: Omit<NdOptions, 'name'>;
}

const RUNS: RunSpec[] = [
  { label: 'dw-pw T=2', opts: { order: 'dw-pw', rank: 2 } },
  { label: 'pw-dw T=2', opts: { order: 'pw-dw', rank: 2 } },
  { label: 'dw-pw τ=0.9', opts: { order: 'dw-pw', energy: 0.9 } },
];

function kernelFor(spec: ConvSpec, seed: number): Tensor {
  const shape = [spec.N, spec.C, 3, 3];
  const n = spec.N * spec.C * 9;
  return { shape, data: gaussianArray(n, seed, Math.sqrt(2 / (spec.C * 9))) };
}

const kernels = VGG16.map((s, i) => kernelFor(s, 1000 + i));

// A throwaway pass on a small layer so the first timed layer does not pay for JIT compilation.
for (const run of RUNS) decouple(kernels[1], { ...run.opts, name: 'warm-up' });

const pad = (s: string | number, w: number) => String(s).padStart(w);
const header =
  pad('layer', 8) + pad('C', 5) + pad('N', 5) +
  RUNS.map((r) => pad(`${r.label}: ms`, 18) + pad('T', 3) + pad('relErr', 8) + pad('MAC×', 6))
    .join('');
console.log(header);
const totals = RUNS.map(() => 0);
// CPU time beside wall time: the 2 cores are shared, and CPU time shows how much of a slow wall
// time was waiting for a core.
const cpu0 = process.cpuUsage();
for (let i = 0; i < VGG16.length; i++) {
  const spec = VGG16[i];
  let line = pad(spec.name, 8) + pad(spec.C, 5) + pad(spec.N, 5);
  RUNS.forEach((run, j) => {
    const t0 = performance.now();
    const r = decouple(kernels[i], { ...run.opts, name: spec.name });
    const ms = performance.now() - t0;
    totals[j] += ms;
    const macsOrig = spec.hw * spec.hw * spec.N * spec.C * 9;
    const macs = ndCost({
      N: spec.N, C: spec.C, kh: 3, kw: 3, order: run.opts.order, rank: r.rank,
      hOut: spec.hw, wOut: spec.hw, hIn: spec.hw, wIn: spec.hw,
    });
    line += pad(ms.toFixed(1), 18) + pad(r.rank, 3) + pad(r.kernelRelError.toFixed(3), 8) +
      pad((macsOrig / macs).toFixed(2), 6);
  });
  console.log(line);
}
console.log(
  pad('total', 18) +
    RUNS.map((_, j) => pad(`${(totals[j] / 1000).toFixed(3)} s`, 18) + ' '.repeat(17)).join(''),
);
const cpu = process.cpuUsage(cpu0);
const all = totals.reduce((a, b) => a + b, 0) / 1000;
console.log(
  `all ${RUNS.length} × 13 layers: ${all.toFixed(3)} s wall, ` +
    `${((cpu.user + cpu.system) / 1e6).toFixed(3)} s CPU (Node ${process.version})`,
);
// The target from the ND issue: all 13 layers, dw-pw, at a fixed rank and by energy, in < 2 s.
console.log(`dw-pw fixed rank + energy: ${((totals[0] + totals[2]) / 1000).toFixed(3)} s wall`);
