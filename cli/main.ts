#!/usr/bin/env node
/** netdecouple CLI: a thin shell over the library. Each command lives in cli/commands/; runCli parses and reports. */
import * as tf from '@tensorflow/tfjs';
import { abortActiveWrites } from '../src/models/output-recovery.js';
import { runCli } from './run.js';
import { errorLine } from './errors.js';

// tfjs prints a multi-line "install tfjs-node" banner on stderr the first time its cpu backend holds
// a tensor (every TF.js model load); the CLI's stderr is for its own one-line errors. PROD only
// silences tfjs' console warnings (tfjs-core 4.x), nothing is computed differently.
tf.env().set('PROD', true);

// Ctrl-C / kill: undo a half-done output (the previous one stays), one line, the shell's 128+n status.
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    try {
      abortActiveWrites();
    } catch {
      // the next run on this output restores it (output-recovery.ts)
    }
    process.stderr.write(`netdecouple: interrupted by ${signal}; the output folder was left as it was\n`);
    process.exit(status);
  });
}
// Anything that escapes the command (a stray rejection in a library callback) is still one line.
process.on('uncaughtException', (e) => {
  try {
    abortActiveWrites();
  } catch {
    // as above
  }
  process.stderr.write(errorLine(e).line + '\n');
  process.exit(1);
});

runCli(process.argv).then((status) => {
  process.exitCode = status;
});
