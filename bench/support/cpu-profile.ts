import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/**
 * Self time per function and per package of a V8 .cpuprofile (`node --cpu-prof`), for the samples between
 * `fromUs` and `toUs` (CLOCK_MONOTONIC, µs), `functions` of them; printed by the benchmarks' `--profile`.
 */
export function summariseProfile(file: string, fromUs: number, toUs: number, functions = 20): string[] {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let t = profile.startTime;
  const inWindow: { node: ProfileNode; us: number }[] = [];
  const all: { node: ProfileNode; us: number }[] = [];
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    const us = profile.timeDeltas[i + 1] ?? 0;
    const sample = { node: byId.get(profile.samples[i])!, us };
    all.push(sample);
    if (t >= fromUs && t <= toUs) inWindow.push(sample);
  }
  // The window is taken on this process's monotonic clock; if it does not line up with the profile's, use every sample.
  const windowed = inWindow.length > all.length / 4;
  const samples = windowed ? inWindow : all;
  const total = samples.reduce((s, x) => s + x.us, 0);
  const shorten = (url: string) => {
    if (!url) return '';
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
    const src = url.indexOf(ROOT);
    return src >= 0 ? url.slice(src + ROOT.length + 1) : url.replace(/^file:\/\//, '');
  };
  const packageOf = (url: string, name: string) => {
    if (!url) return name.startsWith('(') ? name : '(native/V8)';
    if (url.startsWith('node:')) return 'node: core';
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url.slice(url.lastIndexOf('node_modules/')));
    if (url.includes('node_modules/') && m) return m[1];
    if (url.includes(`${ROOT}/src/`) || url.includes('/src/')) return 'carrel src/';
    return shorten(url);
  };
  const fns = new Map<string, number>();
  const pkgs = new Map<string, number>();
  for (const { node, us } of samples) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'}${url ? ` ${shorten(url)}:${lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + us);
    const pkg = packageOf(url, functionName);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return [
    `  ${windowed ? 'samples of the measured run only' : 'all samples (start-up included: the run window did not line up)'}: ${(total / 1e6).toFixed(1)} s`,
    '  self time by package:',
    ...top(pkgs, 12).map(([k, us]) => `    ${pct(us)}  ${k}`),
    '  top functions by self time:',
    ...top(fns, functions).map(([k, us]) => `    ${pct(us)}  ${k}`),
  ];
}
