/**
 * The one line `npm start` prints when it cannot start: why, and what to do. Errors Carrel raises itself already say
 * both; the system's own (a busy port, a program that cannot be run) are given the words here.
 */
export function startFailureLine(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { port?: number };
  if (err?.syscall === 'listen' && err.code === 'EADDRINUSE') {
    return `port ${err.port} is already in use (another Carrel, or another program): stop it, or set PORT to a free port (PORT=0 picks one)`;
  }
  if (err?.syscall === 'listen' && err.code === 'EACCES') {
    return `not allowed to listen on port ${err.port} (ports below 1024 need privileges): set PORT to 1024 or above`;
  }
  if (typeof err?.syscall === 'string' && err.syscall.startsWith('spawn') && (err.code === 'EACCES' || err.code === 'ENOENT')) {
    return `could not run ${err.path ?? err.syscall.slice('spawn '.length)} (${err.code}). If Carrel runs as root, the embedded PostgreSQL server `
      + `runs as the OS user "postgres", which must reach the folder Carrel is in: clone Carrel where every user can reach it `
      + `(e.g. under /home or /tmp), or run it as a normal user, or set DATABASE_URL to use a PostgreSQL server of your own`;
  }
  return oneLine(reasonOf(e));
}

/** An error's words: its message, else its code (a refused connection to `localhost` is an AggregateError without a message). */
export function reasonOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = e instanceof AggregateError ? e.errors.find((x) => x instanceof Error) : undefined;
  return e.message || (inner instanceof Error ? reasonOf(inner) : undefined) || (e as NodeJS.ErrnoException).code || e.name;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
