import { Environment, ENV_SCHEMA, metaOf, VariableName } from './variables';
import { configProblems, parseEnvironment, resolvedEnvironment, unknownVariables } from './config';
import { redactedUrl } from './redacted-url';

/**
 * `npm start -- --print-config`: every variable with the value Carrel would run with and where it came from. A
 * secret shows only whether it is set and its length; DATABASE_URL shows without its password.
 */
export function printableConfig(env: NodeJS.ProcessEnv): { lines: string[]; problems: string[] } {
  const { values, invalid } = parseEnvironment(env);
  const effective = resolvedEnvironment(values);
  const names = Object.keys(ENV_SCHEMA.shape) as VariableName[];
  const width = Math.max(...names.map((n) => n.length));
  const unknown = unknownVariables(env).map((name) => `${name.padEnd(width)}  (unknown: ignored; misspelt?)`);
  const lines = names.map((name) => {
    const source = env[name] === undefined || env[name] === '' ? 'default' : 'set';
    return `${name.padEnd(width)}  ${invalid.has(name) ? '(invalid)' : shown(name, effective)}  (${source})`;
  });
  return { lines: [...lines, ...unknown], problems: configProblems(env) };
}

function shown(name: VariableName, effective: Environment): string {
  const value = effective[name];
  if (value === undefined) return '(unset)';
  if (name === 'DATABASE_URL' || name === 'OTEL_EXPORTER_OTLP_ENDPOINT') return redactedUrl(String(value));
  if (metaOf(ENV_SCHEMA.shape[name]).secret) return `(secret, ${Buffer.byteLength(String(value))} bytes)`;
  // The operator's own environment, but one line per variable all the same.
  return JSON.stringify(String(value)).slice(1, -1);
}
