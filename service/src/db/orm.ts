// Creates the MikroORM instance from the service's database settings. Loaded lazily (see the database
// plugin) so that starting the server and answering liveness never pay for the driver stack.
import { MikroORM } from '@mikro-orm/postgresql';
import { withRotatingPassword } from './database-url.ts';
import { createOrmConfig, type OrmConnectionOptions } from './mikro-orm.config.ts';

export async function createOrm(options: OrmConnectionOptions): Promise<MikroORM> {
  // A password from a secret is re-read when PostgreSQL refuses it (RDS rotates it).
  return MikroORM.init(withRotatingPassword(await createOrmConfig(options), options.url));
}

/** Applies pending migrations (all or nothing) and returns the names of those that ran. */
export async function runMigrations(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((migration) => migration.name);
}
