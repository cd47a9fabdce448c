/** Progress on stderr: a redrawn line on a TTY, nothing under --json or when not interactive. */
export interface Progress {
  step(label: string): void;
  done(): void;
}

export function progress(total: number, enabled: boolean): Progress {
  const on = enabled && process.stderr.isTTY === true;
  let i = 0;
  const t0 = Date.now();
  return {
    step(label: string) {
      i++;
      if (!on) return;
      const width = 24;
      const fill = Math.round((i / Math.max(total, 1)) * width);
      process.stderr.write(`\r[${'█'.repeat(fill)}${' '.repeat(width - fill)}] ${i}/${total} ${((Date.now() - t0) / 1000).toFixed(1)}s ${label.slice(0, 40).padEnd(40)}`);
    },
    done() {
      if (on) process.stderr.write('\r' + ' '.repeat(100) + '\r');
    },
  };
}
