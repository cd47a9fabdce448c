#!/usr/bin/env node
/** netdecouple CLI: a thin shell over the library. Each command lives in cli/commands/; runCli parses and reports. */
import { abortActiveWrites } from '../src/models/output-recovery.js';
import { runCli } from './run.js';
import { errorLine } from './errors.js';

// Ctrl-C / kill: undo a half-done output (the previous one stays), one line, the shell's 128+n status.
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    try {
      abortActiveWrites();
    } catch {
      // the next run on this output restores it (output-recovery.ts)
    }
    process.stderr.write(`netdecouple: interrupted by ${signal}; no partial output was left\n`);
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
  // Success exits when the work is done (stdout fully flushed); a failure does not wait for
  // whatever a runtime left scheduled.
  if (status === 0) process.exitCode = 0;
  else process.exit(status);
});
