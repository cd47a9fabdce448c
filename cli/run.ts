/**
 * The CLI as a function: parses argv, runs the command, and returns the exit status instead of
 * exiting — 0 success (and --help, --version), 1 bad input, 2 a usage error. Every failure is one
 * stderr line starting `netdecouple:`; commander's own help-after-error is replaced by a hint.
 */
import { Command, CommanderError } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { VERSION } from '../src/pipeline.js';
import { setActivationLimit, DEFAULT_ACTIVATION_LIMIT_GIB } from '../src/models/activation-memory.js';
import { registerInspect } from './commands/inspect.js';
import { registerConvert } from './commands/convert.js';
import { registerDemo } from './commands/demo.js';
import { registerZoo } from './commands/zoo.js';
import { registerBench } from './commands/bench.js';
import { registerEval } from './commands/eval.js';
import { registerSweep } from './commands/sweep.js';
import { registerCompare } from './commands/compare.js';
import { errorLine } from './errors.js';
import { num } from './options.js';

// tfjs prints a multi-line "install tfjs-node" banner on stderr the first time its cpu backend holds
// a tensor (every TF.js model load); the CLI's stderr is for its own one-line errors. PROD only
// silences tfjs' console warnings (tfjs-core 4.x), nothing is computed differently.
tf.env().set('PROD', true);

function buildProgram(): Command {
  const program = new Command();
  program
    .name('netdecouple')
    .description("Turn a pretrained CNN's regular convolutions into depthwise-separable blocks without retraining, and measure the cost.")
    .version(VERSION)
    .option('--max-activation-memory <GiB>', `refuse inputs whose activations would need more than this (default ${DEFAULT_ACTIVATION_LIMIT_GIB})`, num)
    // Inherited by every command added below: errors are thrown to runCli, not printed and exited on.
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .hook('preAction', (_root, action) => setActivationLimit(action.optsWithGlobals().maxActivationMemory));
  registerInspect(program);
  registerConvert(program);
  registerDemo(program);
  registerZoo(program);
  registerBench(program);
  registerEval(program);
  registerSweep(program);
  registerCompare(program);
  return program;
}

export async function runCli(argv: string[], err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<number> {
  setActivationLimit(undefined);
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      const message = e.code === 'commander.help' || e.code === 'commander.executeSubCommandAsync' ? 'missing command' : e.message.replace(/^error: /, '');
      err(`netdecouple: ${oneLine(message)} (see --help)`);
      return 2;
    }
    const { line, exitCode } = errorLine(e);
    err(line);
    return exitCode;
  }
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();
