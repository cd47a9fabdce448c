/**
 * Which convs get decomposed. Eligible: a regular conv (groups = 1) with a kernel larger than 1×1,
 * and more than `minInChannels` inputs (default 3: the first RGB layer stays regular — decoupling
 * it is slower on every runtime we measured, docs/design.md#which-convs-are-replaced). --layers / --skip filter by
 * name: exact names, globs with * and ?, or /regular expressions/.
 */
import type { Conv2DNode, Graph, Node } from '../models/ir.js';

export interface SelectOptions {
  layers?: string[];
  skip?: string[];
  minInChannels?: number;
  /**
   * Also 1×1 convs: a low-rank pair of 1×1 convs (C → K → N, the spatial method at kh = kw = 1)
   * is their only stock-op realisation, which the speed budget offers beside the k×k layers'.
   */
  pointwise?: boolean;
}

export function namePattern(p: string): RegExp {
  const re = p.match(/^\/(.*)\/([a-z]*)$/);
  if (re) return new RegExp(re[1], re[2]);
  const glob = p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${glob}$`);
}

/** Why a node is not decomposed, or null when it is eligible. */
export function ineligibility(node: Node, minInChannels = 3, pointwise = false): string | null {
  if (node.op !== 'conv2d') return 'not a convolution';
  const [, cg, kh, kw] = node.kernel.shape;
  if (node.groups !== 1) return node.kernel.shape[1] === 1 ? 'already depthwise' : 'grouped convolution';
  if (kh * kw === 1 && !pointwise) return '1×1 kernel (already pointwise)';
  if (cg <= minInChannels) return `only ${cg} input channels (first layers stay regular; lower --min-in-channels to include)`;
  return null;
}

export function selectLayers(graph: Graph, opts: SelectOptions = {}): Conv2DNode[] {
  const want = opts.layers?.map(namePattern);
  const skip = opts.skip?.map(namePattern) ?? [];
  const picked = graph.nodes.filter((n): n is Conv2DNode => {
    if (ineligibility(n, opts.minInChannels ?? 3, opts.pointwise) !== null) return false;
    if (want && !want.some((r) => r.test(n.name))) return false;
    return !skip.some((r) => r.test(n.name));
  });
  if (want) {
    for (const [i, r] of want.entries()) {
      if (!graph.nodes.some((n) => r.test(n.name))) throw new Error(`--layers "${opts.layers?.[i]}" matches no layer of the model`);
    }
  }
  return picked;
}
