import { StringDecoder } from 'node:string_decoder';
import { SaxesParser } from 'saxes';
import { AlmaValueError, almaUserRecord, type XmlElement } from './alma-user';
import type { SourceRecord } from './source-record';

/**
 * Alma's user XML, `<users><user>...</user></users>`, read with saxes as the
 * file arrives: each chunk is fed to the parser and the users it completed
 * are yielded before the next chunk is read, so only one chunk and one user's
 * elements are held at a time. A file that is not well-formed ends the
 * iteration with an error naming the line; a <user> with an unreadable value
 * is reported and the rest of the file still loads.
 */
export async function* readAlmaXml(input: NodeJS.ReadableStream): AsyncGenerator<SourceRecord> {
  const users = almaUserParser();
  const decoder = new StringDecoder('utf8');
  for await (const chunk of input) yield* feed(users, typeof chunk === 'string' ? chunk : decoder.write(chunk));
  yield* feed(users, decoder.end());
  yield* feed(users, null);
}

/**
 * Gives the parser the next text (null: the end) and yields the users it
 * completed, also when the text breaks the file: the users before the break
 * are reported before its error.
 */
function* feed(users: ReturnType<typeof almaUserParser>, text: string | null): Generator<SourceRecord> {
  try {
    if (text === null) users.close();
    else if (text !== '') users.write(text);
  } finally {
    yield* users.take();
  }
}

/** Names without their namespace prefix: exports differ in whether they qualify Alma's elements. */
const localName = (name: string) => name.slice(name.indexOf(':') + 1);

function almaUserParser() {
  const parser = new SaxesParser();
  const done: SourceRecord[] = [];
  /**
   * The user whose end tag was just read. saxes reports a mismatched end tag
   * (`</usr>` for `</user>`) after it has closed the element, so a user is
   * only done once the parser has gone on past its end tag without an error.
   */
  let ended: SourceRecord | undefined;
  const settle = () => {
    if (ended) done.push(ended);
    ended = undefined;
  };
  /** The open elements of the <user> being read; empty outside a user. */
  const open: XmlElement[] = [];
  let depth = 0;
  let position = 0;
  let line = 0;

  parser.on('error', (e) => {
    throw new Error(`The XML is not well-formed at line ${parser.line}, column ${parser.column}: ${e.message.replace(/^\d+:\d+: /, '')}`);
  });
  parser.on('opentag', (tag) => {
    settle();
    const name = localName(tag.name);
    if (depth === 0 && name !== 'users') throw new Error(`Expected Alma's <users> as the root element, found <${tag.name}> (line ${parser.line})`);
    const element: XmlElement = { name, attributes: tag.attributes as Record<string, string>, children: [], text: '' };
    if (open.length > 0) {
      open[open.length - 1].children.push(element);
      open.push(element);
    } else if (depth === 1 && name === 'user') {
      line = parser.line;
      open.push(element);
    }
    depth += 1;
  });
  const addText = (text: string) => {
    if (open.length > 0) open[open.length - 1].text += text;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    settle();
    depth -= 1;
    const element = open.pop();
    if (element && open.length === 0) ended = readUser(element, (position += 1), line);
  });

  return {
    write: (text: string) => void parser.write(text),
    close: () => {
      parser.close();
      settle();
    },
    /** The users completed since the last call. */
    take: () => done.splice(0, done.length),
  };
}

function readUser(user: XmlElement, position: number, line: number): SourceRecord {
  try {
    return { position, line, record: almaUserRecord(user) };
  } catch (e) {
    if (e instanceof AlmaValueError) return { position, line, error: e.message };
    throw e;
  }
}
