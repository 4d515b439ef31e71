import fs from 'node:fs';
import path from 'node:path';
import { withCurrentTable } from '../../src/config/config-table';
import { ENV_SCHEMA, metaOf } from '../../src/config/variables';

/** Issue 15 item 4: the README's configuration table is the schema's, so the docs name exactly what Carrel reads. */
const README = path.resolve(__dirname, '../../README.md');

test('15.4 the README configuration table is the one generated from the schema (run npm run docs:config)', () => {
  const readme = fs.readFileSync(README, 'utf8');
  expect(withCurrentTable(readme)).toBe(readme);
});

test('15.4 every variable of the schema has a group, a description and a documented default', () => {
  for (const [name, schema] of Object.entries(ENV_SCHEMA.shape)) {
    const meta = metaOf(schema);
    expect({ name, group: !!meta.group, description: !!meta.description, default: !!meta.default }).toEqual({ name, group: true, description: true, default: true });
  }
});

test('15.4 no source file reads process.env outside the configuration module and the tracing preload', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (file.endsWith('.ts') && /process\.env\.[A-Z_]+|process\.env\[/.test(fs.readFileSync(file, 'utf8'))) offenders.push(path.relative(README, file));
    }
  };
  walk(path.resolve(__dirname, '../../src'));
  expect(offenders.filter((f) => !/src\/config\/|src\/observability\/tracing\.ts/.test(f))).toEqual([]);
});
