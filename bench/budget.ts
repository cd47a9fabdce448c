/**
 * The speed budget on VGG16's conv stack (13 convs, 224², seeded He-normal weights; the RGB conv
 * stays regular): target vs achieved MAC speedup, and total kernel error Σ relErr² against the
 * uniform-rank choice at the same MACs.
 * Build, then run:  npx tsc -p tsconfig.json && node dist/bench/budget.js [--methods nd,spatial]
 * (spatial adds one 1536×1536 eigendecomposition per 512-channel layer: ~10 s each here.)
 *
 * Random weights have flat spectra, so every layer's error curve is nearly the same function of
 * its rank: what the budget gains over uniform ranks comes from the layers' different MAC prices.
 */
import { budgetCandidates } from '../src/convert/budget-plan.js';
import { solveBudget } from '../src/convert/budget.js';
import type { Candidate } from '../src/convert/candidates.js';
import type { Method } from '../src/convert/methods.js';
import type { Conv2DNode, Graph, Node } from '../src/models/ir.js';
import { gaussianArray } from '../src/decompose/random.js';

function vgg16(): Graph {
  const nodes: Node[] = [{ op: 'input', name: 'input', inputs: [], shape: [224, 224, 3], dtype: 'float32' }];
  let prev = 'input';
  let cin = 3;
  let seed = 1;
  for (const [bi, [filters, convs]] of ([[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]] as const).entries()) {
    for (let ci = 0; ci < convs; ci++) {
      const name = `block${bi + 1}_conv${ci + 1}`;
      const conv: Conv2DNode = {
        op: 'conv2d', name, inputs: [prev], kernel: { shape: [filters, cin, 3, 3], data: gaussianArray(filters * cin * 9, seed++, Math.sqrt(2 / (cin * 9))) },
        bias: null, strides: [1, 1], dilations: [1, 1], padding: 'same', groups: 1, activation: 'relu',
      };
      nodes.push(conv);
      prev = name;
      cin = filters;
    }
    nodes.push({ op: 'maxPool', name: `block${bi + 1}_pool`, inputs: [prev], poolSize: [2, 2], strides: [2, 2], padding: 'valid' });
    prev = `block${bi + 1}_pool`;
  }
  return { name: 'vgg16-convs', layout: 'NHWC', nodes, inputs: ['input'], outputs: [prev] };
}

const i = process.argv.indexOf('--methods');
const methods = (i >= 0 ? process.argv[i + 1].split(',') : ['nd']) as Method[];
const t0 = performance.now();
const bc = budgetCandidates(vgg16(), { methods });
console.log(`VGG16 conv stack: ${(bc.macsBefore / 1e9).toFixed(3)} GMACs, ${bc.layers.length} candidate layers, methods ${methods.join(', ')}, candidates in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const problem = { layers: bc.layers, totalBefore: bc.macsBefore, fixedCost: bc.fixedMacs };
for (const S of [2, 3, 4]) {
  const t1 = performance.now();
  const r = solveBudget(problem, { targetSpeedup: S });
  const picks = r.choices.map((c) => (c.candidate.method === 'keep' ? 'keep' : `${c.candidate.method === 'nd' ? 'T' : c.candidate.method[0]}${c.candidate.rank}`)).join(' ');
  console.log(`target ${S}×: achieved ${r.achievedSpeedup.toFixed(4)}× (${((r.achievedSpeedup / S - 1) * 100).toFixed(2)} %), Σ relErr² ${r.totalError.toFixed(4)}, solve ${(performance.now() - t1).toFixed(0)} ms: ${picks}`);
}
for (let T = 1; T <= 4; T++) {
  const uniform = bc.layers.map((l) => l.candidates.find((c) => c.method === 'nd' && c.rank === T) as Candidate);
  const macs = bc.fixedMacs + uniform.reduce((a, c) => a + c.macs, 0);
  const error = uniform.reduce((a, c) => a + c.error, 0);
  const r = solveBudget(problem, { targetSpeedup: bc.macsBefore / macs });
  console.log(`uniform ND T=${T}: ${(bc.macsBefore / macs).toFixed(3)}×, Σ relErr² ${error.toFixed(4)}; budget at the same MACs: ${r.achievedSpeedup.toFixed(3)}×, Σ relErr² ${r.totalError.toFixed(4)} (${((1 - r.totalError / error) * 100).toFixed(1)} % less)`);
}
