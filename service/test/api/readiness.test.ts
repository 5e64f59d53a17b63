// Readiness answers within its own bound when the database hangs, and only once the schema is at the latest
// migration; data routes on a database not migrated or missing answer 503 with a code, never 500.
import t from 'tap';
import { migrations } from '../../src/db/migrations/index.ts';
import { ApiKeySchema } from '../../src/modules/api-keys/api-key.entity.ts';
import { runMigrations } from '../../src/db/orm.ts';
import { withOrm } from '../../tools/with-orm.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { createHangingDatabase } from '../helpers/hanging-database.ts';
import { buildServer, type Envelope } from '../helpers/server.ts';

// Codes from the registry, spelled out: clients switch on these numbers.
const DATABASE_UNAVAILABLE = 5031;
const DATABASE_NOT_MIGRATED = 5032;
const DATABASE_NOT_FOUND = 5033;

// The database's own bounds are far longer than readiness's (1 s): an answer well inside them comes
// from readiness's bound, not from a driver timeout.
const SLOW_DATABASE_TIMEOUTS = { DATABASE_CONNECT_TIMEOUT_MS: '30000', DATABASE_QUERY_TIMEOUT_MS: '30000' };
const WELL_INSIDE_THE_DATABASE_TIMEOUTS_MS = 5000;

const db = await startTestDatabase(t, { migrate: false });
/** DATA_ROUTE reads a table a migration makes (API keys: the module every service keeps). */
const DATA_ROUTE = '/v1/test-data';
const withDatabase = async (url: string) => {
  const app = await buildServer(t, { DATABASE_URL: url, ...SLOW_DATABASE_TIMEOUTS });
  app.server.route({
    method: 'GET',
    path: DATA_ROUTE,
    handler: async (request, h) =>
      h.success(
        await request.server.plugins.database.run(
          request,
          async (em) => (await em.find(ApiKeySchema, {}, { limit: 1 })).length,
        ),
      ),
  });
  return app;
};
const urlTo = (port: number, database = new URL(db.url).pathname.slice(1)) => {
  const url = new URL(db.url);
  url.port = String(port);
  url.pathname = `/${database}`;
  return url.toString();
};

async function timed<T>(request: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await request;
  return [result, performance.now() - started];
}

t.test(
  'a database that accepts connections and never answers: readiness is 503 within its bound',
  async (t) => {
    const hanging = await createHangingDatabase(t);
    const app = await withDatabase(urlTo(hanging.port));
    const [{ status, body }, elapsed] = await timed(app.json('/health/ready'));
    t.equal(status, 503);
    t.match(body, { success: false, code: DATABASE_UNAVAILABLE, data: null });
    t.ok(elapsed < WELL_INSIDE_THE_DATABASE_TIMEOUTS_MS, `answered in ${Math.round(elapsed)} ms`);
    hanging.release();
  },
);

t.test('a database that hangs once connected: readiness is 503 within its bound', async (t) => {
  const migrated = await startTestDatabase(t);
  const hanging = await createHangingDatabase(t, { targetPort: migrated.port });
  const app = await withDatabase(urlTo(hanging.port));
  t.equal((await app.json('/health/ready')).status, 200, 'ready through the proxy');

  hanging.hang();
  const [{ status, body }, elapsed] = await timed(app.json('/health/ready'));
  t.equal(status, 503);
  t.match(body, { success: false, code: DATABASE_UNAVAILABLE, data: null });
  t.ok(elapsed < WELL_INSIDE_THE_DATABASE_TIMEOUTS_MS, `answered in ${Math.round(elapsed)} ms`);
  hanging.release();
});

t.test(
  'not migrated: readiness and data routes answer 503 DATABASE_NOT_MIGRATED until migrated',
  async (t) => {
    const app = await withDatabase(db.url);
    const notMigrated = { success: false, code: DATABASE_NOT_MIGRATED, data: null };

    const ready = await app.json('/health/ready');
    t.equal(ready.status, 503, 'readiness: no migration ran');
    t.match(ready.body, notMigrated);
    const data = await app.json(DATA_ROUTE);
    t.equal(data.status, 503, `GET ${DATA_ROUTE}`);
    t.match(data.body, notMigrated);

    await withOrm({ DATABASE_URL: db.url }, {}, async ({ orm }) => {
      // The first migration alone predates the API keys tables.
      await orm.migrator.up({ to: migrations[0]?.name });
      const partly = await app.json(DATA_ROUTE);
      t.equal(partly.status, 503, 'a data route on a partly migrated schema (a table is missing)');
      t.match(partly.body, notMigrated);

      const secondToLast = migrations.at(-2)?.name;
      await orm.migrator.up({ to: secondToLast });
      const behind = await app.json('/health/ready');
      t.equal(behind.status, 503, `readiness: at ${secondToLast}, one migration behind`);
      t.match(behind.body, notMigrated);

      await runMigrations(orm);
      const migrated = await app.json<Envelope<{ status: string }>>('/health/ready');
      t.equal(migrated.status, 200, 'ready once migrated, without a restart');
      t.equal(migrated.body.data.status, 'ready');
      t.equal((await app.json(DATA_ROUTE)).status, 200, 'data routes work');

      // A positive answer is cached: readiness does not read the migrations table again.
      await orm.em.getConnection().execute('delete from mikro_orm_migrations');
      t.equal((await app.json('/health/ready')).status, 200, 'still ready: the schema check is not repeated');
    });
  },
);

t.test('a URL naming a database that does not exist: 503 DATABASE_NOT_FOUND', async (t) => {
  const app = await withDatabase(urlTo(db.port, 'no_such_database'));
  for (const url of ['/health/ready', DATA_ROUTE]) {
    const { status, body } = await app.json(url);
    t.equal(status, 503, url);
    t.match(body, { success: false, code: DATABASE_NOT_FOUND, data: null }, url);
  }
});
