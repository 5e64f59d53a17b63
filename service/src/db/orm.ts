// Creates the MikroORM instance from the service's database settings. Loaded lazily (see the database
// plugin) so that starting the server and answering liveness never pay for the driver stack.
import { MikroORM } from '@mikro-orm/postgresql';
import { createOrmConfig, type OrmConnectionOptions } from './mikro-orm.config.ts';

export async function createOrm(options: OrmConnectionOptions): Promise<MikroORM> {
  return MikroORM.init(createOrmConfig(options));
}

/** Applies pending migrations (all or nothing) and returns the names of those that ran. */
export async function runMigrations(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((migration) => migration.name);
}
