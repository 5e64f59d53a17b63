// What the service sends PostgreSQL, recorded on the wire across a representative set of requests and
// events, holds nothing that pins a session behind RDS Proxy (the list is in docs/database.md).
import pg from 'pg';
import t from 'tap';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { PASS_THROUGH_HEADERS } from '../fixtures/lambda.ts';
import { startTestDatabase } from '../helpers/database.ts';
import {
  addFixtureModule,
  ATTACHMENT_TYPE,
  createFixtureTable,
  FIXTURE_PATH,
} from '../helpers/fixture-module.ts';
import { startPgWireRecorder, type RecordedConnection } from '../helpers/pg-wire-recorder.ts';
import { buildServer as buildBareServer, type Envelope } from '../helpers/server.ts';
import { addSlowQueryRoute, SLOW_QUERY_PATH } from '../helpers/slow-query-route.ts';
import type { Teardown } from '../helpers/teardown.ts';

const db = await startTestDatabase(t);
// The test-only notes module stands for any module's routes; a unique title gives a conflict on demand.
await createFixtureTable(db.url);
const setup = new pg.Client({ connectionString: db.url });
await setup.connect();
await setup.query('create unique index fixture_notes_title_unique on fixture_notes (title)');
await setup.end();

async function buildServer(t: Teardown, env: Record<string, string>) {
  const app = await buildBareServer(t, env);
  await addFixtureModule(app.server);
  return app;
}

/** Startup parameters a client may send without pinning (pg always sends client_encoding). */
const NEUTRAL_STARTUP = new Set(['user', 'database', 'client_encoding']);
/** Statements that change session state; SET LOCAL is listed too: AWS names no exception for it. */
const PINNING_SQL: readonly [RegExp, string][] = [
  [/(^|;)\s*(set|reset)\b/i, 'SET/RESET'],
  [/(^|;)\s*(prepare|execute|deallocate)\b/i, 'SQL prepared statement'],
  [/(^|;)\s*discard\b/i, 'DISCARD'],
  [/(^|;)\s*(listen|unlisten)\b/i, 'LISTEN'],
  [/(^|;)\s*load\b/i, 'LOAD'],
  [/(^|;)\s*declare\b/i, 'cursor'],
  [/\bcreate\s+(global\s+|local\s+)?(temp|temporary)\b/i, 'temporary object'],
  [/\bset_config\s*\(/i, 'set_config'],
  [/\bpg_(try_)?advisory_(lock|lock_shared|unlock\w*)\s*\(/i, 'session advisory lock'],
  [/\b(nextval|setval|currval|lastval)\s*\(/i, 'sequence function'],
];

function pinningReasons(connection: RecordedConnection): string[] {
  const reasons = Object.keys(connection.startup)
    .filter((key) => !NEUTRAL_STARTUP.has(key))
    .map((key) => `startup parameter ${key}`);
  for (const message of connection.messages) {
    if (message.type === 'Query' || message.type === 'Parse') {
      for (const [pattern, reason] of PINNING_SQL) {
        if (pattern.test(message.sql)) reasons.push(`${reason}: ${message.sql.slice(0, 80)}`);
      }
    }
    if (message.type === 'Parse' && message.statement !== '') reasons.push('named prepared statement');
    if (message.type === 'Bind' && message.statement !== '') reasons.push('named prepared statement');
    if (message.type === 'FunctionCall') reasons.push('function call message');
  }
  return reasons;
}

t.test('the recorder sees what pins: a startup parameter, a SET, a named statement', async (t) => {
  const recorder = await startPgWireRecorder(t, db.port);
  const client = new pg.Client({
    connectionString: db.url.replace(`:${db.port}/`, `:${recorder.port}/`),
    statement_timeout: 1000,
  });
  await client.connect();
  await client.query('set search_path = public');
  await client.query({ name: 'named', text: 'select $1::int as n', values: [1] });
  await client.query('begin; select pg_advisory_lock(1); commit');
  await client.end();
  const reasons = recorder.connections.flatMap(pinningReasons);
  t.ok(
    reasons.some((r) => r === 'startup parameter statement_timeout'),
    'startup parameter',
  );
  t.ok(
    reasons.some((r) => r.startsWith('SET/RESET')),
    'SET',
  );
  t.ok(reasons.includes('named prepared statement'), 'named statement');
  t.ok(
    reasons.some((r) => r.startsWith('session advisory lock')),
    'advisory lock',
  );
});

t.test('requests, API keys, readiness and events send nothing that pins a session', async (t) => {
  const recorder = await startPgWireRecorder(t, db.port);
  const app = await buildServer(t, {
    DATABASE_URL: db.url.replace(`:${db.port}/`, `:${recorder.port}/`),
    API_KEYS_REQUIRED: 'true',
  });
  const event = (payload: object) =>
    app.json({ method: 'POST', url: EVENTS_PATH, headers: PASS_THROUGH_HEADERS, payload });
  const statuses: Record<string, number> = {};

  statuses.ready = (await app.json('/health/ready')).status;
  const created = await event({ action: 'keys.create', name: 'pinning' });
  statuses.keyCreated = created.status;
  const headers = { 'x-api-key': (created.body as Envelope<{ key: string }>).data.key };
  const note = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: FIXTURE_PATH,
    headers,
    payload: { title: 'Pinning', tag: 'proxy' },
  });
  statuses.create = note.status;
  const id = note.body.data.id;
  statuses.list = (await app.json({ url: `${FIXTURE_PATH}?limit=5`, headers })).status;
  statuses.get = (await app.json({ url: `${FIXTURE_PATH}/${id}`, headers })).status;
  statuses.patch = (
    await app.json({ method: 'PATCH', url: `${FIXTURE_PATH}/${id}`, headers, payload: { title: 'Pinned?' } })
  ).status;
  statuses.putAttachment = (
    await app.inject({
      method: 'PUT',
      url: `${FIXTURE_PATH}/${id}/attachment`,
      headers: { ...headers, 'content-type': ATTACHMENT_TYPE },
      payload: Buffer.alloc(64, 1),
    })
  ).statusCode;
  statuses.getAttachment = (
    await app.inject({ url: `${FIXTURE_PATH}/${id}/attachment`, headers })
  ).statusCode;
  statuses.delete = (await app.json({ method: 'DELETE', url: `${FIXTURE_PATH}/${id}`, headers })).status;
  // A failed statement (unique violation); the fixture does not document 409, so no document check.
  const twice = { method: 'POST', url: FIXTURE_PATH, headers, payload: { title: 'Twice' } };
  await app.server.inject(twice);
  statuses.conflict = (await app.server.inject(twice)).statusCode;
  statuses.maintenance = (await event({ action: 'maintenance' })).status;
  statuses.migrate = (await event({ action: 'migrate' })).status;
  statuses.keys = (await event({ action: 'keys.list' })).status;

  t.same(
    statuses,
    {
      ready: 200,
      keyCreated: 200,
      create: 201,
      list: 200,
      get: 200,
      patch: 200,
      putAttachment: 200,
      getAttachment: 200,
      delete: 200,
      conflict: 409,
      maintenance: 200,
      migrate: 200,
      keys: 200,
    },
    'every request was served',
  );
  const statements = recorder.connections.flatMap((c) => c.messages).filter((m) => m.type !== 'Other');
  t.ok(
    statements.length > 20,
    `${statements.length} statements recorded on ${recorder.connections.length} connection(s)`,
  );
  t.same(
    recorder.connections.map((c) => Object.keys(c.startup).sort()),
    recorder.connections.map(() => ['client_encoding', 'database', 'user']),
  );
  t.same(recorder.connections.flatMap(pinningReasons), [], 'nothing that pins');
  const kinds: Record<string, number> = {};
  for (const message of statements) {
    const kind =
      message.type === 'Query' || message.type === 'Parse'
        ? `${message.type} ${(/^\s*(\w+)/.exec(message.sql)?.[1] ?? '?').toLowerCase()}`
        : message.type;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  t.comment(`sent: ${JSON.stringify(kinds)}`);
});

t.test(
  'a statement_timeout set on the role bounds the service server side, with nothing on the wire',
  async (t) => {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    t.teardown(() => admin.end());
    await admin.query(`create role bounded_service login password 'bounded'`);
    await admin.query(
      'grant select, insert, update, delete on all tables in schema public to bounded_service',
    );
    await admin.query(`alter role bounded_service set statement_timeout = '300ms'`);
    const recorder = await startPgWireRecorder(t, db.port);
    const url = new URL(db.url.replace(`:${db.port}/`, `:${recorder.port}/`));
    url.username = 'bounded_service';
    url.password = 'bounded';
    // The client-side bound is far away: only PostgreSQL can end the query this soon.
    const app = await buildServer(t, { DATABASE_URL: url.toString(), DATABASE_QUERY_TIMEOUT_MS: '20000' });
    addSlowQueryRoute(app.server);
    t.equal((await app.json(`${FIXTURE_PATH}?limit=1`)).status, 200);
    const started = performance.now();
    const { status, body } = await app.json(SLOW_QUERY_PATH);
    const elapsed = Math.round(performance.now() - started);
    t.comment(`pg_sleep(5) ended by the role's statement_timeout after ${elapsed} ms`);
    t.equal(status, 503);
    t.equal(body.code, 5031);
    t.ok(elapsed < 3000, 'PostgreSQL cancelled it, long before the client-side bound');
    t.equal(
      (await app.json(`${FIXTURE_PATH}?limit=1`)).status,
      200,
      'the connection serves the next request',
    );
    t.same(recorder.connections.flatMap(pinningReasons), [], 'and the service sent nothing that pins');
  },
);
