/**
 * What convertGraph accepts and what it builds from the options alone: every bad rank option is
 * one line naming the flag and the fix, while the boundary values (rank 1, τ = 1, R² 0 and 1, a
 * 1×1 Ghost kernel, Tucker ranks 1,1) are accepted; --layers / --skip patterns and
 * --min-in-channels pick exactly the layers their definitions say; --form and --order give the
 * layer structure they name (both compute the same function, so only the structure can tell).
 */
import { describe, expect, it } from 'vitest';
import { convertGraph, validateRankOptions, type ConvertOptions } from '../../src/convert/convert.js';
import { ineligibility, namePattern, selectLayers } from '../../src/convert/select.js';
import type { Graph, Node } from '../../src/models/ir.js';
import { conv, graph, input, randn } from '../onnx/helpers.js';

describe('rank options', () => {
  // Guards against a validator that lets a bad value through (the decomposition would then fail
  // deep inside, or silently use a default) or that names the wrong flag.
  const bad: [ConvertOptions, RegExp][] = [
    [{ method: 'svd' as never, rank: 1 }, /--method "svd": choose one of nd, /],
    [{ rankRule: 'aic' as never }, /--rank-rule "aic": the only rule is vbmf/],
    [{ method: 'nd', tuckerRanks: [1, 1] }, /--tucker-ranks applies to --method tucker2, not nd/],
    [{ method: 'nd', rank: 1, factorRank: 2 }, /--factor-rank applies to --method spatial-nd, not nd/],
    [{ method: 'nd' }, /give exactly one of --rank T or --energy τ or --rank-rule vbmf/],
    [{ method: 'tucker2' }, /give exactly one of --rank T or --energy τ, --tucker-ranks or --rank-rule vbmf/],
    [{ method: 'nd', rank: 2, energy: 0.9 }, /give exactly one of/],
    [{ rank: 0 }, /--rank 0: must be a positive integer/],
    [{ rank: 1.5 }, /--rank 1.5: must be a positive integer/],
    [{ energy: 0 }, /--energy 0: τ must be in \(0, 1\]/],
    [{ energy: 1.01 }, /--energy 1.01: τ must be in/],
    [{ energy: Number.NaN }, /--energy NaN: τ must be in/],
    [{ method: 'tucker2', tuckerRanks: [2] as never }, /--tucker-ranks 2: give two positive integers/],
    [{ method: 'tucker2', tuckerRanks: [2, 0] }, /--tucker-ranks 2,0: give two positive integers/],
    [{ method: 'tucker2', tuckerRanks: [1.5, 2] }, /--tucker-ranks 1.5,2: give two positive integers/],
    [{ method: 'spatial-nd', rank: 2, factorRank: 0 }, /--factor-rank 0: must be a positive integer/],
    [{ method: 'spatial-nd', rank: 2, factorRank: 1.5 }, /--factor-rank 1.5: must be a positive integer/],
    [{ rank: 2, maxIterations: 0 }, /--max-iter 0: must be a positive integer/],
    [{ rank: 2, maxIterations: 2.5 }, /--max-iter 2.5: must be a positive integer/],
    [{ method: 'ghost', rankRule: 'vbmf' }, /--method ghost has no VBMF rule/],
    [{ method: 'ghost', rank: 2, ghost: { ratio: 2 } }, /give --ghost-ratio or --rank .*, not both/],
    [{ method: 'ghost', energy: 0.5, ghost: { minR2: 0.5 } }, /give --ghost-min-r2 or --energy .*, not both/],
    [{ method: 'ghost', ghost: { ratio: 0 } }, /--ghost-ratio 0: must be a positive integer/],
    [{ method: 'ghost', ghost: { ratio: 2.5 } }, /--ghost-ratio 2.5: must be a positive integer/],
    [{ method: 'ghost', rank: 0 }, /--ghost-ratio 0: must be a positive integer/],
    [{ method: 'ghost', ghost: { kernelSize: 0 } }, /--ghost-kernel 0: must be an odd positive integer/],
    [{ method: 'ghost', ghost: { kernelSize: 2.5 } }, /--ghost-kernel 2.5: must be an odd/],
    [{ method: 'ghost', ghost: { fit: 'both' as never } }, /--ghost-fit "both": choose data or weights/],
    [{ method: 'ghost', ghost: { minR2: -0.1 } }, /--ghost-min-r2 -0.1: must be in \[0, 1\]/],
    [{ method: 'ghost', ghost: { minR2: 1.1 } }, /--ghost-min-r2 1.1: must be in \[0, 1\]/],
    [{ method: 'ghost', energy: Number.NaN }, /--ghost-min-r2 NaN: must be in/],
  ];
  for (const [opts, message] of bad) {
    it(`rejects ${JSON.stringify(opts)}`, () => {
      expect(() => validateRankOptions(opts)).toThrow(message);
    });
  }

  // Guards against off-by-one bounds: each of these is the smallest or largest legal value.
  const good: ConvertOptions[] = [
    { rank: 1 }, { energy: 1 }, { energy: 1e-9 }, { rankRule: 'vbmf' }, { method: 'tucker2', tuckerRanks: [1, 1] },
    { method: 'spatial-nd', rank: 1, factorRank: 1 }, { rank: 1, maxIterations: 1 }, { ranks: { a: 2 } },
    { method: 'ghost' }, { method: 'ghost', rank: 1 }, { method: 'ghost', ghost: { ratio: 1, kernelSize: 1, fit: 'data', minR2: 0 } },
    { method: 'ghost', energy: 1 }, { method: 'ghost', ghost: { fit: 'weights', minR2: 1 } },
  ];
  for (const opts of good) {
    it(`accepts ${JSON.stringify(opts)}`, () => {
      expect(() => validateRankOptions(opts)).not.toThrow();
    });
  }
});

/** x (4 ch) → a (4→5, 3×3) → b (5→6, 1×1) → c (6→7, 3×3, depthwise-free) → d (7→7 depthwise). */
function chain(): Graph {
  const nodes: Node[] = [
    input('x', [4, 8, 8]),
    conv('a', 'x', { cin: 4, cout: 5, k: [3, 3], padding: 'same', seed: 1 }),
    conv('b', 'a', { cin: 5, cout: 6, k: [1, 1], seed: 2 }),
    conv('conv_c', 'b', { cin: 6, cout: 7, k: [3, 3], padding: 'same', seed: 3 }),
    conv('d', 'conv_c', { cin: 7, cout: 7, k: [3, 3], groups: 7, padding: 'same', seed: 4 }),
  ];
  return graph(nodes, ['d']);
}

describe('layer selection', () => {
  const names = (opts: Parameters<typeof selectLayers>[1]) => selectLayers(chain(), opts).map((n) => n.name);

  it('by default takes regular k×k convs with more than 3 input channels', () => {
    expect(names({})).toEqual(['a', 'conv_c']);
    // Guards against an off-by-one at the threshold: 4 input channels is eligible at 3, not at 4.
    expect(names({ minInChannels: 4 })).toEqual(['conv_c']);
    expect(names({ minInChannels: 5 })).toEqual(['conv_c']);
    expect(names({ minInChannels: 6 })).toEqual([]);
    expect(names({ pointwise: true })).toEqual(['a', 'b', 'conv_c']);
  });

  it('names why each other layer stays regular', () => {
    const byName = new Map(chain().nodes.map((n) => [n.name, n]));
    expect(ineligibility(byName.get('x') as Node)).toBe('not a convolution');
    expect(ineligibility(byName.get('b') as Node)).toBe('1×1 kernel (already pointwise)');
    expect(ineligibility(byName.get('d') as Node)).toBe('already depthwise');
    expect(ineligibility(byName.get('a') as Node, 4)).toMatch(/^only 4 input channels .*--min-in-channels/);
    expect(ineligibility(byName.get('a') as Node)).toBeNull();
  });

  it('matches names exactly, by glob and by /regex/flags', () => {
    expect(names({ layers: ['a'] })).toEqual(['a']);
    expect(names({ layers: ['conv_*'] })).toEqual(['conv_c']);
    expect(names({ layers: ['?'] })).toEqual(['a']);
    expect(names({ layers: ['/^CONV/i'] })).toEqual(['conv_c']);
    expect(names({ skip: ['/_c$/'] })).toEqual(['a']);
    // A glob is anchored and its dot is literal; a regex is not anchored.
    expect(() => names({ layers: ['conv'] })).toThrow(/--layers "conv" matches no layer/);
    expect(names({ layers: ['/onv/'] })).toEqual(['conv_c']);
    expect(namePattern('a.b').test('axb')).toBe(false);
    expect(namePattern('/a.b/').test('xaxbx')).toBe(true);
    expect(() => names({ layers: ['nope*'] })).toThrow(/--layers "nope\*" matches no layer of the model/);
  });
});

describe('what convertGraph builds', () => {
  const base = { minInChannels: 0, keepUnprofitable: true };
  const dwConvs = (g: Graph) => g.nodes.filter((n) => n.op === 'conv2d' && n.groups > 1);

  it('dw-pw: split is T depthwise convs and a concat, merged is one depthwise conv of multiplier T', () => {
    const split = convertGraph(chain(), { ...base, layers: ['conv_c'], rank: 3, form: 'split' }).graph;
    const merged = convertGraph(chain(), { ...base, layers: ['conv_c'], rank: 3, form: 'merged' }).graph;
    expect(dwConvs(split).filter((n) => n.name.startsWith('conv_c/')).map((n) => n.op === 'conv2d' && n.kernel.shape)).toEqual([[6, 1, 3, 3], [6, 1, 3, 3], [6, 1, 3, 3]]);
    expect(split.nodes.some((n) => n.op === 'concat')).toBe(true);
    expect(dwConvs(merged).filter((n) => n.name.startsWith('conv_c/')).map((n) => n.op === 'conv2d' && n.kernel.shape)).toEqual([[18, 1, 3, 3]]);
    expect(merged.nodes.some((n) => n.op === 'concat')).toBe(false);
  });

  it('pw-dw: split is T branches and an Add, merged is one 1×1, one depthwise and a grouped sum', () => {
    const split = convertGraph(chain(), { ...base, layers: ['conv_c'], rank: 2, order: 'pw-dw', form: 'split' }).graph;
    const merged = convertGraph(chain(), { ...base, layers: ['conv_c'], rank: 2, order: 'pw-dw', form: 'merged' }).graph;
    expect(split.nodes.filter((n) => n.name.startsWith('conv_c/')).map((n) => n.name)).toEqual(['conv_c/pw0', 'conv_c/dw0', 'conv_c/pw1', 'conv_c/dw1', 'conv_c/add']);
    expect(merged.nodes.filter((n) => n.name.startsWith('conv_c/')).map((n) => n.op === 'conv2d' && [n.kernel.shape, n.groups])).toEqual([
      [[14, 6, 1, 1], 1], [[14, 1, 3, 3], 14], [[7, 2, 1, 1], 7],
    ]);
  });

  it('T = 1 is one depthwise conv and one 1×1 in either form and order', () => {
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      for (const form of ['split', 'merged'] as const) {
        const g = convertGraph(chain(), { ...base, layers: ['conv_c'], rank: 1, order, form }).graph;
        expect(g.nodes.filter((n) => n.name.startsWith('conv_c/')).map((n) => n.op), `${order} ${form}`).toEqual(['conv2d', 'conv2d']);
        expect(g.nodes.some((n) => n.op === 'concat' || n.op === 'add'), `${order} ${form}`).toBe(false);
      }
    }
  });

  it('a fused activation is applied once, after the sum of the branches', () => {
    const g = chain();
    const withRelu = { ...g, nodes: g.nodes.map((n) => (n.name === 'conv_c' && n.op === 'conv2d' ? { ...n, activation: 'relu' } : n)) };
    const out = convertGraph(withRelu, { ...base, layers: ['conv_c'], rank: 2, order: 'pw-dw' }).graph;
    const branches = out.nodes.filter((n) => n.name.startsWith('conv_c/dw'));
    expect(branches.map((n) => n.op === 'conv2d' && n.activation)).toEqual(['linear', 'linear']);
    expect(out.nodes.find((n) => n.name === 'conv_c/act')).toMatchObject({ op: 'activation', inputs: ['conv_c/add'], activation: 'relu' });
    // The bias is added once: on the first branch only.
    expect(branches.map((n) => n.op === 'conv2d' && n.bias !== null)).toEqual([true, false]);
    // T = 1 has no sum: the activation stays fused into the layer's last conv, in every order and form.
    for (const order of ['dw-pw', 'pw-dw'] as const) {
      for (const form of ['split', 'merged'] as const) {
        const one = convertGraph(withRelu, { ...base, layers: ['conv_c'], rank: 1, order, form }).graph.nodes.filter((n) => n.name.startsWith('conv_c/'));
        expect(one.map((n) => n.op === 'conv2d' && n.activation), `${order} ${form}`).toEqual(['linear', 'relu']);
      }
    }
  });

  it('--no-fold-bn keeps the BatchNorm node; folding removes it', () => {
    const g = chain();
    const bn: Node = { op: 'batchNorm', name: 'bn', inputs: ['conv_c'], axis: 1, epsilon: 1e-3, gamma: randn(7, 5).map((v) => 1 + 0.1 * v), beta: randn(7, 6), mean: randn(7, 7), variance: new Float32Array(7).fill(2) };
    const withBn: Graph = { ...g, nodes: [...g.nodes.slice(0, 4), bn, { ...(g.nodes[4] as Node), inputs: ['bn'] }] };
    const kept = convertGraph(withBn, { ...base, rank: 2, foldBatchNorm: false });
    expect(kept.foldedBatchNorms).toEqual([]);
    expect(kept.graph.nodes.some((n) => n.name === 'bn')).toBe(true);
    const folded = convertGraph(withBn, { ...base, rank: 2 });
    expect(folded.foldedBatchNorms).toEqual([{ conv: 'conv_c', batchNorm: 'bn' }]);
    expect(folded.graph.nodes.some((n) => n.op === 'batchNorm')).toBe(false);
  });

  it('a per-layer plan (the speed budget\'s) sets each layer\'s method, rank, order and layout; "keep" and unplanned layers stay', () => {
    const c = convertGraph(chain(), { ...base, plan: { conv_c: { method: 'nd', rank: 2, order: 'pw-dw', form: 'merged' }, a: { method: 'keep' } } });
    expect(c.layers.map((l) => [l.name, l.method, l.rank, l.order, l.form, l.rankRule])).toEqual([['conv_c', 'nd', 2, 'pw-dw', 'merged', 'budget']]);
    expect(c.kept.filter((k) => k.reason === 'the speed budget keeps it regular').map((k) => k.name)).toEqual(['a']);
    // The layer is built as its plan says: one 1×1 of 2·N outputs, not the run's default dw-pw split.
    expect(c.graph.nodes.filter((n) => n.name.startsWith('conv_c/')).map((n) => n.op === 'conv2d' && n.groups)).toContain(1);
    const sp = convertGraph(chain(), { ...base, plan: { conv_c: { method: 'spatial-nd', rank: 3, factorRank: 2 } } });
    expect(sp.layers[0].factorRanks).toEqual([2, 2]);
  });

  it('says why each untouched conv stays regular', () => {
    const c = convertGraph(chain(), { rank: 2, layers: ['conv_c', 'a'], skip: ['a'] });
    expect(c.kept).toEqual([
      { name: 'a', reason: 'not selected (--layers / --skip)' },
      { name: 'b', reason: '1×1 kernel (already pointwise)' },
      { name: 'd', reason: 'already depthwise' },
    ]);
    // Above, "a" (4 inputs) is eligible at the default threshold 3, so its reason is the filter; at 4 it is its width.
    const wide = convertGraph(chain(), { rank: 2, minInChannels: 4 });
    expect(wide.kept.find((k) => k.name === 'a')?.reason).toMatch(/^only 4 input channels/);
  });
});
