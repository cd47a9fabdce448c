#!/usr/bin/env node
/** netdecouple CLI: a thin shell over the library. Each command lives in cli/commands/. One clear error, exit 1. */
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { VERSION } from '../src/pipeline.js';
import { registerInspect } from './commands/inspect.js';
import { registerConvert } from './commands/convert.js';
import { registerDemo } from './commands/demo.js';
import { registerZoo } from './commands/zoo.js';
import { registerBench } from './commands/bench.js';
import { registerEval } from './commands/eval.js';
import { registerSweep } from './commands/sweep.js';
import { registerCompare } from './commands/compare.js';

// tfjs prints a multi-line "install tfjs-node" banner on stderr the first time its cpu backend holds
// a tensor (every TF.js model load); the CLI's stderr is for its own one-line errors. PROD only
// silences tfjs' console warnings (tfjs-core 4.x), nothing is computed differently.
tf.env().set('PROD', true);

const program = new Command();
program
  .name('netdecouple')
  .description("Turn a pretrained CNN's regular convolutions into depthwise-separable blocks without retraining, and measure the cost.")
  .version(VERSION)
  .showHelpAfterError();

registerInspect(program);
registerConvert(program);
registerDemo(program);
registerZoo(program);
registerBench(program);
registerEval(program);
registerSweep(program);
registerCompare(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`netdecouple: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
