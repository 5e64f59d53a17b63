// The one MikroORM configuration, shared by the app, the migration scripts and the tests.
import { defineConfig } from '@mikro-orm/postgresql';
import { domainModules } from '../modules/index.ts';

export interface OrmConnectionOptions {
  readonly url: string;
  readonly ssl: boolean;
  /** PEM certificates of a private CA, trusted besides the public roots and the Amazon RDS CAs. */
  readonly privateCa?: string | undefined;
  readonly poolMax: number;
  readonly connectTimeoutMs: number;
  readonly queryTimeoutMs: number;
  /** Folder that `db:migration:create` writes to (source tree only; the app never scans it). */
  readonly migrationsPath?: string;
}

/** Each module loads its own entities: the module list is on the start path, the ORM is not. */
export async function loadEntities() {
  return (await Promise.all(domainModules.map(async (module) => module.entities()))).flat();
}

/** node:tls and the CA bundles load only for a TLS connection. */
export async function loadDatabaseTls(ssl: boolean) {
  return ssl ? import('./database-tls.ts') : undefined;
}

export async function createOrmConfig(options: OrmConnectionOptions) {
  const [entities, tls] = await Promise.all([loadEntities(), loadDatabaseTls(options.ssl)]);
  return defineConfig({
    clientUrl: options.url,
    entities,
    // Entities are schemas, not decorated classes: no TypeScript metadata to discover.
    preferTs: false,
    allowGlobalContext: false,
    ensureDatabase: false,
    pool: { min: 0, max: options.poolMax, idleTimeoutMillis: 30_000 },
    // Passed to pg's Pool: a dead or hung database fails requests within seconds instead of hanging them.
    // No statement_timeout: pg sends it as a startup parameter, which RDS Proxy pins or refuses
    // (docs/database.md, "RDS Proxy"); the server-side bound is the role's setting.
    driverOptions: {
      connectionTimeoutMillis: options.connectTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      ...(tls === undefined
        ? {}
        : { ssl: tls.databaseTlsOptions(new URL(options.url).hostname, options.privateCa) }),
    },
    // The Migrator and the migration list come with withMigrator (migrator.ts), where migrations run.
    migrations: {
      path: options.migrationsPath ?? 'src/db/migrations',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      silent: true,
      // One snapshot whatever the database is called, so diffs work from any developer's database.
      snapshotName: '.schema-snapshot',
    },
  });
}
