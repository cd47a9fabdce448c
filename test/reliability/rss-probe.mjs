// Preloaded into CLI runs of the reliability corpus: records the process's peak RSS (KiB) at exit.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.NETDECOUPLE_RSS_PROBE) writeFileSync(process.env.NETDECOUPLE_RSS_PROBE, String(process.resourceUsage().maxRSS));
});
