// A real PostgreSQL for one test file: embedded, in its own temp directory, migrated, removed afterwards.
// Each tap file runs in its own process with its own cluster, so files never see each other's data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../tools/embedded-postgres.ts';
import { migrateDatabase } from '../../tools/with-orm.ts';
import type { Teardown } from './teardown.ts';

/** `migrate: false` leaves the database empty, for tests of the migration path itself. */
export async function startTestDatabase(t: Teardown, { migrate = true } = {}): Promise<EmbeddedDatabase> {
  const root = await mkdtemp(path.join(tmpdir(), 'service-test-'));
  // persistent: the cluster survives stop() so tests can stop and restart it; the folder goes at teardown.
  const db = await startEmbeddedPostgres({
    dataDir: path.join(root, 'pgdata'),
    persistent: true,
    fast: true,
  });
  t.teardown(async () => {
    await db.stop();
    await rm(root, { recursive: true, force: true });
  });
  if (migrate) await migrateDatabase({ DATABASE_URL: db.url });
  return db;
}
