import readline from 'node:readline';

/**
 * The new administrator's password, never from the command line (any user of
 * the machine sees a process's arguments): CARREL_ADMIN_PASSWORD when set, else
 * typed at a terminal without echo (twice), else the first line piped to
 * standard input. Prompts go to stderr, so stdout carries only the results.
 */
export async function readNewPassword(fromEnvironment: string | undefined, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (fromEnvironment) return fromEnvironment;
  if (input.isTTY) {
    const password = await promptHidden(input, 'password for the new administrator: ');
    if ((await promptHidden(input, 'the same password again: ')) !== password) throw new Error('the two passwords differ');
    return password;
  }
  const line = await firstLine(input);
  if (!line) throw new Error('no password: pipe it as one line to standard input, type it at a terminal, or set CARREL_ADMIN_PASSWORD');
  return line;
}

/** The first line of a pipe or file, without its line ending; empty when there is none. */
function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
    let first: string | undefined;
    lines.once('line', (line) => {
      first = line;
      lines.close();
    });
    lines.once('close', () => resolve(first ?? ''));
    input.once('error', reject);
  });
}

/** Reads one line at the terminal in raw mode, echoing nothing; Ctrl-C aborts. */
function promptHidden(input: NodeJS.ReadStream, prompt: string): Promise<string> {
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  let typed = '';
  return new Promise<string>((resolve, reject) => {
    const done = (result: () => void) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      result();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done(() => resolve(typed));
        if (ch === '\u0003') return done(() => reject(new Error('interrupted')));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}
