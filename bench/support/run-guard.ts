import { killChildren } from './server-child';

/**
 * What a benchmark undoes whatever happens: `cleanups` run last-first at the end, or when the run passes its time
 * budget or is interrupted (SIGINT, SIGTERM), after killing its child processes; then the process exits with 1.
 */
export function guardRun(tag: string, budgetMs: number) {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch((e) => console.error(`[${tag}] cleanup:`, e instanceof Error ? e.message : e));
  };
  let interrupted = false;
  const abort = (why: string) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`[${tag}] ${why}: cleaning up`);
    killChildren();
    void cleanUp().finally(() => process.exit(1));
  };
  const watchdog = setTimeout(() => abort(`over the time budget of ${Math.round(budgetMs / 1000)} s`), budgetMs);
  process.once('SIGINT', () => abort('interrupted'));
  process.once('SIGTERM', () => abort('terminated'));
  return {
    /** Something to undo at the end (a database to drop, a child to stop, a folder to remove). */
    cleanup(undo: () => Promise<void>) {
      cleanups.push(undo);
    },
    /** The normal end: the watchdog stops and everything is undone (unless an abort is already doing it). */
    async finish() {
      clearTimeout(watchdog);
      if (!interrupted) await cleanUp();
    },
  };
}
