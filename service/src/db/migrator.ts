// MikroORM's Migrator and the committed migrations on an ORM: only where migrations run, never on the
// request path (docs/performance.md, the first database request).
import { Migrator } from '@mikro-orm/migrations';
import type { MikroORM } from '@mikro-orm/postgresql';
import { migrations } from './migrations/index.ts';

/** Registers the Migrator on `orm` (once), with the migrations listed, never discovered from a folder. */
export function withMigrator(orm: MikroORM): MikroORM {
  if (orm.config.getExtension('@mikro-orm/migrator') === undefined) {
    // Listed explicitly so the bundled service carries them.
    orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList: migrations });
    Migrator.register(orm);
  }
  return orm;
}
