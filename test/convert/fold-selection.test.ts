/**
 * Folding a channel-selection 1×1 conv into its readers (fold-selection.ts): what counts as a pure
 * selection, each reason a selection is kept (one line naming the node that blocks it), and that a
 * fold changes nothing the network computes — flatten → dense in both layouts and a concat with
 * another input, run in onnxruntime before and after.
 */
import { describe, expect, it } from 'vitest';
import { foldSelections, selectionOf } from '../../src/convert/fold-selection.js';
import type { Conv2DNode, Graph, Node } from '../../src/models/ir.js';
import { conv, graph, input, relErr, run } from '../onnx/helpers.js';

/** A 1×1 conv whose output channel n copies input channel sel[n]. */
function selection(name: string, from: string, sel: number[], width: number): Conv2DNode {
  const data = new Float32Array(sel.length * width);
  sel.forEach((c, n) => (data[n * width + c] = 1));
  return { ...conv(name, from, { cin: width, cout: sel.length, k: [1, 1], bias: false, seed: 0 }), kernel: { shape: [sel.length, width, 1, 1], data } };
}
const SEL = [2, 0, 3, 1];

describe('selectionOf', () => {
  it('reads the copied channel of each output of a pure selection', () => {
    expect(Array.from(selectionOf(selection('s', 'x', SEL, 4)) as Int32Array)).toEqual(SEL);
    expect(Array.from(selectionOf(selection('s', 'x', [1, 1, 0], 3)) as Int32Array)).toEqual([1, 1, 0]);
  });

  it('is null for anything that is not one: bias, activation, groups, a larger kernel, a stride, a weight ≠ 1, two or no inputs per output', () => {
    const s = selection('s', 'x', SEL, 4);
    const withData = (edit: (d: Float32Array) => void) => {
      const data = Float32Array.from(s.kernel.data);
      edit(data);
      return { ...s, kernel: { ...s.kernel, data } };
    };
    const cases: Node[] = [
      { ...s, bias: new Float32Array(4) },
      { ...s, activation: 'relu' },
      { ...s, groups: 2, kernel: { shape: [4, 2, 1, 1], data: new Float32Array(8) } },
      // Larger kernels whose first N·C weights would read as a selection.
      { ...s, kernel: { shape: [4, 4, 1, 2], data: Float32Array.from({ length: 32 }, (_, i) => s.kernel.data[i] ?? 0) } },
      { ...s, kernel: { shape: [4, 4, 2, 1], data: Float32Array.from({ length: 32 }, (_, i) => s.kernel.data[i] ?? 0) } },
      { ...s, strides: [1, 2] },
      withData((d) => (d[2] = 2)),
      withData((d) => (d[1] = 1)),
      withData((d) => (d[4 + 3] = 1)), // output 1 copies channel 0 and channel 3
      withData((d) => (d[2] = 0)),
      input('x', [4, 2, 2]),
    ];
    for (const c of cases) expect(selectionOf(c)).toBeNull();
  });
});

describe('foldSelections', () => {
  const head = [input('x', [3, 4, 4]), conv('p', 'x', { cin: 3, cout: 4, k: [3, 3], padding: 'same', seed: 1 }), selection('s', 'p', SEL, 4)];
  const relu = (name: string, from: string): Node => ({ op: 'activation', name, inputs: [from], activation: 'relu' });
  const keptReason = (nodes: Node[], outputs: string[]) => foldSelections(graph([...head, ...nodes], outputs), ['s']).kept.map((k) => k.reason);

  it('keeps the selection, saying why, where a reader cannot absorb it', () => {
    expect(keptReason([], ['s'])).toEqual(['"s" is a model output']);
    expect(keptReason([relu('r', 's')], ['r'])).toEqual(['"r" is a model output']);
    expect(keptReason([{ op: 'add', name: 'sum', inputs: ['s', 'p'] }], ['sum'])).toEqual(['consumer "sum" (add) cannot absorb a channel permutation']);
    expect(keptReason([{ op: 'concat', name: 'cat', inputs: ['s', 's'], axis: 1 }], ['cat'])).toEqual(['"cat" reads "s" twice']);
    expect(keptReason([relu('r1', 's'), relu('r2', 's'), { op: 'concat', name: 'cat', inputs: ['r1', 'r2'], axis: 1 }, conv('c', 'cat', { cin: 8, cout: 2, k: [1, 1], seed: 5 })], ['c'])).toEqual(['"cat" is reached twice']);
    expect(keptReason([conv('dw', 's', { cin: 4, cout: 4, groups: 4, k: [3, 3], seed: 2 })], ['dw'])).toEqual(['consumer "dw" is a grouped/depthwise conv']);
    expect(keptReason([{ op: 'flatten', name: 'f', inputs: ['s'] }], ['f'])).toEqual(['"f" is a model output']);
    expect(keptReason([{ op: 'flatten', name: 'f', inputs: ['s'] }, relu('r', 'f')], ['r'])).toEqual(['flatten "f" feeds "r", not a dense layer']);
    expect(foldSelections(graph([...head, relu('r', 's')], ['r']), ['p', 'nope']).kept).toEqual([
      { name: 'p', reason: 'not a channel selection' },
      { name: 'nope', reason: 'not a channel selection' },
    ]);
  });

  async function same(g: Graph, x: { shape: number[]; data: Float32Array }): Promise<Graph> {
    const f = foldSelections(g, ['s']);
    expect(f.kept).toEqual([]);
    expect(f.folded.get('s')).toBe('p');
    expect(f.graph.nodes.some((n) => n.name === 's')).toBe(false);
    expect(relErr((await run(f.graph, x)).data, (await run(g, x)).data)).toBeLessThan(1e-6);
    return f.graph;
  }
  const x = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 1.7)) });
  const dense = (name: string, from: string, inputs: number): Node => ({
    op: 'dense', name, inputs: [from], activation: 'linear', bias: null,
    weight: { shape: [3, inputs], data: Float32Array.from({ length: 3 * inputs }, (_, i) => Math.cos(i * 0.37)) },
  } as Node);

  it('flatten → dense: the dense rows move with the channels, pixel-major in NHWC and channel-major in NCHW', async () => {
    await same(graph([...head, { op: 'flatten', name: 'f', inputs: ['s'] }, dense('d', 'f', 64)], ['d']), x([1, 3, 4, 4]));
    const nhwc = graph([input('x', [4, 4, 3]), { ...conv('p', 'x', { cin: 3, cout: 4, k: [3, 3], padding: 'same', seed: 1 }) }, selection('s', 'p', SEL, 4), { op: 'flatten', name: 'f', inputs: ['s'] }, dense('d', 'f', 64)], ['d'], 'NHWC');
    await same(nhwc, x([1, 4, 4, 3]));
  });

  it('a concat with another input passes the selection on, shifted past that input\'s channels', async () => {
    const g = graph([...head, conv('q', 'x', { cin: 3, cout: 2, k: [1, 1], seed: 3 }), { op: 'concat', name: 'cat', inputs: ['q', 's'], axis: 1 }, conv('out', 'cat', { cin: 6, cout: 2, k: [3, 3], seed: 4 })], ['out']);
    const folded = await same(g, x([1, 3, 4, 4]));
    expect((folded.nodes.find((n) => n.name === 'out') as Conv2DNode).kernel.shape).toEqual([2, 6, 3, 3]);
  });
});
