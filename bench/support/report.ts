import type { RunResult } from './load';
import { fmt, median } from './machine';
import type { ScenarioKey } from './queries';

/** What one server did in one scenario: its runs, the SQL statements one request sends, the size of one answer. */
export interface ServerRuns {
  runs: RunResult[];
  statements: number;
  responseBytes: number;
}

export interface ScenarioResult {
  key: ScenarioKey;
  label: string;
  carrel: ServerRuns;
  floor: ServerRuns;
}

/** Medians over the runs; CPU per request is taken per run (CPU seconds / requests), then the median. */
export interface Summary {
  rps: number;
  p50: number;
  p99: number;
  serverMs: number;
  pgMs: number | null;
  serverPct: number;
  pgPct: number | null;
  othersPct: number;
}

export function summarise(runs: RunResult[]): Summary {
  const m = (f: (r: RunResult) => number) => median(runs.map(f));
  const pgKnown = runs.every((r) => r.pgCpu !== null);
  return {
    rps: m((r) => r.rps),
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    serverMs: m((r) => (1000 * r.serverCpu) / r.rps),
    pgMs: pgKnown ? m((r) => (1000 * r.pgCpu!) / r.rps) : null,
    serverPct: m((r) => 100 * r.serverCpu),
    pgPct: pgKnown ? m((r) => 100 * r.pgCpu!) : null,
    othersPct: m((r) => 100 * r.othersCpu),
  };
}

/** Carrel's throughput as a fraction of the floor's, from the medians. */
export const ratioToFloor = (s: ScenarioResult) => summarise(s.carrel.runs).rps / summarise(s.floor.runs).rps;

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

/** One Carrel row and one floor row per scenario. */
export function tableLines(results: ScenarioResult[]): string[] {
  const header = `${pad('scenario', 40)}${pad('server', 7)}${lpad('req/s', 6)}  ${pad('(runs)', 14)}${lpad('x floor', 8)}${lpad('p50 ms', 8)}${lpad('p99 ms', 8)}`
    + `${lpad('SQL/req', 8)}${lpad('srv ms/req', 11)}${lpad('PG ms/req', 10)}${lpad('srv CPU', 8)}${lpad('PG CPU', 7)}${lpad('others', 7)}${lpad('resp KB', 8)}`;
  const lines = [header];
  for (const s of results) {
    const row = (label: string, server: string, r: ServerRuns, ratio: string) => {
      const x = summarise(r.runs);
      return pad(label, 40) + pad(server, 7) + lpad(fmt(x.rps, 0), 6) + '  ' + pad(`(${r.runs.map((y) => fmt(y.rps, 0)).join(', ')})`, 14)
        + lpad(ratio, 8) + lpad(fmt(x.p50), 8) + lpad(fmt(x.p99), 8) + lpad(String(r.statements), 8)
        + lpad(fmt(x.serverMs, 2), 11) + lpad(x.pgMs === null ? '-' : fmt(x.pgMs, 2), 10)
        + lpad(`${fmt(x.serverPct, 0)}%`, 8) + lpad(x.pgPct === null ? '-' : `${fmt(x.pgPct, 0)}%`, 7) + lpad(`${fmt(x.othersPct, 0)}%`, 7)
        + lpad(fmt(r.responseBytes / 1024), 8);
    };
    lines.push(row(s.label, 'Carrel', s.carrel, `${fmt(ratioToFloor(s), 2)}x`));
    lines.push(row('', 'floor', s.floor, ''));
  }
  return lines;
}

/** "1 list page floor (94%)" for each scenario and server whose median run had other processes above `limit` of a core. */
export function busyRuns(results: ScenarioResult[], limit = 0.25): string[] {
  return results.flatMap((s) => (['carrel', 'floor'] as const)
    .map((side) => ({ side, others: summarise(s[side].runs).othersPct }))
    .filter((x) => x.others > 100 * limit)
    .map((x) => `${s.label} ${x.side === 'carrel' ? 'Carrel' : 'floor'} (${fmt(x.others, 0)}%)`));
}

const failuresOf = (r: ServerRuns) => r.runs.reduce((n, x) => n + x.failures, 0);

/** One line per server and scenario that had failed answers (not HTTP 200, or GraphQL errors): its figures count only the others. */
export function failureLines(results: ScenarioResult[]): string[] {
  const out: string[] = [];
  for (const s of results) {
    for (const [server, r] of [['Carrel', s.carrel], ['floor', s.floor]] as const) {
      const failed = failuresOf(r);
      if (failed === 0) continue;
      const answered = r.runs.reduce((n, x) => n + x.requests, 0);
      const first = r.runs.find((x) => x.firstFailure)?.firstFailure ?? '';
      out.push(`FAILED: ${s.label}, ${server}: ${failed} of ${failed + answered} responses in the measured runs (not counted above); first: ${first.slice(0, 240)}`);
    }
  }
  return out;
}

/** A goal of the issue, checked against this run. */
export interface Check {
  what: string;
  value: string;
  goal: string;
  met: boolean;
}

/** Issue 12's goals (at 100,000 users on a 2-core machine), per scenario. */
export function issueChecks(results: ScenarioResult[]): { scenario: string; checks: Check[] }[] {
  const of = (key: ScenarioKey) => results.find((r) => r.key === key);
  const out: { scenario: string; checks: Check[] }[] = [];
  const add = (key: ScenarioKey, scenario: string, goals: { ratio?: number; serverMs?: number; pgMs?: number; statements?: number }) => {
    const s = of(key);
    if (!s) return;
    const x = summarise(s.carrel.runs);
    const checks: Check[] = [];
    if (goals.ratio !== undefined) {
      const ratio = ratioToFloor(s);
      checks.push({ what: 'throughput', value: `${fmt(ratio, 2)}x floor`, goal: `>= ${goals.ratio}x`, met: ratio >= goals.ratio });
    }
    if (goals.serverMs !== undefined) {
      checks.push({ what: 'server CPU', value: `${fmt(x.serverMs, 2)} ms/req`, goal: `<= ${goals.serverMs}`, met: x.serverMs <= goals.serverMs });
    }
    if (goals.pgMs !== undefined) {
      // PostgreSQL's parallel workers are not among the backends measured: CPU of other processes during the run counts
      // against the goal too (next to nothing on a quiet machine), so a goal is never met by work gone unseen.
      const unseen = (1000 * x.othersPct) / 100 / x.rps;
      const shown = unseen >= 0.01 ? ` + ${fmt(unseen, 2)} other` : '';
      checks.push({
        what: 'PostgreSQL CPU', value: x.pgMs === null ? 'not measured' : `${fmt(x.pgMs, 2)}${shown} ms/req`, goal: `<= ${goals.pgMs}`,
        met: x.pgMs !== null && x.pgMs + unseen <= goals.pgMs,
      });
    }
    if (goals.statements !== undefined) {
      checks.push({ what: 'SQL statements', value: `${s.carrel.statements} per request`, goal: `<= ${goals.statements}`, met: s.carrel.statements <= goals.statements });
    }
    const failed = failuresOf(s.carrel);
    if (failed > 0) checks.push({ what: 'failed answers', value: String(failed), goal: '0', met: false });
    out.push({ scenario, checks });
  };
  add('nocount', 'list page without totalCount', { ratio: 0.6, serverMs: 1.5 });
  add('list', 'list page', { serverMs: 4, pgMs: 6, statements: 4, ratio: 0.8 });
  add('lookup', 'point lookup', { serverMs: 0.8, pgMs: 0.4, statements: 2, ratio: 0.5 });
  return out;
}

export function targetLines(groups: { scenario: string; checks: Check[] }[], users: number): string[] {
  const lines = [`targets (issue 12; set for 100,000 users on a 2-core machine${users === 100_000 ? '' : `, this run has ${users.toLocaleString('en')}`}):`];
  for (const { scenario, checks } of groups) {
    checks.forEach((c, i) => {
      lines.push(`  ${pad(i === 0 ? scenario : '', 30)}${pad(c.what, 16)}${lpad(c.value, 26)}  ${pad(c.goal, 9)}${c.met ? 'met' : 'NOT met'}`);
    });
  }
  const all = groups.flatMap((g) => g.checks);
  lines.push(`  ${all.filter((c) => c.met).length} of ${all.length} met`);
  return lines;
}
