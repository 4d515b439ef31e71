import { DEMO_OPERATORS, ScopeRef } from './demo-operators';
import { DemoReference, LibraryCode } from './demo-reference';
import { Row } from './insert-rows';
import { slug } from './names';
import { emailDomain, Person, personColumns, pickUserGroup, randomAddress, randomPerson, randomPhone, USER_GROUP_WEIGHTS } from './person';
import { Rng } from './prng';
import { INSTITUTION_SCOPE, NO_SCOPE, RowBuilder, Scope } from './row-builder';
import { daysFrom, isoDay } from './values';

type AccountType = 'INTERNAL' | 'EXTERNAL' | 'INTERNAL_WITH_EXTERNAL_AUTH';

/** A patron the activity generator (fines, blocks, loans...) can pick from. */
export interface DemoPatron {
  id: string;
  userGroup: string;
  /** ACTIVE and not expired (R1.5): the only ones that get loans and proxies. */
  usable: boolean;
}

export interface DemoPeople {
  patrons: DemoPatron[];
  staffIds: string[];
  contactIds: string[];
}

// Generated staff, besides the five demo operators and three vendor accounts.
const STAFF_COUNT = 25;
const PATRON_COUNT = 170;

interface AccountSpec {
  recordType: 'PUBLIC' | 'STAFF';
  accountType?: AccountType;
  userGroup: string | null;
  person: Person;
  /** A fixed primary identifier (operators, vendor accounts); otherwise derived from the name. */
  identifier?: string;
  fields?: Row<'app_user'>;
}

/**
 * Adds a non-contact user with the identifiers and contact details every such
 * user has. Keeps the set of identifier values already used, lower-cased,
 * because a primary identifier collides case-insensitively with any other
 * identifier value (R2.2, R2.4, the carrel_identifier_clash trigger).
 */
function accountFactory(b: RowBuilder, rng: Rng, today: Date) {
  const taken = new Set<string>();
  const mailboxes = new Set<string>();
  let nextBarcode = 100_001;

  const claim = (value: string): boolean => {
    const key = value.toLowerCase();
    if (taken.has(key)) return false;
    taken.add(key);
    return true;
  };
  const unique = (make: () => string): string => {
    for (;;) {
      const value = make();
      if (claim(value)) return value;
    }
  };

  return (spec: AccountSpec): string => {
    const p = spec.person;
    const accountType = spec.accountType ?? 'INTERNAL';
    const external = accountType === 'EXTERNAL';
    if (spec.identifier && !claim(spec.identifier)) throw new Error(`demo identifier ${spec.identifier} used twice`);
    const primary = spec.identifier ?? unique(() => `${slug(p.firstName)[0]}${slug(p.lastName)}${rng.int(1, 999)}`);

    const id = b.user({
      record_type: spec.recordType, account_type: accountType, external_owner: external ? 'SIS' : null,
      primary_identifier: primary, user_group: spec.userGroup, ...personColumns(p), ...spec.fields,
    });

    b.identifier(id, 'BARCODE', unique(() => `B${String(nextBarcode++).padStart(9, '0')}`), external);
    if (spec.recordType === 'STAFF') {
      b.identifier(id, 'INST_ID', unique(() => `E${rng.int(10_000, 99_999)}`), external);
    } else if (['UNDERGRAD', 'GRAD', 'FACULTY'].includes(spec.userGroup ?? '')) {
      const year = today.getUTCFullYear() - rng.int(0, 5);
      b.identifier(id, 'UNIV_ID', unique(() => `U${year}${rng.int(1000, 9999)}`), external);
    }

    const { domain, emailType } = emailDomain(spec.recordType === 'STAFF' ? null : spec.userGroup);
    const base = spec.identifier ?? `${slug(p.firstName)}.${slug(p.lastName)}`;
    let mailbox = base;
    for (let n = 2; mailboxes.has(mailbox); n++) mailbox = `${base}${n}`;
    mailboxes.add(mailbox);
    b.email(id, `${mailbox}@${domain}`, emailType, true, external);

    if (spec.recordType === 'STAFF') {
      if (rng.chance(0.8)) b.phone(id, randomPhone(rng), 'OFFICE', true);
      if (rng.chance(0.3)) b.address(id, randomAddress(rng, 'HOME'), true);
    } else {
      if (rng.chance(0.6)) {
        b.phone(id, randomPhone(rng), 'MOBILE', true, external);
        if (rng.chance(0.15)) b.phone(id, randomPhone(rng), 'HOME', false);
      }
      if (rng.chance(0.7)) {
        b.address(id, randomAddress(rng, 'HOME'), true, external);
        if (spec.userGroup === 'UNDERGRAD' && rng.chance(0.3)) b.address(id, randomAddress(rng, 'SCHOOL'), false);
      }
    }
    return id;
  };
}

function resolveScope(ref: DemoReference, scope: ScopeRef): Scope {
  if (scope === 'INSTITUTION') return INSTITUTION_SCOPE;
  if (scope.endsWith('_DESK')) return ref.libraries[scope.slice(0, -'_DESK'.length) as LibraryCode].deskScope;
  return ref.libraries[scope as LibraryCode].scope;
}

/** Job categories with the roles that go with them; staff cycle through these and the libraries. */
const STAFF_PLANS: { job: string; description: string; roles: (lib: LibraryCode) => [string, ScopeRef][] }[] = [
  { job: 'CIRC_ASSISTANT', description: 'Circulation assistant',
    roles: (lib) => [['CIRCULATION_DESK_OPERATOR', `${lib}_DESK`], ['FULFILLMENT_SERVICES_OPERATOR', lib]] },
  { job: 'LIBRARIAN', description: 'Access services librarian',
    roles: (lib) => [['CIRCULATION_DESK_MANAGER', lib], ['FULFILLMENT_SERVICES_MANAGER', lib]] },
  { job: 'CIRC_ASSISTANT', description: 'Evening desk supervisor', roles: (lib) => [['CIRCULATION_DESK_MANAGER', `${lib}_DESK`]] },
  { job: 'LIBRARIAN', description: 'Subject librarian', roles: (lib) => [['SELECTOR', lib], ['COURSE_RESERVES_MANAGER', lib]] },
  { job: 'CATALOGER', description: 'Metadata librarian', roles: () => [['CATALOGER', 'INSTITUTION']] },
  { job: 'LIBRARIAN', description: 'Acquisitions librarian', roles: (lib) => [['ACQUISITIONS_OPERATOR', lib], ['SUPER_SELECTOR', lib]] },
  { job: 'ADMIN', description: 'Head of user services', roles: () => [['USER_MANAGER', 'INSTITUTION'], ['FULFILLMENT_ADMINISTRATOR', 'INSTITUTION']] },
  { job: 'SYSTEMS', description: 'Library systems analyst',
    roles: () => [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION'], ['USER_ADMINISTRATOR', 'INSTITUTION']] },
];

const LIBRARY_ROTATION: LibraryCode[] = ['MAIN', 'LAW', 'SCI'];

export function addDemoUsers(b: RowBuilder, ref: DemoReference, rng: Rng, passwordHash: string, today: Date): DemoPeople {
  const addAccount = accountFactory(b, rng, today);
  const staffIds: string[] = [];
  const grant = (userId: string, roles: readonly (readonly [string, ScopeRef])[]) => {
    for (const [roleType, scope] of roles) b.role(userId, roleType, resolveScope(ref, scope));
  };
  const fixedPerson = (firstName: string, lastName: string): Person => ({
    ...randomPerson(rng, today, 'STAFF'), firstName, lastName, middleName: null, preferredFirstName: null, preferredLastName: null,
  });

  for (const op of DEMO_OPERATORS) {
    const id = addAccount({
      recordType: 'STAFF', userGroup: 'STAFF', identifier: op.identifier, person: fixedPerson(op.firstName, op.lastName),
      fields: { password_hash: passwordHash, password_changed_at: today, job_description: 'Demo operator' },
    });
    grant(id, op.roles);
    staffIds.push(id);
  }

  // Protected vendor accounts (R4.5): present so that the protection can be seen to work.
  const vendors: [string, string, string, [string, ScopeRef][]][] = [
    ['exl_impl', 'Ex Libris', 'Implementation', [['GENERAL_SYSTEM_ADMINISTRATOR', 'INSTITUTION']]],
    ['leganto_guest', 'Leganto', 'Guest', [['INSTRUCTOR', 'INSTITUTION']]],
    ['exl_api', 'Ex Libris', 'API', []],
  ];
  for (const [identifier, firstName, lastName, roles] of vendors) {
    const id = addAccount({ recordType: 'STAFF', userGroup: null, identifier, person: fixedPerson(firstName, lastName) });
    grant(id, roles);
    staffIds.push(id);
  }

  for (let i = 0; i < STAFF_COUNT; i++) {
    const plan = STAFF_PLANS[i % STAFF_PLANS.length];
    const lib = LIBRARY_ROTATION[i % LIBRARY_ROTATION.length];
    const former = i === STAFF_COUNT - 1;
    const id = addAccount({
      recordType: 'STAFF', userGroup: 'STAFF', person: randomPerson(rng, today, 'STAFF'),
      accountType: rng.chance(0.2) ? 'INTERNAL_WITH_EXTERNAL_AUTH' : 'INTERNAL',
      fields: {
        job_category: plan.job, job_description: plan.description, campus: rng.pick(['NORTH', 'SOUTH']),
        cannot_edit_restricted_users: plan.job === 'CIRC_ASSISTANT' && i % 2 === 0,
        ...(former ? { status: 'INACTIVE', status_date: daysFrom(today, -120) } : {}),
      },
    });
    grant(id, [...plan.roles(lib), ['PATRON', 'INSTITUTION']]);
    // One role still waiting for a scope, saved inactive (R4.3).
    if (i === 4) b.role(id, 'CATALOG_ADMINISTRATOR', NO_SCOPE);
    staffIds.push(id);
  }

  const patrons = addPatrons(addAccount, b, rng, today);
  const contactIds = addContacts(b, rng);
  return { patrons, staffIds, contactIds };
}

const LANGUAGES = [['en', 85], ['es', 5], ['fr', 4], ['de', 3], ['zh', 3]] as const;

function addPatrons(addAccount: ReturnType<typeof accountFactory>, b: RowBuilder, rng: Rng, today: Date): DemoPatron[] {
  const indexes = Array.from({ length: PATRON_COUNT }, (_, i) => i);
  const inactive = new Set(rng.sample(indexes, 4));
  const restricted = new Set(rng.sample(indexes, 2));
  const patrons: DemoPatron[] = [];

  for (let i = 0; i < PATRON_COUNT; i++) {
    const userGroup = pickUserGroup(rng, Object.keys(USER_GROUP_WEIGHTS));
    const sisManaged = ['UNDERGRAD', 'GRAD', 'FACULTY'].includes(userGroup);
    const accountType: AccountType = !sisManaged
      ? 'INTERNAL'
      : rng.weighted([['INTERNAL', 70], ['EXTERNAL', 25], ['INTERNAL_WITH_EXTERNAL_AUTH', 5]] as const);
    const expiryOffset = rng.chance(0.08) ? -rng.int(1, 400) : userGroup === 'COMMUNITY' ? rng.int(30, 365) : rng.int(60, 4 * 365);
    const status = inactive.has(i) ? 'INACTIVE' : 'ACTIVE';

    const id = addAccount({
      recordType: 'PUBLIC', accountType, userGroup, person: randomPerson(rng, today, userGroup),
      fields: {
        campus: rng.pick(['NORTH', 'SOUTH']),
        title: userGroup === 'FACULTY' ? rng.pick(['Dr.', 'Prof.']) : null,
        pin_number: rng.chance(0.3) ? String(rng.int(0, 9999)).padStart(4, '0') : null,
        preferred_language: rng.weighted(LANGUAGES),
        status,
        status_date: status === 'INACTIVE' ? daysFrom(today, -rng.int(10, 200)) : today,
        expiry_date: isoDay(today, expiryOffset),
        // Expired patrons become purgeable six months later, so the purge job has candidates (R10.4).
        purge_date: expiryOffset < 0 ? isoDay(today, expiryOffset + 180) : null,
        last_patron_activity_date: rng.chance(0.75) ? isoDay(today, -rng.int(0, 365)) : null,
        is_restricted: restricted.has(i),
      },
    });
    b.role(id, 'PATRON', INSTITUTION_SCOPE);
    patrons.push({ id, userGroup, usable: status === 'ACTIVE' && expiryOffset > 0 });
  }
  return patrons;
}

/** Vendor contacts (R1.1): contact details and notes only; one is an organisation with no person's name. */
function addContacts(b: RowBuilder, rng: Rng): string[] {
  const contacts: [string | null, string | null, string, string][] = [
    ['Priya', 'Raman', 'priya.raman@bookvendor.example.com', 'Account manager, Meridian Books'],
    ['Graham', 'Ellison', 'g.ellison@periodicals.example.net', 'Subscriptions, Northway Periodicals'],
    [null, null, 'orders@bindery.example.org', 'Harbor Bindery order desk'],
  ];
  return contacts.map(([first, last, email, description]) => {
    const id = b.user({ record_type: 'CONTACT', account_type: 'INTERNAL', first_name: first, last_name: last, job_description: description });
    b.email(id, email, 'WORK', true);
    b.phone(id, randomPhone(rng), 'OFFICE', true);
    if (first === null) b.phone(id, randomPhone(rng), 'OFFICE_FAX', false);
    return id;
  });
}
