// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded development
// database when DATABASE_URL is unset).
import { loadConfig } from '../src/config.ts';
import { explainDatabaseTlsError } from '../src/db/database-tls-error.ts';
import { createOrm, runMigrations } from '../src/db/orm.ts';
import { withDevelopmentDatabase } from '../tools/dev-database.ts';

await withDevelopmentDatabase(async (url) => {
  const { database } = loadConfig({ ...process.env, DATABASE_URL: url });
  const orm = await createOrm({ ...database, url });
  try {
    const applied = await runMigrations(orm);
    console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
  } finally {
    await orm.close();
  }
}).catch((error: unknown) => {
  const explained = explainDatabaseTlsError(error);
  if (explained === undefined) throw error;
  // An untrusted certificate is a setting to fix, not a bug: its message says which; no stack.
  console.error(explained.message);
  process.exitCode = 1;
});
