// In process, through a loopback proxy that can silence connections: which database connections the
// service keeps, checks, replaces and retries on (the built service's faults: database-chaos.test.ts).
import t from 'tap';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardPool } from '../../src/db/connection-health.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, createFixtureTable, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer as buildBareServer, type Envelope } from '../helpers/server.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { PASS_THROUGH_HEADERS } from '../fixtures/lambda.ts';
import { createSilencingProxy } from '../helpers/silencing-proxy.ts';
import type { Teardown } from '../helpers/teardown.ts';

const db = await startTestDatabase(t);
// The test-only notes module stands for any module's routes; a unique title gives an SQL error on demand.
await createFixtureTable(db.url);
const admin = new pg.Client({ connectionString: db.url });
await admin.connect();
await admin.query('create unique index fixture_notes_title_unique on fixture_notes (title)');
await admin.end();

async function buildServer(t: Teardown, env: Record<string, string>) {
  const app = await buildBareServer(t, env);
  await addFixtureModule(app.server);
  return app;
}

async function serviceBehindProxy(t: Teardown, env: Record<string, string> = {}) {
  const proxy = await createSilencingProxy(t, { targetPort: db.port });
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const app = await buildServer(t, { DATABASE_URL: url.toString(), ...env });
  return { app, proxy };
}

t.test('an SQL error leaves its connection in use', async (t) => {
  const { app, proxy } = await serviceBehindProxy(t);
  const note = { method: 'POST', url: FIXTURE_PATH, payload: { title: 'Written once' } };
  t.equal((await app.json(note)).status, 201);
  const opened = proxy.accepted;
  // The fixture does not document 409: the server's own inject skips the document check.
  t.equal((await app.server.inject(note)).statusCode, 409, 'a unique violation');
  t.equal((await app.json(FIXTURE_PATH)).status, 200);
  t.equal(proxy.accepted, opened, 'served on the same connection: none opened');
});

t.test('a connection silenced while idle fails its check and is replaced', async (t) => {
  const { app, proxy } = await serviceBehindProxy(t, {
    DATABASE_IDLE_CHECK_AFTER_MS: '200',
    DATABASE_IDLE_CHECK_TIMEOUT_MS: '300',
  });
  t.equal((await app.json(FIXTURE_PATH)).status, 200);
  const opened = proxy.accepted;
  t.equal(proxy.silence(), 1, 'inside Lambda the pool holds one connection');
  await sleep(400);
  const started = performance.now();
  t.equal((await app.json(FIXTURE_PATH)).status, 200, 'the next read succeeds');
  t.comment(`first read after the silence: ${Math.round(performance.now() - started)} ms`);
  t.equal(proxy.accepted, opened + 1, 'on a new connection');
});

t.test('one connection found dead: its idle siblings are replaced without their own checks', async (t) => {
  const { app, proxy } = await serviceBehindProxy(t, {
    // Outside Lambda: a pool of several connections.
    AWS_LAMBDA_RUNTIME_API: '',
    DATABASE_IDLE_CHECK_AFTER_MS: '200',
    DATABASE_IDLE_CHECK_TIMEOUT_MS: '300',
  });
  const statuses = await Promise.all(
    Array.from({ length: 5 }, async () => (await app.json(FIXTURE_PATH)).status),
  );
  t.same(statuses, [200, 200, 200, 200, 200]);
  const silenced = proxy.silence();
  t.ok(silenced > 1, `${silenced} connections open`);
  const opened = proxy.accepted;
  await sleep(400);
  const started = performance.now();
  t.equal((await app.json(FIXTURE_PATH)).status, 200);
  t.comment(
    `${silenced} silenced: the read took ${Math.round(performance.now() - started)} ms (one 300 ms check)`,
  );
  t.equal(proxy.accepted, opened + 1, 'one connection opened');
  // A simple-protocol query message starts with 'Q': only the one failed check went into the silence.
  const queries = proxy.swallowed.filter((chunk) => chunk[0] === 'Q'.charCodeAt(0));
  t.equal(queries.length, 1, 'one check failed, and the siblings were dropped unchecked');
});

t.test('a connection silenced and still fresh: a read runs again, a write does not', async (t) => {
  const { app, proxy } = await serviceBehindProxy(t, {
    DATABASE_IDLE_CHECK_AFTER_MS: '60000',
    DATABASE_QUERY_TIMEOUT_MS: '500',
  });
  t.equal((await app.json(FIXTURE_PATH)).status, 200);
  let opened = proxy.accepted;
  proxy.silence();
  t.equal((await app.json(FIXTURE_PATH)).status, 200, 'a read timed out on it, then ran on another');
  t.equal(proxy.accepted, opened + 1, 'which was opened for it');

  opened = proxy.accepted;
  proxy.silence();
  const write = await app.json({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: { title: 'Maybe written' },
  });
  t.equal(write.status, 503, 'a write that timed out answers 503');
  t.match(write.body, { code: 5031 });
  t.equal(proxy.accepted, opened, 'and is not run again on another connection');
  t.equal((await app.json(FIXTURE_PATH)).status, 200, 'the timed-out connection is not reused');
});

t.test('a GET whose API-key check timed out on a silenced connection is not checked again', async (t) => {
  const { app, proxy } = await serviceBehindProxy(t, {
    API_KEYS_REQUIRED: 'true',
    DATABASE_IDLE_CHECK_AFTER_MS: '60000',
    DATABASE_QUERY_TIMEOUT_MS: '500',
  });
  const created = await app.json<Envelope<{ key: string }>>({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.create', name: 'counted once' },
  });
  t.equal(created.status, 200);
  const read = { method: 'GET', url: FIXTURE_PATH, headers: { 'x-api-key': created.body.data.key } };
  t.equal((await app.json(read)).status, 200);
  const opened = proxy.accepted;
  proxy.silence();
  const answer = await app.json(read);
  // Counting a use is a write: run again on another connection it could count twice.
  t.equal(answer.status, 503, 'the check that may have counted answers 503');
  t.match(answer.body, { code: 5031 });
  t.equal(proxy.accepted, opened, 'and is not run again on another connection');
});

t.test("the pool's own query() (a callback to connect) passes the guard untouched", async (t) => {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  t.teardown(() => pool.end());
  guardPool(pool, { idleCheckAfterMs: 0, idleCheckTimeoutMs: 1000 });
  const { rows } = await pool.query<{ one: number }>('select 1 as one');
  t.same(rows, [{ one: 1 }]);
  const client = await pool.connect();
  client.release();
  const again = await pool.connect();
  t.equal(again, client, 'an idle connection that passes its check is handed out again');
  again.release();
});

t.test('a connection is checked when the wall clock stepped back while it was idle', async (t) => {
  const proxy = await createSilencingProxy(t, { targetPort: db.port });
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  t.teardown(() => pool.end());
  guardPool(pool, { idleCheckAfterMs: 1000, idleCheckTimeoutMs: 300 });
  const first = await pool.connect();
  first.release();
  proxy.silence();
  // An NTP step back: its idle time comes out negative, which says nothing about how long it was idle.
  const now = Date.now;
  Date.now = () => now() - 3_600_000;
  t.teardown(() => {
    Date.now = now;
  });
  const next = await pool.connect();
  t.not(next, first, 'the silenced connection failed its check and was replaced');
  next.release();
});

t.test('a read given up on client side does not leave its backend running', async (t) => {
  const app = await buildServer(t, {
    DATABASE_URL: db.url,
    DATABASE_IDLE_CHECK_AFTER_MS: '60000',
    DATABASE_QUERY_TIMEOUT_MS: '500',
  });
  t.equal((await app.json(FIXTURE_PATH)).status, 200);
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('begin');
  await locker.query('lock table fixture_notes in access exclusive mode');
  // A slow database, not a dead one: the read and its retry wait for the lock past the client's bound.
  const answer = await app.json(FIXTURE_PATH);
  t.equal(answer.status, 503);
  const waiting = async () => {
    const { rows } = await locker.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'",
    );
    return rows[0]?.n ?? -1;
  };
  // Bounded: the cancel requests are on their way; a backend left running waits for the lock for good.
  let left = await waiting();
  for (let round = 0; round < 20 && left > 0; round++) {
    await sleep(100);
    left = await waiting();
  }
  t.equal(left, 0, "no backend of the instance's is left running (one connection per Lambda instance)");
  await locker.query('rollback');
});

t.test('no connection slot for a new connection of a running instance: 503 OVERLOADED', async (t) => {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  t.teardown(() => admin.end());
  // A role's connection limit refuses with the same SQLSTATE as a full server (53300).
  await admin.query(`create role one_slot login password 'one' connection limit 1`);
  await admin.query('grant select, insert, update, delete on all tables in schema public to one_slot');
  const url = new URL(db.url);
  url.username = 'one_slot';
  url.password = 'one';
  const app = await buildServer(t, { DATABASE_URL: url.toString() });
  t.equal((await app.json(FIXTURE_PATH)).status, 200, 'the instance has its connection');
  await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where usename = 'one_slot'");
  // Someone else takes the slot before the instance reconnects.
  let other: pg.Client | undefined;
  // Bounded: the terminated backend frees its slot as it exits.
  for (let round = 0; round < 20 && other === undefined; round++) {
    const client = new pg.Client({ connectionString: url.toString() });
    try {
      await client.connect();
      other = client;
    } catch {
      await sleep(50);
    }
  }
  t.ok(other, 'the slot is taken');
  t.teardown(() => other?.end());
  const answer = await app.json(FIXTURE_PATH);
  t.equal(answer.status, 503);
  t.match(answer.body, { code: 5034 });
  t.equal(answer.headers['retry-after'], '1');
});

t.test(
  'inside Lambda, a readiness check left holding the one connection: the next read is shed as overload',
  async (t) => {
    const { app, proxy } = await serviceBehindProxy(t, {
      DATABASE_IDLE_CHECK_AFTER_MS: '60000',
      DATABASE_QUERY_TIMEOUT_MS: '3000',
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    });
    t.equal((await app.json('/health/ready')).status, 200);
    proxy.silence();
    // Readiness answers within its own bound; its check runs on until the query timeout.
    t.equal((await app.json('/health/ready')).status, 503);
    const answer = await app.json(FIXTURE_PATH);
    // The instance is busy (the pool's wait ran out), not the database down.
    t.equal(answer.status, 503);
    t.match(answer.body, { code: 5034 });
    t.equal(answer.headers['retry-after'], '1');
  },
);

t.test('a query slower than the client bound does not make its idle siblings suspects', async (t) => {
  const { app, proxy } = await serviceBehindProxy(t, {
    AWS_LAMBDA_RUNTIME_API: '',
    DATABASE_IDLE_CHECK_AFTER_MS: '60000',
    DATABASE_QUERY_TIMEOUT_MS: '500',
  });
  const statuses = await Promise.all(
    Array.from({ length: 5 }, async () => (await app.json(FIXTURE_PATH)).status),
  );
  t.same(statuses, [200, 200, 200, 200, 200]);
  const warm = proxy.open;
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('begin');
  await locker.query('lock table fixture_notes in access exclusive mode');
  // A slow database, not a dead path: the read and its retry outlive the bound on two connections.
  t.equal((await app.json(FIXTURE_PATH)).status, 503);
  await locker.query('rollback');
  const opened = proxy.accepted;
  const again = await Promise.all(
    Array.from({ length: warm - 2 }, async () => (await app.json(FIXTURE_PATH)).status),
  );
  t.ok(
    again.every((status) => status === 200),
    'the others are served',
  );
  t.equal(proxy.accepted, opened, `the ${warm - 2} idle siblings served them: no reconnects`);
});
