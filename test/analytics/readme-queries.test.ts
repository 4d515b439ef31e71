import fs from 'node:fs';
import path from 'node:path';
import { configureFines, givenFines } from '../fines/fine-fixtures';
import { createInstitution, createPatron, InstitutionFixture, loginOperators } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Issue 14: the README's "For analysts" queries are ready to paste into Sandbox. Validating them against the schema
 * (test/docs) is not enough: each must run, as a Design Analytics operator, within the cost limit, without an error.
 */
const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## For analysts'), readme.indexOf('\n## ', readme.indexOf('## For analysts') + 1));
const queries = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);

let app: TestApp;
let inst: InstitutionFixture;
let token: string;

beforeAll(async () => {
  app = await startTestApp({ jobs: false });
  inst = await createInstitution(app.db.dataSource);
  await configureFines(app.db.dataSource, inst);
  const patron = await createPatron(app.db.dataSource, inst, { expiryDate: '2027-01-15' });
  await givenFines(app.db.dataSource, inst, patron, 3, '4.50');
  await givenFines(app.db.dataSource, inst, patron, 2, '2.00', { status: 'CLOSED', owner: 'LAW' });
  ({ analyst: token } = await loginOperators(app, inst, { analyst: ['DESIGN_ANALYTICS', 'INSTITUTION'] }));
});
afterAll(() => app.close());

test('the section has the ready-to-paste queries the issue asks for', () => {
  expect(queries.length).toBeGreaterThanOrEqual(5);
});

test.each(queries.map((q) => [q.split('\n')[0], q] as const))('%s runs without an error for an analyst', async (_name, query) => {
  const res = await app.gql(query, {}, token);
  expect(res.errors).toBeUndefined();
});
