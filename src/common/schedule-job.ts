/**
 * Runs `work` a second after start and then every `everyMs` while the server runs, never two runs at once; a failure
 * is logged and the next tick tries again. The timers do not keep the process alive. Returns the stop function. The
 * server's periodic jobs (event pruning, folding the counters, pruning the webhook delivery log) run through here;
 * "never two at once" is this process's promise: across instances, each job's `work` takes its lease first
 * (src/db/job-lease.ts).
 */
export function scheduleJob(what: string, everyMs: number, work: () => Promise<void>, log: (line: string) => void): () => void {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      await work();
    } catch (e) {
      log(`${what} failed, will retry: ${(e as Error).message}`);
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void run(), 1000);
  const timer = setInterval(() => void run(), everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
