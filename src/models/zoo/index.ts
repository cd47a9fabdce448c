/**
 * The zoo: the architectures the seeds compare against, as TF.js LayersModels with seeded random
 * (or given) weights, plus the MAC and parameter figures their papers publish at 224², 1000 classes.
 */
import type * as tf from '@tensorflow/tfjs';
import { resolveOptions, type OptionLimits, type ResolvedOptions, type ZooOptions } from './options.js';
import { loadWeights } from './weights.js';
import { vgg16 } from './vgg.js';
import { resnet18, resnet50 } from './resnet.js';
import { mobilenetV1 } from './mobilenet-v1.js';
import { mobilenetV2 } from './mobilenet-v2.js';
import { mobilenetV3Large, mobilenetV3Small } from './mobilenet-v3.js';
import { efficientnetB0 } from './efficientnet.js';
import { ghostnet } from './ghostnet.js';

export type { ZooOptions } from './options.js';
export { readWeightsFile } from './weights.js';

export interface ZooEntry {
  name: string;
  description: string;
  /** Paper the architecture table comes from. */
  paper: string;
  /** Whether `alpha` (width multiplier) applies. */
  alpha: boolean;
  /** Published MACs per image at 224², α = 1, 1000 classes. */
  publishedMacs: number;
  /** Published parameter count at α = 1, 1000 classes (learned parameters: BN statistics excluded). */
  publishedParams: number;
  /** Where the published figures come from, and any caveat. */
  figures: string;
  build(opts?: ZooOptions): tf.LayersModel;
}

interface Def {
  name: string;
  description: string;
  paper: string;
  alpha: boolean;
  publishedMacs: number;
  publishedParams: number;
  figures: string;
  make: (o: ResolvedOptions) => tf.LayersModel;
}

const DEFS: Def[] = [
  { name: 'vgg16', description: 'VGG16: 13 regular 3×3 convs + 3 FC (config D)', paper: 'Simonyan & Zisserman 2015', alpha: false, publishedMacs: 15.5e9, publishedParams: 138e6, figures: '138 M: paper Table 2; 15.5 G is the usual multiply-add count (convs 15.35 G + FC 0.12 G)', make: vgg16 },
  { name: 'resnet18', description: 'ResNet-18: basic blocks [2,2,2,2], regular 3×3 convs', paper: 'He et al. 2016', alpha: false, publishedMacs: 1.8e9, publishedParams: 11.7e6, figures: 'paper Table 1 (1.8 G FLOPs = multiply-adds), torchvision 11.7 M', make: resnet18 },
  { name: 'resnet50', description: 'ResNet-50 (v1.5): bottleneck blocks [3,4,6,3]', paper: 'He et al. 2016', alpha: false, publishedMacs: 4.1e9, publishedParams: 25.6e6, figures: 'torchvision ResNet-50 v1.5: 4.1 G, 25.6 M (the paper\'s v1, stride on the first 1×1, counts 3.8 G)', make: resnet50 },
  { name: 'mobilenet_v1', description: 'MobileNetV1: 13 depthwise 3×3 + pointwise blocks, ReLU6 (α, ρ = resolution/224)', paper: 'Howard et al. 2017', alpha: true, publishedMacs: 569e6, publishedParams: 4.2e6, figures: 'paper Table 1/6 (569 M mult-adds, 4.2 M)', make: mobilenetV1 },
  { name: 'mobilenet_v2', description: 'MobileNetV2: inverted residuals with linear bottlenecks (α)', paper: 'Sandler et al. 2018', alpha: true, publishedMacs: 300e6, publishedParams: 3.47e6, figures: 'paper Table 4 (300 M) and the authors\' TF-slim release (3.47 M params); the paper prints 3.4 M, 2 % below what the conv and FC weights alone come to (3.47 M)', make: mobilenetV2 },
  { name: 'mobilenet_v3_large', description: 'MobileNetV3-Large: bottlenecks with SE and h-swish (α)', paper: 'Howard et al. 2019', alpha: true, publishedMacs: 219e6, publishedParams: 5.4e6, figures: 'paper Table 3 (219 M MAdds, 5.4 M)', make: mobilenetV3Large },
  { name: 'mobilenet_v3_small', description: 'MobileNetV3-Small: bottlenecks with SE and h-swish (α)', paper: 'Howard et al. 2019', alpha: true, publishedMacs: 56e6, publishedParams: 2.5e6, figures: 'paper Table 3 (56 M MAdds, 2.5 M)', make: mobilenetV3Small },
  { name: 'efficientnet_b0', description: 'EfficientNet-B0: MBConv with SE, swish', paper: 'Tan & Le 2019', alpha: false, publishedMacs: 390e6, publishedParams: 5.3e6, figures: 'paper Table 2 (0.39 B FLOPs = multiply-adds, 5.3 M)', make: efficientnetB0 },
  { name: 'ghostnet', description: 'GhostNet 1.0×: Ghost modules (1×1 + cheap depthwise 3×3), SE (α)', paper: 'Han et al. 2020', alpha: true, publishedMacs: 141e6, publishedParams: 5.2e6, figures: 'paper Table 7 (141 M FLOPs = multiply-adds, 5.2 M)', make: ghostnet },
];

function entry(d: Def): ZooEntry {
  const limits: OptionLimits = { model: d.name, alpha: d.alpha, minResolution: 32 };
  return {
    name: d.name,
    description: d.description,
    paper: d.paper,
    alpha: d.alpha,
    publishedMacs: d.publishedMacs,
    publishedParams: d.publishedParams,
    figures: d.figures,
    build(opts: ZooOptions = {}) {
      const model = d.make(resolveOptions(opts, limits));
      if (opts.weights) {
        try {
          loadWeights(model, opts.weights);
        } catch (e) {
          model.dispose();
          throw e;
        }
      }
      return model;
    },
  };
}

export const ZOO: readonly ZooEntry[] = DEFS.map(entry);

export function zooEntry(name: string): ZooEntry {
  const key = name.toLowerCase().replace(/-/g, '_');
  const e = ZOO.find((z) => z.name === key);
  if (!e) throw new Error(`unknown zoo model "${name}"; choose one of ${ZOO.map((z) => z.name).join(', ')} (netdecouple zoo list)`);
  return e;
}

export function buildZooModel(name: string, opts: ZooOptions = {}): tf.LayersModel {
  return zooEntry(name).build(opts);
}
