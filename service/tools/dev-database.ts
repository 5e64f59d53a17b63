// DATABASE_URL, else an embedded PostgreSQL in the gitignored .data/
// docs/development.md#the-embedded-database
import { createHash } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portInUseError } from '../src/lib/port-in-use.ts';
import { isPortTaken, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';
import { canEnter, ensurePostgresUser, runningAsRoot } from './postgres-user.ts';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// FHS: state that survives reboots; root writes, everyone enters.
export const RELOCATED_DEV_DATA_ROOT = '/var/lib/embedded-postgres';
const DEV_DATABASE_PORT = 54329;

export async function startDevelopmentDatabase(): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  const url = process.env.DATABASE_URL;
  if (url !== undefined && url !== '') return { url };
  const port = Number(process.env.EMBEDDED_POSTGRES_PORT ?? DEV_DATABASE_PORT);
  try {
    const embedded = await startEmbeddedPostgres({
      dataDir: await developmentDataDir(),
      port,
      persistent: true,
    });
    return { url: embedded.url, embedded };
  } catch (error) {
    if (!isPortTaken(error)) throw error;
    const server = 'The embedded PostgreSQL';
    throw portInUseError({ server, host: '127.0.0.1', port, variable: 'EMBEDDED_POSTGRES_PORT' }, error);
  }
}

export function developmentDataDir(projectRoot = PROJECT_ROOT): Promise<string> {
  return reachableDataDir(projectRoot, path.join('.data', 'postgres'), 'postgres');
}

export function benchDataDir(projectRoot = PROJECT_ROOT): Promise<string> {
  return reachableDataDir(projectRoot, path.join('.bench', 'pgdata'), 'bench-pgdata');
}

// `relocated` when PostgreSQL runs as postgres and cannot enter the clone.
async function reachableDataDir(projectRoot: string, inClone: string, relocated: string): Promise<string> {
  if (!runningAsRoot() || canEnter(ensurePostgresUser(), projectRoot)) return path.join(projectRoot, inClone);
  // Keyed by the clone's path: each clone keeps its own data, found again on every run.
  const clone = createHash('sha256').update(projectRoot).digest('hex').slice(0, 12);
  if ((await mkdir(RELOCATED_DEV_DATA_ROOT, { recursive: true })) !== undefined)
    await chmod(RELOCATED_DEV_DATA_ROOT, 0o755);
  return path.join(RELOCATED_DEV_DATA_ROOT, `${path.basename(projectRoot)}-${clone}`, relocated);
}

// `embedded` is set when it was started here.
export async function withDevelopmentDatabase(
  work: (url: string, embedded: EmbeddedDatabase | undefined) => Promise<void>,
): Promise<void> {
  const { url, embedded } = await startDevelopmentDatabase();
  try {
    await work(url, embedded);
  } finally {
    await embedded?.stop();
  }
}
