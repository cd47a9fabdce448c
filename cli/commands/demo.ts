import { Option, type Command } from 'commander';
import { BACKEND_CHOICES } from '../../src/eval/backend.js';
import { FORCE_HELP, int } from '../options.js';
import { runDemo } from '../demo.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('convert the esrgan-slim x2 super-resolution model that ships with the project, on its fixture image')
    .option('-o, --out <dir>', 'output folder', 'out/esrgan-slim-x2')
    .option('--rank <T>', 'components kept per channel', int, 4)
    .addOption(new Option('--order <o>', 'ordering').choices(['dw-pw', 'pw-dw']).default('dw-pw'))
    .addOption(new Option('--backend <b>', 'tfjs backend').choices(BACKEND_CHOICES).default('auto'))
    .option('--no-calibrate', 'skip the calibration step')
    .option('--json', 'print the report as JSON on stdout')
    .option('--force', FORCE_HELP)
    .action(async (o) => runDemo(o));
}
