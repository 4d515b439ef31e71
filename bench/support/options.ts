/** How one numeric flag of a benchmark is read: its option's key, its least value, and whether fractions are allowed. */
export interface NumericFlag<K extends string> {
  key: K;
  min: number;
  fractional?: boolean;
}

/**
 * A benchmark's numeric options (`--runs 5` or `--runs=5`) over `defaults`; `--help` prints `usage` and exits 0, a
 * bad flag or value prints it and exits 2.
 */
export function parseNumericOptions<K extends string>(argv: string[], usage: string, defaults: Record<K, number>, flags: Record<string, NumericFlag<K>>): Record<K, number> {
  const options = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--help' || flag === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const spec = flags[flag];
    const value = Number(inline ?? argv[++i]);
    if (!spec || !Number.isFinite(value) || value < spec.min || (!spec.fractional && !Number.isInteger(value))) {
      console.error(`bad argument "${argv[i]}"\n${usage}`);
      process.exit(2);
    }
    options[spec.key] = value;
  }
  return options;
}
