import { coerceInputValue, GraphQLError, GraphQLInputType } from 'graphql';
import { loadConfig } from '../../config';
import { Database, openDatabase } from '../../db/connect';
import { Institution } from '../../db/entities';
import { inputCleaner } from '../../common/input-hygiene';
import type { CreateUserInput } from '../../generated/graphql';
import { describeRole } from '../../roles/role-scope';
import { assignRole } from '../../roles/role.service';
import { buildSchema } from '../../schema';
import { createUser } from '../../users/user.service';
import { cliCommand } from '../cli-command';
import { commandLineContext, FIRST_ADMIN_ROLES } from '../command-line-operator';
import { chooseInstitution } from '../institution-option';
import { parseOptions } from '../options';
import { readNewPassword } from '../read-password';
import { findStaffOperator } from '../staff-operators.repository';
import { transactionView } from '../transaction-view';

const USAGE = `usage: npm run carrel -- create-admin --identifier ID --first-name NAME --last-name NAME [--email ADDRESS]
                                     [--institution CODE] [--institution-name NAME]
The first administrator of an institution without operators (a production database, no demo data): a staff user
holding ${FIRST_ADMIN_ROLES.map((r) => r.roleType).join(' and ')} at the institution. Refused once the
institution has any staff operator: later ones are created by an administrator.
  --identifier ID          the administrator's primary identifier, to sign in with
  --first-name, --last-name
  --email ADDRESS          a work email (required when the institution requires one; a new institution does)
  --institution CODE       the institution (default: the only one); created when the database holds none
  --institution-name NAME  the new institution's name (required when it is created)
The password is never an argument: it is CARREL_ADMIN_PASSWORD when set, else typed at the terminal (no echo) or
the first line piped to standard input. At least 8 characters, not containing the identifier.
exit code: 0 when created, 1 when refused or failed, 2 on bad arguments`;

interface CreateAdminArgs {
  identifier: string;
  firstName: string;
  lastName: string;
  email?: string;
  institution?: string;
  institutionName?: string;
}

/** An institution code as the demo's ('DEMO'): what staff type at sign-in when their identifier is in several institutions. */
const INSTITUTION_CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$/;
const MAX_INSTITUTION_NAME = 255;

function parse(argv: string[]): CreateAdminArgs | string {
  const parsed = parseOptions(argv, { values: ['identifier', 'first-name', 'last-name', 'email', 'institution', 'institution-name'] });
  if (typeof parsed === 'string') return parsed;
  const v = parsed.values;
  for (const required of ['identifier', 'first-name', 'last-name']) if (!(required in v)) return `--${required} is required`;
  if (v.institution !== undefined && !INSTITUTION_CODE.test(v.institution)) {
    return '--institution must be a code of 1 to 50 letters, digits, ".", "_" or "-", starting with a letter or digit';
  }
  const name = v['institution-name']?.trim();
  if (name !== undefined && (!name || [...name].length > MAX_INSTITUTION_NAME || /[\p{Cc}\p{Cf}]/u.test(name))) {
    return `--institution-name must be one line of 1 to ${MAX_INSTITUTION_NAME} characters without control or invisible characters`;
  }
  return { identifier: v.identifier, firstName: v['first-name'], lastName: v['last-name'], email: v.email, institution: v.institution, institutionName: name };
}

/** The options the fields of CreateUserInput come from, to name them in a refusal. */
const OPTION_OF: Record<string, string> = {
  primaryIdentifier: '--identifier', firstName: '--first-name', lastName: '--last-name', emails: '--email', password: 'the password',
};

/** A refusal of the services or of the input checks, naming the option instead of the GraphQL input field. */
function refusal(e: GraphQLError): Error {
  const field = typeof e.extensions.field === 'string' ? e.extensions.field : '';
  const option = OPTION_OF[/^input\.(\w+)/.exec(field)?.[1] ?? ''];
  if (!option) return new Error(e.message);
  return new Error(e.message.includes(field) ? e.message.replaceAll(field, option) : `${option}: ${e.message}`);
}

/** The administrator as createUser's input, coerced and cleaned by the API's own input hygiene (lengths, control characters). */
function adminInput(args: CreateAdminArgs, password: string): CreateUserInput {
  const schema = buildSchema();
  const raw = {
    recordType: 'STAFF', primaryIdentifier: args.identifier, firstName: args.firstName, lastName: args.lastName, password,
    emails: args.email === undefined ? [] : [{ address: args.email, type: 'WORK' }],
  };
  let problem: GraphQLError | undefined;
  const coerced = coerceInputValue(raw, schema.getType('CreateUserInput') as GraphQLInputType, (path, _invalid, error) => {
    problem ??= new GraphQLError(error.message, { extensions: { field: ['input', ...path].join('.') } });
  });
  if (problem) throw refusal(problem);
  try {
    return inputCleaner(schema, 'CreateUserInput')(coerced, 'input') as CreateUserInput;
  } catch (e) {
    throw e instanceof GraphQLError ? refusal(e) : e;
  }
}

async function createAdmin(args: CreateAdminArgs): Promise<number> {
  const config = loadConfig(process.env, 'tool');
  const log = (line: string) => console.log(line);
  const password = await readNewPassword(config.adminPassword);
  let db: Database | undefined;
  try {
    const input = adminInput(args, password);
    db = await openDatabase(config, log, 'job');
    log(`database: ${db.description}`);
    const dataSource = db.dataSource;
    const created = await dataSource.transaction(async (tx) => {
      // Two create-admin runs at once would each find no operator: the second waits here, then finds the first's.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('carrel:create-admin'))`);
      let institution = await chooseInstitution(tx, args.institution);
      const newInstitution = !institution;
      if (!institution) {
        if (!args.institution || !args.institutionName) {
          throw new Error('the database holds no institution: give --institution CODE and --institution-name NAME to create it');
        }
        institution = await tx.getRepository(Institution).save(tx.getRepository(Institution).create({ code: args.institution, name: args.institutionName }));
      } else if (args.institutionName !== undefined) {
        throw new Error(`institution ${institution.code} exists already: --institution-name is only for creating one`);
      }
      const operator = await findStaffOperator(tx, institution.id);
      if (operator) {
        throw new Error(`institution ${institution.code} has a staff operator already (${operator}): create-admin makes the first one only; `
          + 'an administrator creates the others, or unlock-user helps one locked out');
      }
      const ctx = commandLineContext(transactionView(dataSource, tx), institution, 'create-admin');
      const { user } = await createUser(ctx, input);
      const roles = [];
      for (const role of FIRST_ADMIN_ROLES) roles.push(await assignRole(ctx, user.id, role));
      return { institution, newInstitution, user, roles };
    }).catch((e: unknown) => {
      throw e instanceof GraphQLError ? refusal(e) : e;
    });
    const { institution, user } = created;
    if (created.newInstitution) log(`created institution ${institution.code} (${institution.name})`);
    log(`created administrator ${user.primaryIdentifier} (user ${user.id}) in institution ${institution.code}, `
      + `holding ${created.roles.map(describeRole).join(', ')}`);
    log(`sign in with identifier ${user.primaryIdentifier} and the password given`);
    return 0;
  } finally {
    await db?.close().catch(() => {});
  }
}

export const createAdminCommand = cliCommand({
  name: 'create-admin',
  summary: 'create the first administrator (and the institution) on a database without operators',
  usage: USAGE,
  parse,
  run: createAdmin,
});
