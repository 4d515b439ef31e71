/**
 * A hand-drawn progress bar: `[#####.....] 45% 45000/100000 1234 users/s`.
 * On a terminal it redraws one line at most ten times a second; into a file
 * or a CI log, where \r would pile up, it prints a plain line at most once a
 * second.
 */
export interface ProgressBar {
  update(done: number): void;
  /** Ends the bar's line on a terminal, so later output starts on a fresh line. */
  finish(): void;
}

const WIDTH = 30;

export function createProgressBar(total: number, stream: NodeJS.WriteStream = process.stderr, unit = 'users'): ProgressBar {
  const tty = Boolean(stream.isTTY);
  const interval = tty ? 100 : 1000;
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;

  const render = (done: number): string => {
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const filled = Math.round(fraction * WIDTH);
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = Math.round(done / seconds);
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total} ${rate} ${unit}/s`;
  };

  return {
    update(done) {
      const now = Date.now();
      if (done < total && now - lastDraw < interval) return;
      lastDraw = now;
      drawn = true;
      stream.write(tty ? `\r${render(done)}\x1b[K` : `${render(done)}\n`);
    },
    finish() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
