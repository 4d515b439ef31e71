/**
 * Deep equality of two parsed JSON answers, reporting the first path where they differ, so a bench that compares
 * Carrel with the floor says what changed ("$.data.users.edges[3].node.displayName: "Ann Lee" vs "Ann  Lee"")
 * rather than that something did.
 */

const show = (v: unknown) => {
  const text = JSON.stringify(v);
  return text === undefined ? 'missing' : text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The first difference between `a` and `b` as "path: a vs b", or null when they are deep-equal. Key order is ignored. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (kind(a) !== kind(b)) return `${path}: ${show(a)} vs ${show(b)}`;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    for (let i = 0; i < Math.min(a.length, bs.length); i++) {
      const d = firstDifference(a[i], bs[i], `${path}[${i}]`);
      if (d) return d;
    }
    return a.length === bs.length ? null : `${path}: ${a.length} items vs ${bs.length}`;
  }
  if (kind(a) === 'object') {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      const d = firstDifference(ao[key], bo[key], `${path}.${key}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : `${path}: ${show(a)} vs ${show(b)}`;
}

/** Throws with the first difference, naming what was compared; `left`/`right` are the response bodies. */
export function assertSameAnswer(what: string, left: { name: string; body: string }, right: { name: string; body: string }): void {
  const parse = (side: { name: string; body: string }) => {
    try {
      return JSON.parse(side.body);
    } catch {
      throw new Error(`${what}: ${side.name} answered with something that is not JSON: ${side.body.slice(0, 300)}`);
    }
  };
  const d = firstDifference(parse(left), parse(right));
  if (d) throw new Error(`${what}: ${left.name} and ${right.name} answer differently, first at ${d} (${left.name} vs ${right.name})`);
}
