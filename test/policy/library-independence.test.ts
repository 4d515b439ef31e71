import { createInstitution, createPerson, InstitutionFixture, PASSWORD } from '../support/fixtures';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let inst: InstitutionFixture;
let patronId: string;

const USER = `query($id: ID!) { user(id: $id) {
  blocks(activeOnly: false) { type owner { institution library { code } } }
  hasActiveBlock
  fineSummary { activeBalance openCount }
} }`;

beforeAll(async () => {
  app = await startTestApp();
  const db = app.db.dataSource;
  inst = await createInstitution(db);
  patronId = await createPerson(db, inst, { recordType: 'PUBLIC', roles: [['PATRON', 'INSTITUTION']], withPassword: false });
  const owners = { LAW: inst.libraries.LAW.id, MAIN: inst.libraries.MAIN.id };
  await db.query(
    `INSERT INTO user_block (institution_id, user_id, block_type, owner_library_id, created_by) VALUES ($1, $2, 'GENERAL', $3, 'test')`,
    [inst.id, patronId, owners.LAW],
  );
  await db.query(
    `INSERT INTO fine_fee (institution_id, user_id, fine_type, owner_library_id, original_amount, remaining_amount, created_by)
     VALUES ($1, $2, 'OVERDUEFINE', $3, '10.00', '10.00', 'test'), ($1, $2, 'OVERDUEFINE', $4, '2.50', '2.50', 'test'),
            ($1, $2, 'CARDRENEWAL', NULL, '1.25', '1.25', 'test')`,
    [inst.id, patronId, owners.LAW, owners.MAIN],
  );
  await createPerson(db, inst, { primaryIdentifier: 'main_circ', roles: [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']] });
  await createPerson(db, inst, { primaryIdentifier: 'inst_um', roles: [['USER_MANAGER', 'INSTITUTION']] });
});
afterAll(() => app.close());

test('R5.2 an operator scoped to the Main desk does not see a block owned by the Law library', async () => {
  const res = await app.gql(USER, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.blocks).toEqual([]);
  expect(res.data.user.hasActiveBlock).toBe(false);
});

test('R5.2 balances leave out fines owned by libraries outside the scope, and keep institution-owned ones', async () => {
  const res = await app.gql(USER, { id: patronId }, await app.login('main_circ', PASSWORD));
  expect(res.data.user.fineSummary).toEqual({ activeBalance: '3.75', openCount: 2 });
});

test('R5.2 an institution-scoped operator sees every owner', async () => {
  const res = await app.gql(USER, { id: patronId }, await app.login('inst_um', PASSWORD));
  expect(res.data.user.blocks).toEqual([{ type: 'GENERAL', owner: { institution: false, library: { code: 'LAW' } } }]);
  expect(res.data.user.hasActiveBlock).toBe(true);
  expect(res.data.user.fineSummary).toEqual({ activeBalance: '13.75', openCount: 3 });
});
