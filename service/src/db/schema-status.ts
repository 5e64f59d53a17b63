// Whether the database's schema is at the latest migration this bundle carries. One read of the
// migrator's own table, never the migrator's API: that creates the table when it is missing, and a
// readiness probe must not write. Migrations run in order and all or nothing, so the latest one
// recorded means every one before it ran too.
import type { MikroORM } from '@mikro-orm/postgresql';
import { databaseSetupProblem } from '../errors/classify-error.ts';

export async function isSchemaAtLatestMigration(orm: MikroORM): Promise<boolean> {
  const { tableName = 'mikro_orm_migrations', migrationsList = [] } = orm.config.get('migrations');
  const latest = migrationsList.at(-1)?.name;
  if (latest === undefined) return true;
  const table = orm.em.getPlatform().quoteIdentifier(tableName);
  try {
    const rows = await orm.em
      .getConnection()
      .execute<{ name: string }[]>(`select name from ${table} where name = ? limit 1`, [latest]);
    return rows.length > 0;
  } catch (error) {
    // No migrations table: no migration ever ran here.
    if (databaseSetupProblem(error) === 'DATABASE_NOT_MIGRATED') return false;
    throw error;
  }
}
