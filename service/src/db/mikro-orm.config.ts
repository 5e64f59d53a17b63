// The one MikroORM configuration, shared by the app, the migration scripts and the tests.
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig } from '@mikro-orm/postgresql';
import { BookCoverSchema } from '../modules/books/book-cover.entity.ts';
import { ApiKeySchema, ApiKeyUsageSchema } from '../modules/api-keys/api-key.entity.ts';
import { BookSchema } from '../modules/books/book.entity.ts';
import { databaseTlsOptions } from './database-tls.ts';
import { migrations } from './migrations/index.ts';

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

const ENTITIES = [BookSchema, BookCoverSchema, ApiKeySchema, ApiKeyUsageSchema];

export function createOrmConfig(options: OrmConnectionOptions) {
  return defineConfig({
    clientUrl: options.url,
    entities: ENTITIES,
    extensions: [Migrator],
    // Entities are schemas, not decorated classes: no TypeScript metadata to discover.
    preferTs: false,
    allowGlobalContext: false,
    ensureDatabase: false,
    pool: { min: 0, max: options.poolMax, idleTimeoutMillis: 30_000 },
    // Passed to pg's Pool: a dead or hung database fails requests within seconds instead of hanging them.
    driverOptions: {
      connectionTimeoutMillis: options.connectTimeoutMs,
      query_timeout: options.queryTimeoutMs,
      statement_timeout: options.queryTimeoutMs,
      ...(options.ssl ? { ssl: databaseTlsOptions(new URL(options.url).hostname, options.privateCa) } : {}),
    },
    migrations: {
      // Listed explicitly, never discovered from a folder, so the bundled service carries them.
      migrationsList: migrations,
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
