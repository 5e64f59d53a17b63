// `npm run db:seed` against DATABASE_URL: example books go in once; running it again adds none.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import t from 'tap';
import { startTestDatabase } from '../helpers/database.ts';

const SERVICE_DIR = path.resolve(import.meta.dirname, '../..');

t.test('db:seed inserts the example books once', async (t) => {
  const db = await startTestDatabase(t);
  const seed = () =>
    promisify(execFile)(process.execPath, ['scripts/seed.ts'], {
      cwd: SERVICE_DIR,
      env: { ...process.env, DATABASE_URL: db.url },
    });
  const count = async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('select count(*) as n from books');
      return Number(rows[0]?.n);
    } finally {
      await client.end();
    }
  };
  t.match((await seed()).stdout, /Seeded 3 example books \(0 already there\)/);
  t.equal(await count(), 3);
  t.match((await seed()).stdout, /Seeded 0 example books \(3 already there\)/);
  t.equal(await count(), 3, 'no duplicates');
});
