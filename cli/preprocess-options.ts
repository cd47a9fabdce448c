/** The preprocessing flags every command that feeds images to a model shares (src/eval/preprocess.ts). */
import { Option, type Command } from 'commander';
import { PRESETS, resolvePreprocessing, type Preprocessing, type PreprocessOptions } from '../src/eval/preprocess.js';
import { declaredInputRange } from '../src/models/packaged.js';
import type { Graph } from '../src/models/ir.js';

const numbers = (v: string) => v.split(',').map((x) => Number(x.trim()));

export function addPreprocessOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--preprocess <preset>', 'how the model expects its input: 0-1, 0-255, tf (−1…1), torch (ImageNet mean/std), caffe (BGR, mean subtracted), imagenet (torch + resize 256, crop 224); default: the range the model\'s package declares, else 0-1 for 1-channel and 0-255 for 3-channel models').choices([...PRESETS]))
    .option('--mean <m>', 'per-channel mean subtracted after scaling, in the model\'s channel order (1 or 3 values)', numbers)
    .option('--std <s>', 'per-channel std divided by after the mean (1 or 3 values)', numbers)
    .option('--scale <x>', 'pixel multiplier before --mean, e.g. 1/255')
    .addOption(new Option('--channels <order>', 'channel order of 3-channel models (1-channel models get grey)').choices(['rgb', 'bgr']))
    .option('--resize <S|H,W>', 'resize photos: shorter side to S, or exactly H,W (bilinear, antialiased)', numbers)
    .option('--crop <S|H,W>', 'centre-crop photos to S×S or H×W after --resize', numbers);
}

/** The parsed flags as the library's options. */
export function preprocessFlags(o: Record<string, unknown>): PreprocessOptions {
  return {
    preset: o.preprocess as string | undefined, mean: o.mean as number[] | undefined, std: o.std as number[] | undefined,
    scale: o.scale as string | undefined, channels: o.channels as string | undefined, resize: o.resize as number[] | undefined, crop: o.crop as number[] | undefined,
  };
}

/** The preprocessing for `graph` (loaded from `modelPath`) from the parsed flags. */
export function preprocessingFrom(o: Record<string, unknown>, graph: Graph, modelPath: string): Preprocessing {
  return resolvePreprocessing(graph, preprocessFlags(o), declaredInputRange(modelPath));
}
