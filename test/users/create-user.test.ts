import type { DataSource } from 'typeorm';
import { createInstitution, createPerson, InstitutionFixture, PASSWORD, userTableCounts } from '../support/fixtures';
import { GraphQLResponse, startTestApp, TestApp } from '../support/test-app';

/**
 * Specification of `createUser` (issue 2): rules R1 (users), R2 (identifiers)
 * and R4.2 (who may create), exercised over HTTP against the real server.
 */

let app: TestApp;
let inst: InstitutionFixture;
let manager: string;
const db = (): DataSource => app.db.dataSource;

beforeAll(async () => {
  app = await startTestApp();
  inst = await createInstitution(db());
  await createPerson(db(), inst, { primaryIdentifier: 'um_create', roles: [['USER_MANAGER', 'INSTITUTION']] });
  manager = await app.login('um_create', PASSWORD);
});
afterAll(() => app.close());

const CREATE = `
  mutation($input: CreateUserInput!) {
    createUser(input: $input) {
      user {
        id recordType accountType externalOwner primaryIdentifier displayName firstName middleName lastName
        preferredFirstName preferredLastName userGroup birthDate resourceSharingLibraries purchaseRequestLibraries
        status statusDate activeNotExpired hasPassword forcePasswordChange protected
        createdBy createdAt updatedBy
        identifiers { type value note external }
        emails { address type preferred external }
        addresses { type line1 city postalCode country preferred }
        phones { number type preferred }
        roles { roleType active scope { type } }
      }
      duplicateWarning { message users { id primaryIdentifier } }
    }
  }`;

let serial = 0;

/** A valid new patron; each test changes one thing. Pass `undefined` to leave a field out. */
function validInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  serial += 1;
  return {
    recordType: 'PUBLIC',
    primaryIdentifier: `patron${serial}`,
    firstName: 'Ada',
    lastName: `Lovelace${serial}`,
    userGroup: 'UNDERGRAD',
    emails: [{ address: `patron${serial}@example.edu`, type: 'PERSONAL' }],
    ...overrides,
  };
}

/** `token` null sends no Authorization header. */
function create(input: Record<string, unknown>, token: string | null = manager): Promise<GraphQLResponse> {
  return app.gql(CREATE, { input }, token ?? undefined);
}

/** Sends a createUser that must be refused; proves it wrote nothing and returns the first error. */
async function refusedCreate(input: Record<string, unknown>, token: string | null = manager) {
  const before = await userTableCounts(db());
  const res = await create(input, token);
  expect(res.data?.createUser ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await userTableCounts(db())).toEqual(before);
  return res.errors![0];
}

/** Sends a createUser that must succeed and returns its payload. */
async function created(input: Record<string, unknown>, token: string | null = manager) {
  const res = await create(input, token);
  expect(res.errors).toBeUndefined();
  return res.data.createUser as { user: any; duplicateWarning: any };
}

async function operator(primaryIdentifier: string, roles: [string, string][], institution = inst): Promise<string> {
  await createPerson(db(), institution, { primaryIdentifier, roles });
  return app.login(primaryIdentifier, PASSWORD);
}

// ---------------------------------------------------------------- happy path

describe('a new patron', () => {
  let payload: { user: any; duplicateWarning: any };
  let before: Record<string, number>;
  const startedAt = Date.now();

  beforeAll(async () => {
    before = await userTableCounts(db());
    payload = await created(validInput({
      primaryIdentifier: 'hp_grace',
      firstName: 'Grace',
      middleName: 'Brewster',
      lastName: 'Hopper',
      birthDate: '1906-12-09',
      identifiers: [{ type: 'BARCODE', value: 'HP-0001', note: 'first card' }, { type: 'UNIV_ID', value: 'U-1906' }],
      emails: [
        { address: 'grace.work@example.edu', type: 'WORK' },
        { address: 'grace@example.org', type: 'PERSONAL', preferred: true },
      ],
      addresses: [{ type: 'HOME', line1: '1 Navy Yard', city: 'Arlington', postalCode: '22202', country: 'USA', preferred: true }],
      phones: [{ number: '+1 555 0100', type: 'MOBILE' }],
    }));
  });

  test('R1 createUser returns the user with its names, record type and internal account type', () => {
    expect(payload.user).toMatchObject({
      recordType: 'PUBLIC',
      accountType: 'INTERNAL',
      primaryIdentifier: 'hp_grace',
      firstName: 'Grace',
      middleName: 'Brewster',
      lastName: 'Hopper',
      displayName: 'Grace Brewster Hopper',
      userGroup: 'UNDERGRAD',
      birthDate: '1906-12-09',
      protected: false,
    });
    expect(payload.duplicateWarning).toBeNull();
  });

  test('R2.2 createUser stores the additional identifiers with their type and note, as internal', () => {
    // The schema promises no order for identifiers.
    const byValue = [...payload.user.identifiers].sort((a: any, b: any) => a.value.localeCompare(b.value));
    expect(byValue).toEqual([
      { type: 'BARCODE', value: 'HP-0001', note: 'first card', external: false },
      { type: 'UNIV_ID', value: 'U-1906', note: null, external: false },
    ]);
  });

  test('R1.7 createUser stores the emails, the preferred one first', () => {
    expect(payload.user.emails).toEqual([
      { address: 'grace@example.org', type: 'PERSONAL', preferred: true, external: false },
      { address: 'grace.work@example.edu', type: 'WORK', preferred: false, external: false },
    ]);
  });

  test('R1.7 createUser stores the addresses and phones; a lone phone becomes the preferred one', () => {
    expect(payload.user.addresses).toEqual([
      { type: 'HOME', line1: '1 Navy Yard', city: 'Arlington', postalCode: '22202', country: 'USA', preferred: true },
    ]);
    expect(payload.user.phones).toEqual([{ number: '+1 555 0100', type: 'MOBILE', preferred: true }]);
  });

  test('createUser gives a non-contact user the PATRON role, institution-wide and active', () => {
    expect(payload.user.roles).toEqual([{ roleType: 'PATRON', active: true, scope: { type: 'INSTITUTION' } }]);
  });

  test('R1.5 a new user is ACTIVE, with the status date set to the creation time', () => {
    expect(payload.user.status).toBe('ACTIVE');
    expect(payload.user.activeNotExpired).toBe(true);
    const statusDate = new Date(payload.user.statusDate).getTime();
    expect(statusDate).toBeGreaterThanOrEqual(startedAt - 5_000);
    expect(statusDate).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  test('R1.4 createdBy and updatedBy are the operator’s primary identifier', () => {
    expect(payload.user.createdBy).toBe('um_create');
    expect(payload.user.updatedBy).toBe('um_create');
  });

  test('R1.4 a user created without a password has none', () => {
    expect(payload.user.hasPassword).toBe(false);
  });

  test('R9.1 createUser writes one history entry for the new user, by the operator', async () => {
    const rows = await db().query(`SELECT field, changed_by FROM history_entry WHERE user_id = $1`, [payload.user.id]);
    expect(rows).toEqual([{ field: 'record', changed_by: 'um_create' }]);
  });

  test('R11.3 createUser writes one USER_CREATED event to the outbox, by the operator', async () => {
    const rows = await db().query(`SELECT event_type, aggregate_type, actor, payload FROM event_outbox WHERE aggregate_id = $1`, [payload.user.id]);
    expect(rows).toEqual([{
      event_type: 'USER_CREATED',
      aggregate_type: 'USER',
      actor: 'um_create',
      payload: expect.objectContaining({ primaryIdentifier: 'hp_grace', recordType: 'PUBLIC', accountType: 'INTERNAL' }),
    }]);
  });

  test('R11.3 the user, its history entry and its event are written in one transaction', async () => {
    // now() is the transaction's start time: one transaction gives all three rows the same timestamp.
    const [row] = await db().query(
      `SELECT (SELECT created_at FROM app_user WHERE id = $1) = (SELECT changed_at FROM history_entry WHERE user_id = $1) AS history_same,
              (SELECT created_at FROM app_user WHERE id = $1) = (SELECT created_at FROM event_outbox WHERE aggregate_id = $1) AS event_same`,
      [payload.user.id],
    );
    expect(row).toEqual({ history_same: true, event_same: true });
  });

  test('createUser writes exactly the user and its children, nothing more', async () => {
    const after = await userTableCounts(db());
    expect(after).toEqual({
      ...before,
      app_user: before.app_user + 1,
      user_identifier: before.user_identifier + 2,
      user_email: before.user_email + 2,
      user_address: before.user_address + 1,
      user_phone: before.user_phone + 1,
      role_assignment: before.role_assignment + 1,
      history_entry: before.history_entry + 1,
      event_outbox: before.event_outbox + 1,
    });
  });
});

test('R1.7 when no email is marked preferred, the first one is preferred', async () => {
  const { user } = await created(validInput({
    emails: [{ address: 'first@example.edu', type: 'SCHOOL' }, { address: 'second@example.edu', type: 'PERSONAL' }],
  }));
  expect(user.emails.map((e: any) => [e.address, e.preferred])).toEqual([['first@example.edu', true], ['second@example.edu', false]]);
});

test('R1.2 a user may be created with an EXTERNAL account type, naming the external system that owns it', async () => {
  const { user } = await created(validInput({ accountType: 'EXTERNAL', externalOwner: ' SIS ' }));
  expect(user).toMatchObject({ accountType: 'EXTERNAL', externalOwner: 'SIS' });
});

test('Issue 9 finding 14: an EXTERNAL account without the code of its external system is refused, naming input.externalOwner', async () => {
  for (const externalOwner of [undefined, null, '  ']) {
    const error = await refusedCreate(validInput({ accountType: 'EXTERNAL', externalOwner }));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.externalOwner' });
  }
});

test.each(['INTERNAL', 'INTERNAL_WITH_EXTERNAL_AUTH'])('Issue 9 finding 14: an %s account naming an external owner is refused, naming input.externalOwner', async (accountType) => {
  const error = await refusedCreate(validInput({ accountType, externalOwner: 'SIS' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.externalOwner' });
});

test('Issue 9 finding 14: the same email three times (in any case) is refused as CONFLICT naming the second one', async () => {
  const error = await refusedCreate(validInput({
    emails: [{ address: 'thrice@example.edu', type: 'PERSONAL' }, { address: 'Thrice@Example.edu', type: 'WORK' }, { address: 'thrice@example.edu', type: 'SCHOOL' }],
  }));
  expect(error).toMatchObject({ extensions: { code: 'CONFLICT', field: 'input.emails[1].address', value: 'Thrice@Example.edu' } });
  expect(error.message).toBe('Email Thrice@Example.edu is given twice');
});

test.each(['resourceSharingLibraries', 'purchaseRequestLibraries'])('Issue 9 finding 14: a library code that is not one of the institution’s is refused in %s, naming its position', async (field) => {
  const error = await refusedCreate(validInput({ [field]: ['MAIN', 'NOWHERE'] }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: `input.${field}[1]` });
  expect(error.message).toBe('Library NOWHERE is not a library of your institution');
});

test('R1.4 library codes of the institution are stored trimmed, each once', async () => {
  const { user } = await created(validInput({ resourceSharingLibraries: [' LAW', 'MAIN', 'LAW '], purchaseRequestLibraries: ['MAIN'] }));
  expect(user).toMatchObject({ resourceSharingLibraries: ['LAW', 'MAIN'], purchaseRequestLibraries: ['MAIN'] });
});

test('R1.4 a library code of another institution is not one of this institution’s', async () => {
  const elsewhere = await createInstitution(db(), 'LIBS_ELSEWHERE');
  await db().query(`INSERT INTO library (institution_id, code, name) VALUES ($1, 'ANNEX', 'Annex')`, [elsewhere.id]);
  const error = await refusedCreate(validInput({ resourceSharingLibraries: ['ANNEX'] }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.resourceSharingLibraries[0]' });
});

// ---------------------------------------------------------------- R1.1 contacts

test('R1.1 a CONTACT without identifiers or names is created, with no role', async () => {
  const { user } = await created({ recordType: 'CONTACT', emails: [{ address: 'orders@vendor.example', type: 'ORDER' }] });
  expect(user).toMatchObject({ recordType: 'CONTACT', primaryIdentifier: null, firstName: null, lastName: null, roles: [], identifiers: [] });
  expect(user.emails).toEqual([{ address: 'orders@vendor.example', type: 'ORDER', preferred: true, external: false }]);
});

test('R1.1 refuses a CONTACT with additional identifiers, naming the field', async () => {
  const error = await refusedCreate({
    recordType: 'CONTACT', emails: [{ address: 'c1@vendor.example', type: 'ORDER' }], identifiers: [{ type: 'BARCODE', value: 'C-1' }],
  });
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.identifiers' });
});

test('R1.1 refuses a CONTACT with a user group, naming the field', async () => {
  const error = await refusedCreate({ recordType: 'CONTACT', emails: [{ address: 'c2@vendor.example', type: 'ORDER' }], userGroup: 'UNDERGRAD' });
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.userGroup' });
});

test('R1.1 refuses a CONTACT with a password, naming the field', async () => {
  const error = await refusedCreate({ recordType: 'CONTACT', emails: [{ address: 'c3@vendor.example', type: 'ORDER' }], password: 'vendor password 1' });
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
});

// ---------------------------------------------------------------- R1.3 names

test('R1.3 refuses a user without a first name, naming the field', async () => {
  const error = await refusedCreate(validInput({ firstName: undefined }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.firstName' });
});

test('R1.3 refuses a user without a last name, naming the field', async () => {
  const error = await refusedCreate(validInput({ lastName: undefined }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.lastName' });
});

test('R1.3 refuses a last name of blanks as missing, naming the field', async () => {
  const error = await refusedCreate(validInput({ lastName: '   ' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.lastName' });
});

test('R1.3 a STAFF user needs names too', async () => {
  const error = await refusedCreate(validInput({ recordType: 'STAFF', firstName: undefined }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.firstName' });
});

test('R1.3 the display name uses the preferred names in place of the main names', async () => {
  const { user } = await created(validInput({ firstName: 'Elizabeth', lastName: 'Windsor', preferredFirstName: 'Liz', preferredLastName: 'Taylor' }));
  expect(user).toMatchObject({ firstName: 'Elizabeth', lastName: 'Windsor', preferredFirstName: 'Liz', preferredLastName: 'Taylor', displayName: 'Liz Taylor' });
});

test('R1.3 a preferred first name alone replaces only the first name', async () => {
  const { user } = await created(validInput({ firstName: 'Robert', lastName: 'Zimmerman', preferredFirstName: 'Bob' }));
  expect(user.displayName).toBe('Bob Zimmerman');
});

// ---------------------------------------------------------------- R1.4 PIN and password

test('R1.4 a PIN of exactly four digits is accepted, leading zeros included', async () => {
  const { user } = await created(validInput({ pinNumber: '0042' }));
  const [row] = await db().query(`SELECT pin_number FROM app_user WHERE id = $1`, [user.id]);
  expect(row.pin_number).toBe('0042');
});

test.each(['123', '12345', '12a4', ' 1234'])('R1.4 refuses the PIN %p, which is not exactly four digits, naming the field', async (pin) => {
  const error = await refusedCreate(validInput({ pinNumber: pin }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.pinNumber' });
});

test('R1.4 a password is stored only as an argon2id hash, and hasPassword is true', async () => {
  const { user } = await created(validInput({ password: 'Tr0ub4dor&3 is long' }));
  expect(user.hasPassword).toBe(true);
  const [row] = await db().query(`SELECT password_hash FROM app_user WHERE id = $1`, [user.id]);
  expect(row.password_hash).toMatch(/^\$argon2id\$/);
  expect(row.password_hash).not.toContain('Tr0ub4dor');
});

test('R1.4 a user created with a password can log in with it once given a staff role', async () => {
  const { user } = await created(validInput({ recordType: 'STAFF', primaryIdentifier: 'pw_login', password: 'a fine long password' }));
  await db().query(`INSERT INTO role_assignment (institution_id, user_id, role_type, scope_type, created_by) VALUES ($1, $2, 'CATALOGER', 'INSTITUTION', 'test')`, [inst.id, user.id]);
  await expect(app.login('pw_login', 'a fine long password')).resolves.toMatch(/^ey/);
});

test('R1.4 refuses a password shorter than 8 characters, saying why', async () => {
  const error = await refusedCreate(validInput({ password: 'short12' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
  expect(error.message).toMatch(/at least 8 characters/);
});

test('R1.4 refuses a password containing the primary identifier (in any case), saying why', async () => {
  const error = await refusedCreate(validInput({ primaryIdentifier: 'jsmith77', password: 'my-JSMITH77-secret' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
  expect(error.message).toMatch(/primary identifier/);
});

test.each(['EXTERNAL', 'INTERNAL_WITH_EXTERNAL_AUTH'])('R1.4 refuses a password on an %s account, naming the field', async (accountType) => {
  const error = await refusedCreate(validInput({ accountType, password: 'a long enough password' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
});

// ---------------------------------------------------------------- R1.6 duplicates

test('R1.6 a user with the same first name, last name and birth date is created, with a duplicate warning listing the existing user', async () => {
  const existing = await createPerson(db(), inst, { primaryIdentifier: 'dup_first', firstName: 'Maria', lastName: 'Dupont', birthDate: '1990-05-17' });
  const before = await userTableCounts(db());
  const { user, duplicateWarning } = await created(validInput({ primaryIdentifier: 'dup_second', firstName: 'Maria', lastName: 'Dupont', birthDate: '1990-05-17' }));
  expect(user.primaryIdentifier).toBe('dup_second');
  expect((await userTableCounts(db())).app_user).toBe(before.app_user + 1);
  expect(duplicateWarning.message).toEqual(expect.any(String));
  expect(duplicateWarning.users).toEqual([{ id: existing, primaryIdentifier: 'dup_first' }]);
});

test('R1.6 no duplicate warning when the birth date differs', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'nodup_first', firstName: 'Jonas', lastName: 'Berg', birthDate: '1985-01-01' });
  const { duplicateWarning } = await created(validInput({ firstName: 'Jonas', lastName: 'Berg', birthDate: '1985-01-02' }));
  expect(duplicateWarning).toBeNull();
});

test('R1.6 a namesake in another institution gives no duplicate warning', async () => {
  const other = await createInstitution(db(), 'NAMESAKE');
  await createPerson(db(), other, { primaryIdentifier: 'far_namesake', firstName: 'Ines', lastName: 'Alvarez', birthDate: '1979-03-03' });
  const { duplicateWarning } = await created(validInput({ firstName: 'Ines', lastName: 'Alvarez', birthDate: '1979-03-03' }));
  expect(duplicateWarning).toBeNull();
});

// ---------------------------------------------------------------- R1.7 contact information and configured codes

test('R1.7 refuses a user without an email by default, naming the field', async () => {
  const error = await refusedCreate(validInput({ emails: undefined }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.emails' });
});

test('R1.7 refuses two preferred emails, naming the field', async () => {
  const error = await refusedCreate(validInput({
    emails: [{ address: 'one@example.edu', type: 'PERSONAL', preferred: true }, { address: 'two@example.edu', type: 'WORK', preferred: true }],
  }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.emails' });
});

test('R1.7 refuses an email type that is for contacts only, naming the field', async () => {
  const error = await refusedCreate(validInput({ emails: [{ address: 'x@example.edu', type: 'ORDER' }] }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.emails[0].type' });
});

test('R1.4 refuses a user group that is not configured, naming input.userGroup', async () => {
  const error = await refusedCreate(validInput({ userGroup: 'MARTIANS' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.userGroup' });
});

test('R2.2 refuses an identifier type that is not configured, naming the field', async () => {
  const error = await refusedCreate(validInput({ identifiers: [{ type: 'BARCODE', value: 'TYPE-OK-1' }, { type: 'LIBRARY_CARD', value: 'TYPE-BAD-1' }] }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.identifiers[1].type' });
});

describe('an institution with format rules (R1.7)', () => {
  let fmt: InstitutionFixture;
  let fmtManager: string;
  let n = 0;
  const fmtInput = (overrides: Record<string, unknown> = {}) => {
    n += 1;
    return validInput({ primaryIdentifier: `fm${String(n).padStart(4, '0')}`, emails: [{ address: `fm${n}@fmt.edu`, type: 'SCHOOL' }], ...overrides });
  };

  beforeAll(async () => {
    fmt = await createInstitution(db(), 'FMT', { emailRegex: '@fmt\\.edu$', primaryIdentifierRegex: '^[a-z]{2}[0-9]{4}$' });
    fmtManager = await operator('um9999', [['USER_MANAGER', 'INSTITUTION']], fmt);
  });

  test('R1.7 values matching the institution’s formats are accepted', async () => {
    const { user } = await created(fmtInput(), fmtManager);
    expect(user.primaryIdentifier).toMatch(/^fm\d{4}$/);
  });

  test('R1.7 refuses an email that does not match the institution’s email format, naming the field', async () => {
    const error = await refusedCreate(fmtInput({ emails: [{ address: 'ok@fmt.edu', type: 'SCHOOL' }, { address: 'someone@gmail.com', type: 'PERSONAL' }] }), fmtManager);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.emails[1].address' });
  });

  test('R1.7 refuses a primary identifier that does not match the institution’s format, naming the field', async () => {
    const error = await refusedCreate(fmtInput({ primaryIdentifier: 'JD-1' }), fmtManager);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.primaryIdentifier' });
  });

  test('R1.7 the format rules of one institution do not apply to another', async () => {
    const { user } = await created(validInput({ primaryIdentifier: 'JD-1', emails: [{ address: 'jd1@gmail.com', type: 'PERSONAL' }] }));
    expect(user.primaryIdentifier).toBe('JD-1');
  });
});

// ---------------------------------------------------------------- R2 identifiers

test('R2.1 refuses a patron without a primary identifier, naming the field', async () => {
  const error = await refusedCreate(validInput({ primaryIdentifier: undefined }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.primaryIdentifier' });
});

test('R2.1 refuses a staff user whose primary identifier is blank, naming the field', async () => {
  const error = await refusedCreate(validInput({ recordType: 'STAFF', primaryIdentifier: '  ' }));
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.primaryIdentifier' });
});

test('R2.1 refuses a primary identifier already used in the institution, as CONFLICT naming the value', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'taken_pid' });
  const error = await refusedCreate(validInput({ primaryIdentifier: 'taken_pid' }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.primaryIdentifier', value: 'taken_pid' });
});

test('R2.1 a primary identifier used in another institution is free in this one', async () => {
  const other = await createInstitution(db(), 'ELSEWHERE');
  await createPerson(db(), other, { primaryIdentifier: 'twin_pid' });
  const { user } = await created(validInput({ primaryIdentifier: 'twin_pid' }));
  expect(user.primaryIdentifier).toBe('twin_pid');
});

test('Issue 9 finding 14: an identifier conflict names the type and the value, and whose the value is', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'typed_owner', identifiers: [['BARCODE', 'BC-TYPED']] });
  const additional = await refusedCreate(validInput({ identifiers: [{ type: 'UNIV_ID', value: 'BC-TYPED' }] }));
  expect(additional.message).toBe('Identifier UNIV_ID BC-TYPED already belongs to another user (as BARCODE)');
  const sameType = await refusedCreate(validInput({ identifiers: [{ type: 'BARCODE', value: 'BC-TYPED' }] }));
  expect(sameType.message).toBe('Identifier BARCODE BC-TYPED already belongs to another user');
  const primary = await refusedCreate(validInput({ primaryIdentifier: 'TYPED_OWNER' }));
  expect(primary.message).toBe('Primary identifier TYPED_OWNER already belongs to another user');
  const twice = await refusedCreate(validInput({ identifiers: [{ type: 'BARCODE', value: 'TWICE-T' }, { type: 'UNIV_ID', value: 'TWICE-T' }] }));
  expect(twice.message).toBe('Identifier UNIV_ID TWICE-T is given twice');
});

test('R2.2 refuses the same identifier value twice in one input, as CONFLICT naming the value', async () => {
  const error = await refusedCreate(validInput({ identifiers: [{ type: 'BARCODE', value: 'TWICE-1' }, { type: 'UNIV_ID', value: 'TWICE-1' }] }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.identifiers[1].value', value: 'TWICE-1' });
});

test('R2.2 refuses an additional identifier equal to the user’s own primary identifier, as CONFLICT naming the value', async () => {
  const error = await refusedCreate(validInput({ primaryIdentifier: 'selfsame', identifiers: [{ type: 'BARCODE', value: 'SELFSAME' }] }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.identifiers[0].value', value: 'SELFSAME' });
});

test('R2.2 refuses an additional identifier equal to another user’s additional identifier, as CONFLICT naming the value', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'has_barcode', identifiers: [['BARCODE', 'BC-4711']] });
  const error = await refusedCreate(validInput({ identifiers: [{ type: 'UNIV_ID', value: 'U-NEW-1' }, { type: 'BARCODE', value: 'BC-4711' }] }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.identifiers[1].value', value: 'BC-4711' });
});

test('R2.2 refuses a primary identifier equal to another user’s additional identifier, as CONFLICT naming the value', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'has_univ_id', identifiers: [['UNIV_ID', 'u-2024-17']] });
  const error = await refusedCreate(validInput({ primaryIdentifier: 'U-2024-17' }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.primaryIdentifier', value: 'U-2024-17' });
});

test('R2.4 refuses a primary identifier that differs only in case, as CONFLICT naming the value', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'jdoe' });
  const error = await refusedCreate(validInput({ primaryIdentifier: 'JDOE' }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.primaryIdentifier', value: 'JDOE' });
});

test('R2.4 of simultaneous creations with primary identifiers differing only in case, exactly one succeeds; the others are CONFLICT', async () => {
  const before = await userTableCounts(db());
  const results = await Promise.all(['race', 'RACE', 'Race', 'rAcE'].map((primaryIdentifier) => create(validInput({ primaryIdentifier }))));
  const succeeded = results.filter((r) => r.data?.createUser);
  expect(succeeded).toHaveLength(1);
  expect(results.filter((r) => r.errors).map((r) => r.errors![0].extensions?.code)).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT']);
  expect((await userTableCounts(db())).app_user).toBe(before.app_user + 1);
});

test('R2.2 of simultaneous creations with the same additional identifier, exactly one succeeds; the others are CONFLICT', async () => {
  const before = await userTableCounts(db());
  const results = await Promise.all([1, 2, 3, 4].map(() => create(validInput({ identifiers: [{ type: 'BARCODE', value: 'RACE-BC-1' }] }))));
  expect(results.filter((r) => r.data?.createUser)).toHaveLength(1);
  expect(results.filter((r) => r.errors).map((r) => r.errors![0].extensions)).toEqual([1, 2, 3].map(() => expect.objectContaining({ code: 'CONFLICT', value: 'RACE-BC-1' })));
  const after = await userTableCounts(db());
  expect([after.app_user, after.user_identifier]).toEqual([before.app_user + 1, before.user_identifier + 1]);
});

test('R2.4 additional identifiers are case-sensitive: B1 and b1 may both exist', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'holds_B1', identifiers: [['BARCODE', 'B1']] });
  const { user } = await created(validInput({ identifiers: [{ type: 'BARCODE', value: 'b1' }] }));
  expect(user.identifiers).toEqual([expect.objectContaining({ value: 'b1' })]);
});

test('R2.4 refuses an additional identifier equal, in any case, to someone’s primary identifier, as CONFLICT naming the value', async () => {
  await createPerson(db(), inst, { primaryIdentifier: 'kmeyer' });
  const error = await refusedCreate(validInput({ identifiers: [{ type: 'BARCODE', value: 'KMeyer' }] }));
  expect(error.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.identifiers[0].value', value: 'KMeyer' });
});

// ---------------------------------------------------------------- R4.2 who may create

test('R4.2 a CIRCULATION_DESK_OPERATOR may create a patron', async () => {
  const token = await operator('circ_patron', [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']]);
  const { user } = await created(validInput(), token);
  expect(user.createdBy).toBe('circ_patron');
});

test('R4.2 refuses a STAFF user created by an operator with only CIRCULATION_DESK_OPERATOR, as FORBIDDEN', async () => {
  const token = await operator('circ_only', [['CIRCULATION_DESK_OPERATOR', 'MAIN_DESK']]);
  const error = await refusedCreate(validInput({ recordType: 'STAFF' }), token);
  expect(error.extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 refuses createUser by an operator with only FULFILLMENT_SERVICES_OPERATOR, as FORBIDDEN', async () => {
  const token = await operator('fso_only', [['FULFILLMENT_SERVICES_OPERATOR', 'INSTITUTION']]);
  const error = await refusedCreate(validInput(), token);
  expect(error.extensions?.code).toBe('FORBIDDEN');
});

test('R4.2 a USER_ADMINISTRATOR may create users', async () => {
  const token = await operator('ua_create', [['USER_ADMINISTRATOR', 'INSTITUTION']]);
  const { user } = await created(validInput(), token);
  expect(user.createdBy).toBe('ua_create');
});

test('R4.2 a USER_MANAGER may create users', async () => {
  const { user } = await created(validInput());
  expect(user.createdBy).toBe('um_create');
});

test('refuses createUser without a token, as UNAUTHENTICATED', async () => {
  const error = await refusedCreate(validInput(), null);
  expect(error.extensions?.code).toBe('UNAUTHENTICATED');
});

test('R4.5 the name of a protected vendor account is reserved: createUser refuses it, naming the field', async () => {
  const before = await userTableCounts(db());
  const res = await app.gql(`mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } } }`, { in: validInput({ primaryIdentifier: 'exl_newvendor' }) }, manager);
  expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.primaryIdentifier' });
  expect(await userTableCounts(db())).toEqual(before);
});
