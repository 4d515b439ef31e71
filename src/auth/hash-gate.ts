import { tooManyRequests } from '../common/too-many-requests';

/**
 * A semaphore with a bounded queue around argon2 (issue 9 finding 7). Each
 * hash or verification costs about 180 ms of both cores and 64 MiB, and runs
 * on libuv's thread pool: a flood of logins would otherwise queue unbounded
 * work there and in memory, and every other request would wait behind it.
 * With the gate, `concurrency` run at once and `queue` wait; anything beyond
 * is refused at once (TOO_MANY_REQUESTS), so a flood costs a fixed amount of
 * CPU and memory and other requests keep being served.
 */
export interface HashGate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createHashGate(concurrency: number, queue: number): HashGate {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    async run(work) {
      if (running < concurrency) running += 1;
      else if (waiting.length < queue) await new Promise<void>((resolve) => waiting.push(resolve));
      else throw tooManyRequests('The server is busy checking passwords: try again in a moment', 1);
      // A turn handed over by release() keeps `running` as it is.
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
