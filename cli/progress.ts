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
      const elapsed = (Date.now() - t0) / 1000;
      // Time left if the remaining steps take as long as the finished ones did on average.
      const eta = i > 1 ? ` ~${((elapsed / (i - 1)) * (total - i + 1)).toFixed(0)}s left` : '';
      process.stderr.write(`\r[${'█'.repeat(fill)}${' '.repeat(width - fill)}] ${i}/${total} ${elapsed.toFixed(1)}s${eta} ${label.slice(0, 40).padEnd(40)}`);
    },
    done() {
      if (on) process.stderr.write('\r' + ' '.repeat(100) + '\r');
    },
  };
}
