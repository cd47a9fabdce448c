/**
 * The IR written as Keras layers: the TF.js writer's topology (one emitter for all Keras-shaped
 * outputs) with each layer's weights grouped under it, ready for the .h5 and .keras writers.
 */
import type { Graph } from '../ir.js';
import { graphToLayersArtifacts } from '../tfjs/ir-to-keras.js';
import { kerasLayerConfig } from './layer-config-out.js';

type Json = Record<string, unknown>;

export interface KerasLayerOut {
  className: string;
  name: string;
  config: Json;
  inboundNodes: unknown[];
  weights: { role: string; shape: number[]; data: Float32Array }[];
}

export interface KerasModelOut {
  name: string;
  layers: KerasLayerOut[];
  inputLayers: unknown[];
  outputLayers: unknown[];
}

export function kerasModelOut(graph: Graph): KerasModelOut {
  const art = graphToLayersArtifacts(graph);
  const cfg = art.modelTopology.config as Json;
  const all = new Float32Array(art.weightData);
  const byLayer = new Map<string, KerasLayerOut['weights']>();
  let offset = 0;
  for (const spec of art.weightSpecs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const cut = spec.name.lastIndexOf('/');
    const layer = spec.name.slice(0, cut);
    if (!byLayer.has(layer)) byLayer.set(layer, []);
    byLayer.get(layer)?.push({ role: spec.name.slice(cut + 1), shape: spec.shape, data: all.subarray(offset, offset + n) });
    offset += n;
  }
  const layers = (cfg.layers as Json[]).map((l) => {
    const name = String(l.name);
    const className = String(l.class_name);
    return { className, name, config: kerasLayerConfig(className, l.config as Json), inboundNodes: l.inbound_nodes as unknown[], weights: byLayer.get(name) ?? [] };
  });
  return { name: String(cfg.name), layers, inputLayers: cfg.input_layers as unknown[], outputLayers: cfg.output_layers as unknown[] };
}
