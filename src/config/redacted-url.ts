/**
 * A URL as it may be shown (--print-config, the database's address in log lines and in the failed-to-start line):
 * its password masked, and every query value but sslmode's, which may be credentials too (`?password=`, a
 * collector's `?api_key=`).
 */
const SHOWN_PARAMETERS = new Set(['sslmode']);

export function redactedUrl(url: string): string {
  if (!URL.canParse(url)) return '(set, not a URL)';
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  for (const key of [...parsed.searchParams.keys()]) if (!SHOWN_PARAMETERS.has(key)) parsed.searchParams.set(key, '***');
  return parsed.toString();
}
