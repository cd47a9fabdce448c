/**
 * Moves a graph's activations between the two layouts (TF.js NHWC ↔ ONNX/PyTorch NCHW) without
 * changing what it computes, so a model read in one format can be written in the other with no
 * boundary Transposes: input shapes and channel axes are permuted, and a dense layer after Flatten
 * gets its input columns reordered to the other flattening order. Weights in the IR are already
 * layout-free (OIHW kernels), so convs, pools and element-wise nodes pass through. Only the layer
 * kinds whose meaning is layout-independent once those are fixed are accepted; anything else is
 * refused with the layer's name.
 */
import type { Graph, Node, Padding } from './ir.js';
import { inferShapes } from './shapes.js';

type Shape3 = [number, number, number];

/** NHWC → NCHW: input [C, H, W], channel axes 1, dense-after-Flatten columns in (c, h, w) order. */
export function toNchw(g: Graph): Graph {
  if (g.layout !== 'NHWC') throw new Error(`graph "${g.name}" is already ${g.layout}`);
  return relayout(g, 'NCHW');
}

/**
 * NCHW → NHWC: the inverse of toNchw. Stride-1 convs whose explicit symmetric pads equal TF's
 * 'same' become 'same' (a Keras conv with no ZeroPadding2D before it); other explicit pads stay.
 */
export function toNhwc(g: Graph): Graph {
  if (g.layout !== 'NCHW') throw new Error(`graph "${g.name}" is already ${g.layout}`);
  return relayout(g, 'NHWC');
}

function relayout(g: Graph, to: 'NCHW' | 'NHWC'): Graph {
  const shapes = inferShapes(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const rank3 = (name: string) => (shapes.get(name) ?? []).length === 3;
  const channelAxis = to === 'NCHW' ? 1 : 3;
  const isChannelAxis = (axis: number) => (to === 'NCHW' ? axis === 3 || axis === -1 : axis === 1);
  const nodes = g.nodes.map((n): Node => {
    const { source: _drop, ...node } = n;
    void _drop;
    switch (node.op) {
      case 'input': {
        if (node.shape.length !== 3) throw new Error(`input "${node.name}" is not an image input`);
        const [a, b, c] = node.shape;
        return { ...node, shape: to === 'NCHW' ? [c, a, b] : [b, c, a] };
      }
      case 'batchNorm':
      case 'concat': {
        const axis = node.axis ?? -1;
        if (!rank3(node.inputs[0]) || !isChannelAxis(axis)) throw new Error(`layer "${node.name}": only channel-axis ${node.op} on images is relaid out`);
        return { ...node, axis: channelAxis };
      }
      case 'dense': {
        if (rank3(node.inputs[0])) throw new Error(`layer "${node.name}": dense over image channels is not relaid out`);
        const from = byName.get(node.inputs[0]);
        if (from?.op !== 'flatten' || !rank3(from.inputs[0])) return node;
        return { ...node, weight: reorderFlattenColumns(node.weight, shapes.get(from.inputs[0]) as Shape3, to) };
      }
      case 'flatten': {
        const users = g.nodes.filter((m) => m.inputs.includes(node.name));
        if (rank3(node.inputs[0]) && users.some((m) => m.op !== 'dense')) throw new Error(`layer "${node.name}": a flatten feeding anything but dense layers is not relaid out`);
        return node;
      }
      case 'activation':
        if (rank3(node.inputs[0]) && /softmax/i.test(node.activation)) throw new Error(`layer "${node.name}": softmax over image channels is not relaid out`);
        return node;
      case 'conv2d':
        return to === 'NHWC' ? { ...node, padding: sameWhenEquivalent(node.padding, node.strides, node.kernel.shape, node.dilations) } : node;
      case 'maxPool':
      case 'avgPool':
      case 'globalAvgPool':
      case 'globalMaxPool':
      case 'add':
      case 'multiply':
      case 'identity':
      case 'zeroPad':
        return node;
      default:
        throw new Error(`layer "${node.name}" (${node.op}) is not relaid out to ${to}`);
    }
  });
  return { name: g.name, layout: to, nodes, inputs: [...g.inputs], outputs: [...g.outputs] };
}

/** Dense weights [out, in] whose `in` follows Flatten of `from` (in the source layout) → the target layout's order. */
function reorderFlattenColumns(weight: { shape: number[]; data: Float32Array }, from: Shape3, to: 'NCHW' | 'NHWC') {
  const [out, inn] = weight.shape;
  const [h, w, c] = to === 'NCHW' ? from : [from[1], from[2], from[0]];
  const nhwcIndex = (i: number, j: number, k: number) => (i * w + j) * c + k;
  const nchwIndex = (i: number, j: number, k: number) => (k * h + i) * w + j;
  const [src, dst] = to === 'NCHW' ? [nhwcIndex, nchwIndex] : [nchwIndex, nhwcIndex];
  const data = new Float32Array(out * inn);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) data[o * inn + dst(i, j, k)] = weight.data[o * inn + src(i, j, k)];
  return { shape: [out, inn], data };
}

/** With stride 1, TF 'same' pads (k−1)·d split with the odd pixel at the bottom/right, whatever the input size. */
function sameWhenEquivalent(padding: Padding, strides: [number, number], kernelShape: number[], dilations: [number, number]): Padding {
  if (typeof padding !== 'object' || strides[0] !== 1 || strides[1] !== 1) return padding;
  const [t, l, b, r] = padding.pads;
  const th = (kernelShape[2] - 1) * dilations[0];
  const tw = (kernelShape[3] - 1) * dilations[1];
  const same = t === Math.floor(th / 2) && b === th - t && l === Math.floor(tw / 2) && r === tw - l;
  return same ? 'same' : padding;
}
