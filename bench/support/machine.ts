import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/**
 * What the benchmarks need to know about the machine: its cores, whether the
 * server can be pinned to one of them, and CPU accounting from /proc, so a
 * figure says which process spent the time.
 */
export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
export const CORES = os.availableParallelism();
/** The server gets core 0 to itself; the load generator and PostgreSQL share the others. */
export const PIN_SERVER = hasTaskset && CORES >= 2;

/** Moves this process (all its threads) off the server's core. */
export function pinSelfOffServerCore(): void {
  if (PIN_SERVER) execFileSync('taskset', ['-a', '-p', '-c', `1-${CORES - 1}`, String(process.pid)], { stdio: 'ignore' });
}

export function describePinning(): string {
  if (PIN_SERVER) return `server pinned to core 0 (taskset), load generator and this process on cores 1-${CORES - 1}`;
  return hasTaskset ? 'one core only: nothing pinned' : 'no taskset: nothing pinned';
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of each process, in seconds. */
export function cpuSeconds(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // exited
    }
  }
  return out;
}

/**
 * CPU seconds the processes used between two readings: a process that
 * appeared in between counts whole, one that ended counts nothing after the
 * first reading (a backend that closes during a run is under-counted).
 */
export function cpuUsed(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}

/** Busy seconds of the whole machine (all cores) from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
    return (user + nice + system + irq + softirq + steal) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Keeps this database's backends off the server's core (they are ours: they end with the database). */
export function pinBackends(pids: number[]): void {
  if (!PIN_SERVER) return;
  for (const pid of pids) {
    try {
      execFileSync('taskset', ['-p', '-c', `1-${CORES - 1}`, String(pid)], { stdio: 'ignore' });
    } catch {
      // gone
    }
  }
}

/** The PostgreSQL backends connected to this database (their process title names it). */
export function backendsOf(database: string): number[] {
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return pids;
  }
  for (const e of entries) {
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.includes(` ${database} `)) pids.push(Number(e));
    } catch {
      // gone
    }
  }
  return pids;
}

export function loadAverage(): string {
  try {
    return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return os.loadavg().map((x) => x.toFixed(2)).join(' ');
  }
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
