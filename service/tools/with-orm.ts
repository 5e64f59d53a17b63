// One ORM for one job outside the server, always closed: an open pool keeps a process alive.
// Logs nothing: the URL carries the password.
import { loadConfig, type Config } from '../src/config.ts';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createOrm, runMigrations } from '../src/db/orm.ts';
import { withMigrator } from '../src/db/migrator.ts';

export interface OrmJob {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly applied: readonly string[];
}

export interface WithOrmOptions {
  readonly migrate?: boolean;
  // `db:migration:create` writes there.
  readonly migrationsPath?: string;
}

// `env` must hold DATABASE_URL.
export async function withOrm<T>(
  env: Readonly<Record<string, string | undefined>>,
  { migrate = false, migrationsPath }: WithOrmOptions,
  work: (job: OrmJob) => Promise<T>,
): Promise<T> {
  const config = loadConfig(env);
  const { url } = config.database;
  if (url === undefined) throw new Error('DATABASE_URL is not set');
  // Jobs and tests may use orm.migrator directly.
  const orm = withMigrator(
    await createOrm({ ...config.database, url, ...(migrationsPath ? { migrationsPath } : {}) }),
  );
  try {
    const applied = migrate ? await runMigrations(orm) : [];
    return await work({ orm, config, applied });
  } finally {
    await orm.close();
  }
}

export function migrateDatabase(env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  return withOrm(env, { migrate: true }, ({ applied }) => Promise.resolve([...applied]));
}
