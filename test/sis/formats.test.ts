import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { formatOf, readRecords, type SisFormat, type SourceRecord } from '../../src/sis/formats/read-records';

/**
 * The readers of `npm run sis:load` (issue 10 item 3): JSON Lines, the
 * documented CSV header and Alma's user XML each yield ExternalUserInput-shaped
 * records with raw values, report an unreadable record at its position and
 * line and go on, and stream: a file of 200,000 users is never held whole.
 */

const EXAMPLES = path.join(__dirname, '../../examples/sis');

async function readAll(input: NodeJS.ReadableStream, format: SisFormat): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  for await (const record of readRecords(input, format)) records.push(record);
  return records;
}

const readText = (text: string, format: SisFormat) => readAll(Readable.from([Buffer.from(text)]), format);
const readExample = (file: string) => readAll(createReadStream(path.join(EXAMPLES, file)), formatOf(file));
const onlyRecord = async (text: string, format: SisFormat) => {
  const [read] = await readText(text, format);
  return read.record;
};

describe('the example files', () => {
  test('the JSON Lines example holds the six example users, one per line', async () => {
    const read = await readExample('users.jsonl');
    expect(read.map((r) => [r.position, r.line, r.record?.primaryIdentifier])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [n, n, `sis-ex-00${n}`]),
    );
    expect(read.every((r) => r.error === undefined)).toBe(true);
  });

  test.each(['users.csv', 'users.xml'])('%s carries exactly the data of users.jsonl', async (file) => {
    const expected = (await readExample('users.jsonl')).map((r) => r.record);
    const read = await readExample(file);
    expect(read.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(read.map((r) => r.record)).toStrictEqual(expected);
  });

  test('the examples include preferred names, two emails, an address, a phone, identifiers, a statistic, a note, dates and a STAFF record', async () => {
    const users = (await readExample('users.jsonl')).map((r) => r.record!);
    expect(users.some((u) => u.preferredFirstName)).toBe(true);
    expect(users.some((u) => (u.emails as unknown[]).length === 2)).toBe(true);
    for (const list of ['addresses', 'phones', 'statistics', 'notes']) expect(users.some((u) => u[list])).toBe(true);
    expect(users.some((u) => (u.identifiers as { type: string }[] | undefined)?.map((i) => i.type).join() === 'BARCODE,UNIV_ID')).toBe(true);
    expect(users.some((u) => u.expiryDate && u.purgeDate)).toBe(true);
    expect(users.some((u) => u.recordType === 'STAFF')).toBe(true);
  });
});

describe('formatOf', () => {
  test.each([
    ['users.jsonl', 'jsonl'], ['users.ndjson', 'jsonl'], ['USERS.CSV', 'csv'], ['/exports/alma/users.xml', 'xml'],
  ])('%s is read as %s', (file, format) => {
    expect(formatOf(file)).toBe(format);
  });

  test('--format overrides the extension', () => {
    expect(formatOf('export.txt', 'xml')).toBe('xml');
    expect(formatOf('users.csv', 'JSONL')).toBe('jsonl');
  });

  test('an unknown extension is refused, naming the formats', () => {
    expect(() => formatOf('users.json')).toThrow(/\.jsonl\/\.ndjson, \.csv or \.xml, or give --format jsonl\|csv\|xml/);
  });

  test('an unknown --format is refused, naming the formats', () => {
    expect(() => formatOf('users.csv', 'marc')).toThrow('Unknown format "marc": the formats are jsonl, csv, xml');
  });
});

describe('JSON Lines', () => {
  test('a line that is not JSON, or not an object, is reported at its position and line, and the next lines are read', async () => {
    const read = await readText('{"primaryIdentifier":"a"}\n\n{"primaryIdentifier":\n[1]\r\nnull\n{"primaryIdentifier":"b"}\n', 'jsonl');
    expect(read.map(({ position, line, record, error }) => ({ position, line, record, error: error?.split(':')[0] }))).toEqual([
      { position: 1, line: 1, record: { primaryIdentifier: 'a' }, error: undefined },
      { position: 2, line: 3, record: undefined, error: 'Not valid JSON' },
      { position: 3, line: 4, record: undefined, error: 'Expected a JSON object (one user per line), got an array' },
      { position: 4, line: 5, record: undefined, error: 'Expected a JSON object (one user per line), got null' },
      { position: 5, line: 6, record: { primaryIdentifier: 'b' }, error: undefined },
    ]);
  });

  test('values pass as written: the domain rules judge them later', async () => {
    expect(await onlyRecord('{"primaryIdentifier":" x ","status":"SOMETIMES","emails":"none"}', 'jsonl')).toEqual({
      primaryIdentifier: ' x ', status: 'SOMETIMES', emails: 'none',
    });
  });
});

describe('CSV', () => {
  test('numbered columns make the lists, the first item given is preferred, and empty cells are absent', async () => {
    const csv = [
      'primaryIdentifier,firstName,middleName,resourceSharingLibraries,email1,email1Type,email2,email2Type,email3,email3Type,'
        + 'phone2,phone2Type,identifier1Type,identifier1Value,note1Text,note1Popup,note1UserViewable,address1Line1,address1Type',
      'p1,Ann,,MAIN; LAW;,,,a@example.edu,SCHOOL,b@example.org,PERSONAL,555 0100,HOME,BARCODE,123,Hello,TRUE,false,1 Main St,WORK',
    ].join('\n');
    expect(await onlyRecord(csv, 'csv')).toStrictEqual({
      primaryIdentifier: 'p1',
      firstName: 'Ann',
      resourceSharingLibraries: ['MAIN', 'LAW'],
      emails: [{ address: 'a@example.edu', type: 'SCHOOL', preferred: true }, { address: 'b@example.org', type: 'PERSONAL', preferred: false }],
      phones: [{ number: '555 0100', type: 'HOME', preferred: true }],
      addresses: [{ line1: '1 Main St', type: 'WORK', preferred: true }],
      identifiers: [{ type: 'BARCODE', value: '123' }],
      notes: [{ text: 'Hello', popup: true, userViewable: false }],
    });
  });

  test('a row with too few or too many cells is reported at its position and line, and the next rows are read', async () => {
    const csv = 'primaryIdentifier,firstName,lastName\r\na,Ann,Lee\r\nb,Bob\r\n\r\nc,"Cy\r\nTwo",Ray\r\nd,Di,Ng,extra\r\ne,Eve,Ho\r\n';
    const read = await readText(csv, 'csv');
    expect(read.map(({ position, line, record, error }) => ({ position, line, id: record?.primaryIdentifier, error }))).toEqual([
      { position: 1, line: 2, id: 'a', error: undefined },
      { position: 2, line: 3, id: undefined, error: 'The row has 2 cells where the header has 3 columns' },
      { position: 3, line: 5, id: 'c', error: undefined },
      { position: 4, line: 7, id: undefined, error: 'The row has 4 cells where the header has 3 columns' },
      { position: 5, line: 8, id: 'e', error: undefined },
    ]);
  });

  test('a header with unknown columns is refused as a whole, listing them', async () => {
    await expect(readText('primaryIdentifier,firstname,email4,lastName\np,A,a@example.edu,B\n', 'csv')).rejects.toThrow(
      'CSV header refused: unknown columns "firstname", "email4"',
    );
  });

  test('a header naming a column twice is refused', async () => {
    await expect(readText('primaryIdentifier,lastName,lastName\np,A,B\n', 'csv')).rejects.toThrow('columns given twice lastName');
  });

  test('a UTF-8 byte order mark (spreadsheet exports) is not part of the first column name', async () => {
    expect(await onlyRecord('\uFEFFprimaryIdentifier,firstName\np,Zoë\n', 'csv')).toEqual({ primaryIdentifier: 'p', firstName: 'Zoë' });
  });
});

const almaUser = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<users>\n<user>\n<primary_id>p1</primary_id>\n${inner}\n</user>\n</users>\n`;

describe("Alma's user XML", () => {
  test('Alma dates with a time zone (2027-06-30Z) become plain dates', async () => {
    const record = await onlyRecord(almaUser('<expiry_date>2027-06-30Z</expiry_date><purge_date>2028-01-31+01:00</purge_date><birth_date>2001-02-03</birth_date>'), 'xml');
    expect(record).toEqual({ primaryIdentifier: 'p1', expiryDate: '2027-06-30', purgeDate: '2028-01-31', birthDate: '2001-02-03' });
  });

  test('a <user> with an unparseable date is reported at its position and line, and the next users are read', async () => {
    const xml = '<users>\n  <user><primary_id>a</primary_id></user>\n  <user>\n    <primary_id>b</primary_id>\n    <expiry_date>30/06/2027</expiry_date>\n  </user>\n'
      + '  <user><primary_id>c</primary_id></user>\n</users>';
    const read = await readText(xml, 'xml');
    expect(read.map(({ position, line, record, error }) => ({ position, line, id: record?.primaryIdentifier, error }))).toEqual([
      { position: 1, line: 2, id: 'a', error: undefined },
      { position: 2, line: 3, id: undefined, error: '<expiry_date> "30/06/2027" is not a date (YYYY-MM-DD, optionally with a time zone)' },
      { position: 3, line: 7, id: 'c', error: undefined },
    ]);
  });

  test('Internal items are Alma\'s own and are skipped; External ones and unmarked ones are the SIS\'s', async () => {
    const record = await onlyRecord(almaUser(`
      <contact_info><emails>
        <email preferred="true" segment_type="Internal"><email_address>staff-set@example.edu</email_address><email_types><email_type>work</email_type></email_types></email>
        <email preferred="false" segment_type="External"><email_address>sis@example.edu</email_address><email_types><email_type>school</email_type></email_types></email>
      </emails></contact_info>
      <user_identifiers>
        <user_identifier segment_type="Internal"><id_type>BARCODE</id_type><value>internal-1</value></user_identifier>
        <user_identifier><id_type>UNIV_ID</id_type><value>U1</value><note>from the registrar</note></user_identifier>
      </user_identifiers>
      <user_notes><user_note segment_type="Internal" user_viewable="false" popup_note="true"><note_type>GENERAL</note_type><note_text>Staff only</note_text></user_note></user_notes>
      <user_statistics><user_statistic segment_type="Internal"><statistic_category>DEPT_LAW</statistic_category><category_type>FACULTY_DEPT</category_type></user_statistic></user_statistics>`), 'xml');
    expect(record).toStrictEqual({
      primaryIdentifier: 'p1',
      emails: [{ address: 'sis@example.edu', type: 'SCHOOL', preferred: false }],
      identifiers: [{ type: 'UNIV_ID', value: 'U1', note: 'from the registrar' }],
    });
  });

  test("Alma's type codes become Carrel's, the first type is taken, and address lines 4 and 5 join line 3", async () => {
    const record = await onlyRecord(almaUser(`
      <user_group desc="Undergraduate">UNDERGRAD</user_group>
      <contact_info>
        <addresses><address preferred="true" segment_type="External">
          <line1>Dept. of History</line1><line2>Box 7</line2><line3>Hall A</line3><line4>Room 3</line4><line5>Desk 2</line5>
          <city>Springfield</city><country desc="United States">USA</country><address_note>term time</address_note>
          <start_date>2026-09-01Z</start_date>
          <address_types><address_type desc="Work">work</address_type><address_type>home</address_type></address_types>
        </address></addresses>
        <phones><phone preferred="true" preferred_sms="true"><phone_number>555 0199</phone_number><phone_types><phone_type>officeFax</phone_type></phone_types></phone></phones>
      </contact_info>
      <user_roles><user_role><role_type>200</role_type></user_role></user_roles>
      <rs_libraries><rs_library><code>MAIN</code></rs_library><rs_library><code>LAW</code></rs_library></rs_libraries>
      <user_notes><user_note user_viewable="true" popup_note="false"><note_text><![CDATA[Uses <b>large print</b>]]></note_text></user_note></user_notes>`), 'xml');
    expect(record).toStrictEqual({
      primaryIdentifier: 'p1',
      userGroup: 'UNDERGRAD',
      resourceSharingLibraries: ['MAIN', 'LAW'],
      addresses: [{
        type: 'WORK', line1: 'Dept. of History', line2: 'Box 7', line3: 'Hall A, Room 3, Desk 2', city: 'Springfield', country: 'USA',
        note: 'term time', preferred: true, startDate: '2026-09-01',
      }],
      phones: [{ number: '555 0199', type: 'OFFICE_FAX', preferred: true }],
      notes: [{ text: 'Uses <b>large print</b>', popup: false, userViewable: true }],
    });
  });

  test('a file that is not well-formed ends the reading with an error naming the line', async () => {
    const xml = '<users>\n<user><primary_id>a</primary_id></user>\n<user><primary_id>b</primary_id></usr>\n</users>';
    const seen: SourceRecord[] = [];
    await expect((async () => {
      for await (const record of readRecords(Readable.from([xml]), 'xml')) seen.push(record);
    })()).rejects.toThrow(/^The XML is not well-formed at line 3, column \d+: /);
    expect(seen.map((r) => r.record?.primaryIdentifier)).toEqual(['a']);
  });

  test('elements in a namespace are read by their local names', async () => {
    const xml = '<users xmlns="http://com/exlibris/urm/user_record/xmlbeans"><user><primary_id>a</primary_id></user></users>';
    const prefixed = '<u:users xmlns:u="urn:alma"><u:user><u:primary_id>b</u:primary_id></u:user></u:users>';
    expect(await onlyRecord(xml, 'xml')).toEqual({ primaryIdentifier: 'a' });
    expect(await onlyRecord(prefixed, 'xml')).toEqual({ primaryIdentifier: 'b' });
  });

  test('a file whose root is not <users> is refused', async () => {
    await expect(readText('<patrons><user/></patrons>', 'xml')).rejects.toThrow("Expected Alma's <users> as the root element, found <patrons>");
  });
});

/*
 * Streaming: a generated file of 200,000 users is produced only as the reader
 * asks for it, and the consumer lets the event loop run between records (a
 * source that ignored backpressure would flood in then). At every record the
 * producer is ahead of the consumer by a bounded number of users (the
 * stream's and the parser's buffers), whatever the file's length, and the
 * heap that survives a full collection does not grow with the users read.
 */
describe('streaming', () => {
  const USERS = 200_000;
  const PER_CHUNK = 100;
  const MAX_READ_AHEAD = 5_000;
  // The 200,000 records alone would take well over 100 MiB.
  const MAX_RETAINED_GROWTH = 16 * 1024 * 1024;

  v8.setFlagsFromString('--expose-gc');
  const collectGarbage = vm.runInNewContext('gc') as () => void;
  const retainedHeap = () => {
    collectGarbage();
    return process.memoryUsage().heapUsed;
  };

  const user = (n: number) => ({ id: `gen-${n}`, first: 'Gen', last: `User ${n}`, group: 'UNDERGRAD', email: `gen${n}@example.edu` });
  type User = ReturnType<typeof user>;
  const FORMATS: Record<SisFormat, { head: string; row: (u: User) => string; tail: string }> = {
    jsonl: {
      head: '',
      row: (u) => `${JSON.stringify({ primaryIdentifier: u.id, firstName: u.first, lastName: u.last, userGroup: u.group, emails: [{ address: u.email, type: 'SCHOOL' }] })}\n`,
      tail: '',
    },
    csv: {
      head: 'primaryIdentifier,firstName,lastName,userGroup,email1,email1Type\n',
      row: (u) => `${u.id},${u.first},${u.last},${u.group},${u.email},SCHOOL\n`,
      tail: '',
    },
    xml: {
      head: '<?xml version="1.0" encoding="UTF-8"?>\n<users>\n',
      row: (u) => `<user><primary_id>${u.id}</primary_id><first_name>${u.first}</first_name><last_name>${u.last}</last_name>`
        + `<user_group>${u.group}</user_group><contact_info><emails><email preferred="true"><email_address>${u.email}</email_address>`
        + '<email_types><email_type>school</email_type></email_types></email></emails></contact_info></user>\n',
      tail: '</users>\n',
    },
  };

  /** The file as a byte stream that makes each chunk of users only when it is read; `produced` counts the users made so far. */
  function generatedFile(format: SisFormat) {
    const counter = { produced: 0 };
    const { head, row, tail } = FORMATS[format];
    function* chunks() {
      yield Buffer.from(head);
      for (let first = 1; first <= USERS; first += PER_CHUNK) {
        let text = '';
        for (let n = first; n < first + PER_CHUNK; n += 1) text += row(user(n));
        counter.produced = first + PER_CHUNK - 1;
        yield Buffer.from(text);
      }
      yield Buffer.from(tail);
    }
    return { stream: Readable.from(chunks(), { objectMode: false }), counter };
  }

  test.each(['jsonl', 'csv', 'xml'] as SisFormat[])('%s: 200,000 users are read with bounded read-ahead and flat memory', async (format) => {
    const { stream, counter } = generatedFile(format);
    let read = 0;
    let errors = 0;
    let last: unknown;
    let maxAhead = 0;
    let baseline = 0;
    let peak = 0;
    for await (const { position, record, error } of readRecords(stream, format)) {
      read += 1;
      if (error !== undefined) errors += 1;
      last = record?.primaryIdentifier;
      maxAhead = Math.max(maxAhead, counter.produced - position);
      if (position % 20_000 === 0) {
        if (position === 20_000) baseline = retainedHeap();
        else peak = Math.max(peak, retainedHeap());
      }
      if (position % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect({ read, errors, last }).toEqual({ read: USERS, errors: 0, last: `gen-${USERS}` });
    expect(maxAhead).toBeLessThanOrEqual(MAX_READ_AHEAD);
    expect(peak - baseline).toBeLessThan(MAX_RETAINED_GROWTH);
    console.log(`${format}: ${USERS} users; producer at most ${maxAhead} users ahead; retained heap ${((peak - baseline) / 1048576).toFixed(1)} MiB above its level at 20,000 users`);
  });
});
