// Whether the schema is at the latest migration this bundle carries: one read of the migrator's table,
// not its API, which creates the table when missing (a readiness probe must not write).
import type { MikroORM } from '@mikro-orm/postgresql';
import { databaseSetupProblem } from '../errors/classify-error.ts';

export async function isSchemaAtLatestMigration(orm: MikroORM): Promise<boolean> {
  const { tableName = 'mikro_orm_migrations' } = orm.config.get('migrations');
  // Loaded here, not with the ORM: the request path never reads the migrations.
  const { migrations } = await import('./migrations/index.ts');
  const latest = migrations.at(-1)?.name;
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
