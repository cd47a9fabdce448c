#!/usr/bin/env node
/** netdecouple CLI: a thin shell over the library. Each command lives in cli/commands/. One clear error, exit 1. */
import { Command } from 'commander';
import { VERSION } from '../src/pipeline.js';
import { registerInspect } from './commands/inspect.js';
import { registerConvert } from './commands/convert.js';
import { registerDemo } from './commands/demo.js';

const program = new Command();
program
  .name('netdecouple')
  .description("Turn a pretrained CNN's regular convolutions into depthwise-separable blocks without retraining, and measure the cost.")
  .version(VERSION)
  .showHelpAfterError();

registerInspect(program);
registerConvert(program);
registerDemo(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`netdecouple: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
