/**
 * The documented CSV header of `npm run sis:load`: one row per user, the
 * columns named after `ExternalUserInput`'s fields. Any subset of the columns
 * may be given, in any order; an empty cell is an absent value.
 *
 * - Scalars: primaryIdentifier, recordType, firstName, middleName, lastName,
 *   preferredFirstName, preferredMiddleName, preferredLastName, title,
 *   pinNumber, jobCategory, jobDescription, gender, userGroup, campus,
 *   websiteUrl, preferredLanguage, status, birthDate, expiryDate, purgeDate,
 *   catalogerLevel (dates as YYYY-MM-DD).
 * - Lists, `;`-separated: resourceSharingLibraries, purchaseRequestLibraries,
 *   patronLetters.
 * - Repeated groups, numbered 1 to 3 (`N`); the first item given is the
 *   preferred one where Carrel has a preferred flag:
 *   emailN, emailNType, emailNDescription;
 *   phoneN, phoneNType;
 *   addressNLine1, addressNLine2, addressNLine3, addressNCity,
 *   addressNStateProvince, addressNPostalCode, addressNCountry, addressNType,
 *   addressNNote, addressNStartDate, addressNEndDate;
 *   identifierNType, identifierNValue, identifierNNote;
 *   statisticNCategoryType, statisticNCategory, statisticNNote;
 *   noteNText, noteNType, noteNPopup, noteNUserViewable (true or false).
 *
 * A header naming anything else is refused as a whole: a misspelt column
 * would otherwise clear that field of every user in the file.
 */

export const REPEATED_GROUP_SIZE = 3;

const SCALARS = [
  'primaryIdentifier', 'recordType', 'firstName', 'middleName', 'lastName', 'preferredFirstName', 'preferredMiddleName',
  'preferredLastName', 'title', 'pinNumber', 'jobCategory', 'jobDescription', 'gender', 'userGroup', 'campus', 'websiteUrl',
  'preferredLanguage', 'status', 'birthDate', 'expiryDate', 'purgeDate', 'catalogerLevel',
];

const LISTS = ['resourceSharingLibraries', 'purchaseRequestLibraries', 'patronLetters'];

interface Group {
  /** The ExternalUserInput list field. */
  field: string;
  /** The column names' stem: `email` gives email1, email1Type ... */
  prefix: string;
  /** Column suffix -> the item's input field. */
  columns: Record<string, string>;
  /** Item fields given as true/false. */
  booleans?: string[];
  /** Whether the items carry a preferred flag (the first one given is preferred). */
  preferred?: boolean;
}

const GROUPS: Group[] = [
  { field: 'emails', prefix: 'email', columns: { '': 'address', Type: 'type', Description: 'description' }, preferred: true },
  { field: 'phones', prefix: 'phone', columns: { '': 'number', Type: 'type' }, preferred: true },
  {
    field: 'addresses',
    prefix: 'address',
    columns: {
      Line1: 'line1', Line2: 'line2', Line3: 'line3', City: 'city', StateProvince: 'stateProvince', PostalCode: 'postalCode',
      Country: 'country', Type: 'type', Note: 'note', StartDate: 'startDate', EndDate: 'endDate',
    },
    preferred: true,
  },
  { field: 'identifiers', prefix: 'identifier', columns: { Type: 'type', Value: 'value', Note: 'note' } },
  { field: 'statistics', prefix: 'statistic', columns: { CategoryType: 'categoryType', Category: 'category', Note: 'note' } },
  { field: 'notes', prefix: 'note', columns: { Text: 'text', Type: 'type', Popup: 'popup', UserViewable: 'userViewable' }, booleans: ['popup', 'userViewable'] },
];

/** A user being assembled from its row: the top-level fields and each group's items by number. */
interface Draft {
  fields: Record<string, unknown>;
  items: Map<Group, Record<string, unknown>[]>;
}

type Column = (draft: Draft, cell: string) => void;

/** true/false as booleans; anything else is passed on as written, for the GraphQL coercion to refuse. */
function flag(cell: string): boolean | string {
  const lower = cell.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : cell;
}

function groupColumns(group: Group): [string, Column][] {
  const columns: [string, Column][] = [];
  for (let n = 1; n <= REPEATED_GROUP_SIZE; n += 1) {
    for (const [suffix, field] of Object.entries(group.columns)) {
      const convert = group.booleans?.includes(field) ? flag : (cell: string) => cell;
      columns.push([`${group.prefix}${n}${suffix}`, (draft, cell) => {
        const items = draft.items.get(group) ?? [];
        draft.items.set(group, items);
        items[n - 1] = { ...items[n - 1], [field]: convert(cell) };
      }]);
    }
  }
  return columns;
}

const COLUMNS = new Map<string, Column>([
  ...SCALARS.map((field): [string, Column] => [field, (draft, cell) => { draft.fields[field] = cell; }]),
  ...LISTS.map((field): [string, Column] => [field, (draft, cell) => {
    const codes = cell.split(';').map((code) => code.trim()).filter((code) => code !== '');
    if (codes.length > 0) draft.fields[field] = codes;
  }]),
  ...GROUPS.flatMap(groupColumns),
]);

/** Every column the header may name, in the documented order. */
export const CSV_COLUMNS: readonly string[] = [...COLUMNS.keys()];

/** Refuses a header with unknown or repeated column names, listing them all; returns it unchanged otherwise. */
export function checkCsvHeader(header: string[]): string[] {
  const unknown = header.filter((name) => !COLUMNS.has(name));
  const repeated = header.filter((name, i) => header.indexOf(name) !== i);
  const problems = [
    unknown.length > 0 ? `unknown columns ${unknown.map((name) => JSON.stringify(name)).join(', ')}` : null,
    repeated.length > 0 ? `columns given twice ${[...new Set(repeated)].join(', ')}` : null,
  ].filter((problem) => problem !== null);
  if (problems.length > 0) {
    throw new Error(`CSV header refused: ${problems.join('; ')}. The columns are documented in src/sis/formats/csv-columns.ts (e.g. primaryIdentifier, firstName, email1, email1Type)`);
  }
  return header;
}

/** One row (column name -> cell) as an ExternalUserInput-shaped record; the header was checked first. */
export function recordFromRow(row: Record<string, string>): Record<string, unknown> {
  const draft: Draft = { fields: {}, items: new Map() };
  for (const [name, cell] of Object.entries(row)) {
    if (cell.trim() !== '') COLUMNS.get(name)!(draft, cell);
  }
  for (const group of GROUPS) {
    const items = draft.items.get(group)?.filter((item) => item !== undefined);
    if (!items) continue;
    draft.fields[group.field] = group.preferred ? items.map((item, i) => ({ ...item, preferred: i === 0 })) : items;
  }
  return draft.fields;
}
