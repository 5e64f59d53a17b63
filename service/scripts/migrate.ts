// `npm run db:migrate`: pending migrations to DATABASE_URL, else the embedded development database.
import { explainDatabaseTlsError } from '../src/db/database-tls-error.ts';
import { withDevelopmentDatabase } from '../tools/dev-database.ts';
import { migrateDatabase } from '../tools/with-orm.ts';

await withDevelopmentDatabase(async (url) => {
  const applied = await migrateDatabase({ ...process.env, DATABASE_URL: url });
  console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
}).catch((error: unknown) => {
  const explained = explainDatabaseTlsError(error);
  if (explained === undefined) throw error;
  // An untrusted certificate is a setting to fix, not a bug: its message says which; no stack.
  console.error(explained.message);
  process.exitCode = 1;
});
