// Creates the MikroORM instance from the service's database settings. Loaded lazily (see the database
// plugin) so that starting the server and answering liveness never pay for the driver stack.
import { MikroORM } from '@mikro-orm/postgresql';
import { withConnectionHealth, type ConnectionHealthOptions } from './connection-health.ts';
import { withRotatingPassword } from './database-url.ts';
import {
  createOrmConfig,
  loadDatabaseTls,
  loadEntities,
  type OrmConnectionOptions,
} from './mikro-orm.config.ts';

/** With `idleCheckAfterMs`, dead connections are kept out of use (connection-health.ts). */
export async function createOrm(
  options: OrmConnectionOptions & Partial<ConnectionHealthOptions>,
): Promise<MikroORM> {
  // A password from a secret is re-read when PostgreSQL refuses it (RDS rotates it).
  const config = withRotatingPassword(await createOrmConfig(options), options.url);
  const { idleCheckAfterMs, idleCheckTimeoutMs } = options;
  // The constructor, not init(): init() would import any extension it can resolve (the Migrator).
  return new MikroORM(
    idleCheckAfterMs === undefined || idleCheckTimeoutMs === undefined
      ? config
      : withConnectionHealth(config, { idleCheckAfterMs, idleCheckTimeoutMs }),
  );
}

/** Loads the code createOrm runs (this module, the entities, TLS for a TLS connection); connects nothing. */
export async function loadOrmCode({ ssl }: Pick<OrmConnectionOptions, 'ssl'>): Promise<void> {
  await Promise.all([loadEntities(), loadDatabaseTls(ssl)]);
}

/** Applies pending migrations (all or nothing) and returns the names of those that ran. */
export async function runMigrations(orm: MikroORM): Promise<string[]> {
  const { withMigrator } = await import('./migrator.ts');
  const applied = await withMigrator(orm).migrator.up();
  return applied.map((migration) => migration.name);
}
