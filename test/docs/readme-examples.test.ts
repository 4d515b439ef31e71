import fs from 'node:fs';
import path from 'node:path';
import { parse, validate } from 'graphql';
import { buildSchema } from '../../src/schema';

/** The README's GraphQL examples are meant to be pasted into Sandbox: each must be valid against the schema as it is. */
const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
const schema = buildSchema();

test('the README has GraphQL examples', () => {
  expect(examples.length).toBeGreaterThan(5);
});

test.each(examples.map((text, i) => [i + 1, text.split('\n')[0], text] as const))('README example %i (%s) is valid against the schema', (_i, _first, text) => {
  expect(validate(schema, parse(text)).map((e) => e.message)).toEqual([]);
});
