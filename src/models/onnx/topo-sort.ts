/** Nodes in dependency order: ONNX requires it, but some exporters get it wrong. */
import type { INodeProto } from './proto.js';
import { nodeLabel } from './read-state.js';

export function topoSort(nodes: INodeProto[], available: Set<string>): INodeProto[] {
  const have = new Set(available);
  const pending = [...nodes];
  const out: INodeProto[] = [];
  while (pending.length > 0) {
    const rest: INodeProto[] = [];
    for (const n of pending) {
      if ((n.input ?? []).every((i) => i === '' || have.has(i))) {
        out.push(n);
        for (const o of n.output ?? []) if (o) have.add(o);
      } else {
        rest.push(n);
      }
    }
    if (rest.length === pending.length) throw stuckError(rest[0], nodes, have);
    pending.splice(0, pending.length, ...rest);
  }
  return out;
}

/** Why node `n` can never run: a dynamic conv weight, a cycle, or an input nothing produces. */
function stuckError(n: INodeProto, nodes: INodeProto[], have: Set<string>): Error {
  const missing = (n.input ?? []).find((i) => i !== '' && !have.has(i));
  const producedSomewhere = nodes.some((m) => (m.output ?? []).includes(missing ?? ''));
  if (n.opType === 'Conv' && missing === n.input?.[1]) {
    return new Error(
      `${nodeLabel(n)}: weight "${missing}" is not an initializer in the model; dynamic conv weights are unsupported ` +
        '(the weight must be a constant initializer)',
    );
  }
  return new Error(
    producedSomewhere
      ? `${nodeLabel(n)}: input "${missing}" is part of a cycle; the ONNX graph must be acyclic`
      : `${nodeLabel(n)}: input "${missing}" is not produced by any node, graph input or initializer`,
  );
}
