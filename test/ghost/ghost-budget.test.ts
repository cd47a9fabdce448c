/**
 * Ghost in the global budget: every ratio s that saves MACs is a candidate; a plan that picks
 * Ghost converts to layers whose counted MACs are exactly what the candidate said (the channel
 * order folded into the 1×1 consumer, so it costs nothing); more methods never cost error.
 */
import { describe, expect, it } from 'vitest';
import { budgetCandidates, planByMacs } from '../../src/convert/budget-plan.js';
import { convertGraph } from '../../src/convert/convert.js';
import { graphCosts } from '../../src/models/cost.js';
import { conv, graph, input } from '../onnx/helpers.js';

const g = graph([
  input('x', [8, 8, 12]),
  conv('c1', 'x', { cin: 12, cout: 16, k: [3, 3], padding: 'same', activation: 'relu', seed: 21 }),
  conv('c2', 'c1', { cin: 16, cout: 4, k: [1, 1], seed: 22 }),
], ['c2'], 'NHWC');

describe('Ghost budget candidates', () => {
  it('offers every MAC-saving ratio, and a Ghost plan costs what its candidate said', () => {
    const bc = budgetCandidates(g, { methods: ['ghost'], minInChannels: 0 });
    const ghosts = bc.layers[0].candidates.filter((c) => c.method === 'ghost');
    expect(ghosts.map((c) => c.rank)).toEqual([2, 3, 4, 6, 8]);
    for (const c of ghosts) expect(c.macs).toBeLessThan(bc.layers[0].macsBefore);
    const { plan, result } = planByMacs(g, { methods: ['ghost'], minInChannels: 0, targetSpeedup: 1.5 });
    const chosen = result.choices[0].candidate;
    expect(chosen.method).toBe('ghost');
    const conversion = convertGraph(g, { plan, minInChannels: 0 });
    const layer = conversion.layers[0];
    expect(layer.ghost?.order).toBe('folded into the consumers');
    const counted = graphCosts(conversion.graph).filter((x) => layer.replacedBy.includes(x.name)).reduce((a, x) => a + (x.macs as number), 0);
    expect(counted).toBe(chosen.macs);
  });

  it('adding Ghost to the candidate methods never raises the solved error', () => {
    const nd = planByMacs(g, { methods: ['nd'], minInChannels: 0, targetSpeedup: 1.5 }).result.totalError;
    const both = planByMacs(g, { methods: ['nd', 'ghost'], minInChannels: 0, targetSpeedup: 1.5 }).result.totalError;
    expect(both).toBeLessThanOrEqual(nd + 1e-12);
  });
});
