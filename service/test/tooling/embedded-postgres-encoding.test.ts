// The embedded PostgreSQL is UTF-8 whatever the caller's locale: with no LANG/LC_* (a fresh login, cron,
// `env -i`) initdb would otherwise make an SQL_ASCII cluster whose length limits count bytes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { startEmbeddedPostgres } from '../../tools/embedded-postgres.ts';
import { migrateDatabase } from '../../tools/with-orm.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer, type Envelope } from '../helpers/server.ts';

const LOCALE_VARIABLES = /^(LANG|LANGUAGE|LC_[A-Z]+)$/;

/** Runs `work` with every locale variable unset (initdb and postgres inherit process.env), then restores them. */
async function withoutLocale<T>(work: () => Promise<T>): Promise<T> {
  const saved = Object.entries(process.env).filter(([name]) => LOCALE_VARIABLES.test(name));
  for (const [name] of saved) Reflect.deleteProperty(process.env, name);
  try {
    return await work();
  } finally {
    for (const [name, value] of saved) process.env[name] = value;
  }
}

const root = await mkdtemp(path.join(tmpdir(), 'embedded-postgres-encoding-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
const db = await withoutLocale(() =>
  startEmbeddedPostgres({ dataDir: path.join(root, 'pgdata'), persistent: false, fast: true }),
);
t.teardown(() => db.stop());

t.test('with no locale in the environment the cluster and the app database are UTF-8', async (t) => {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(() => client.end());
  const encoding = await client.query<{ server_encoding: string }>('show server_encoding');
  t.equal(encoding.rows[0]?.server_encoding, 'UTF8');
  const databases = await client.query<{ datname: string; encoding: string }>(
    `select datname, pg_encoding_to_char(encoding) as encoding from pg_database where datname in ('app', 'template1')`,
  );
  t.same(
    databases.rows.map((row) => row.encoding),
    ['UTF8', 'UTF8'],
    'new databases are UTF-8 too',
  );
  // Case-insensitive author search folds non-ASCII letters as the hosted PostgreSQL does.
  const folded = await client.query<{ matches: boolean }>(`select 'ÉMILE' ilike '%émile%' as matches`);
  t.equal(folded.rows[0]?.matches, true);
});

t.test('a 150-character title of "é" (300 bytes) is accepted and read back whole', async (t) => {
  await migrateDatabase({ DATABASE_URL: db.url });
  const app = await buildServer(t, { DATABASE_URL: db.url });
  await addFixtureModule(app.server);
  const title = 'é'.repeat(150);
  const created = await app.json<Envelope<{ id: string; title: string }>>({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: { title, tag: 'Émile Zola' },
  });
  t.equal(created.status, 201, created.body.message);
  const read = await app.json<Envelope<{ title: string }>>(`${FIXTURE_PATH}/${created.body.data.id}`);
  t.equal(read.body.data.title, title);
});
