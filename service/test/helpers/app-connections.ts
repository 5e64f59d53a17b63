// A superuser connection to the test database that counts the service's connections (every client
// backend but its own), for tests that check what a process holds open.
import pg from 'pg';
import type { Teardown } from './teardown.ts';

export async function adminConnection(
  t: Teardown,
  url: string,
): Promise<{ admin: pg.Client; appConnections: () => Promise<number> }> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.teardown(() => admin.end());
  const appConnections = async () => {
    const { rows } = await admin.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    return Number(rows[0]?.n);
  };
  return { admin, appConnections };
}
