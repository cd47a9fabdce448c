import type { Command } from 'commander';
import { loadGraph } from '../../src/models/load.js';
import { graphCosts, totalCost, formatCount } from '../../src/models/cost.js';
import { parseInputShape } from '../../src/models/shapes.js';
import { ineligibility } from '../../src/convert/select.js';
import { renderTable } from '../../src/report/table.js';
import { int, print } from '../options.js';
import { checkActivations } from '../../src/models/activation-memory.js';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('per layer: type, kernel, output shape, MACs, params, and whether it can be decoupled')
    .argument('<model>', 'model.json (TF.js LayersModel), its folder, or an .onnx file')
    .option('--input-shape <H,W>', 'spatial size for models that accept any size')
    .option('--min-in-channels <n>', 'convs with at most this many inputs stay regular', int, 3)
    .option('--json', 'print JSON')
    .action(async (model: string, o) => {
    const graph = await loadGraph(model);
    const shapes = o.inputShape ? parseInputShape(o.inputShape, graph) : undefined;
    if (shapes) checkActivations(graph, shapes, { memory: false });
    const costs = graphCosts(graph, shapes);
    const byName = new Map(graph.nodes.map((n) => [n.name, n]));
    const layers = costs.map((c) => {
      const n = byName.get(c.name)!;
      const kernel = n.op === 'conv2d' ? [n.kernel.shape[2], n.kernel.shape[3], n.kernel.shape[1] * n.groups, n.kernel.shape[0]] : null;
      const why = n.op === 'conv2d' ? ineligibility(n, o.minInChannels) : null;
      return { name: c.name, op: c.op, kernel, inputs: n.inputs, outputShape: c.outputShape, macs: c.macs, params: c.params, decouplable: n.op === 'conv2d' ? why === null : false, reason: n.op === 'conv2d' ? why : null };
    });
    const totals = totalCost(costs);
    const data = { model, layout: graph.layout, inputs: graph.inputs, outputs: graph.outputs, layers, totals };
    const rows = layers.map((l) => [l.name, l.op, l.kernel ? l.kernel.join('×') : '', `[${l.outputShape.map((d) => d ?? '?').join(',')}]`, formatCount(l.macs), formatCount(l.params), l.op === 'conv2d' ? (l.decouplable ? 'yes' : `no: ${l.reason}`) : '']);
    const text = [
      renderTable(['layer', 'op', 'kernel kh×kw×C×N', 'output', 'MACs', 'params', 'decouplable'], rows, ['l', 'l', 'l', 'l', 'r', 'r', 'l']),
      '',
      `total: ${formatCount(totals.macs)} MACs${totals.macs === null ? ' (give --input-shape H,W)' : ''}, ${formatCount(totals.params)} params; ${layers.filter((l) => l.decouplable).length} decouplable convs`,
    ].join('\n');
    print(o.json, data, text);
  });
}
