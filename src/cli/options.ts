/**
 * The arguments of a command: `--name value` or `--name=value` for the
 * options it takes, bare `--flag`s, and positional values (every argument
 * after `--` is one). Returns them, or the reason they are wrong (run-cli.ts
 * then prints the usage and exits 2).
 */
export interface ParsedOptions {
  values: Record<string, string>;
  flags: Set<string>;
  positionals: string[];
}

export interface OptionSpec {
  values?: readonly string[];
  flags?: readonly string[];
  /** The names of the positional arguments, all required. */
  positionals?: readonly string[];
}

export function parseOptions(argv: string[], spec: OptionSpec): ParsedOptions | string {
  const parsed: ParsedOptions = { values: {}, flags: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // After a bare `--`, everything is positional: an identifier may start with dashes.
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(0, eq) : arg).slice(2);
    if (spec.flags?.includes(name) && eq < 0) {
      parsed.flags.add(name);
      continue;
    }
    if (!spec.values?.includes(name)) return `unknown argument "${arg}"`;
    if (name in parsed.values) return `--${name} is given twice`;
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') return `--${name} needs a value`;
    parsed.values[name] = value;
  }
  const expected = spec.positionals ?? [];
  if (parsed.positionals.length < expected.length) return `${expected.slice(parsed.positionals.length).map((p) => `<${p}>`).join(' ')} is missing`;
  if (parsed.positionals.length > expected.length) return `unexpected argument "${parsed.positionals[expected.length]}"`;
  return parsed;
}
