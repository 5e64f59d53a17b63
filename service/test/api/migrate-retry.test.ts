// The migrate event survives a database that refuses connections at first (a resuming Aurora): retries with
// capped backoff within the invocation's time, then 599; a failed migration is never retried.
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { MIGRATE_RETRY, retryWindowMs } from '../../src/db/migrate-with-retries.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { isConnectionFailure, isDatabaseUnavailable } from '../../src/errors/classify-error.ts';
import { DomainError } from '../../src/errors/domain-error.ts';
import { INVOCATION_ERROR_STATUS } from '../../src/errors/error-codes.ts';
import { readLambdaContext } from '../../src/lib/lambda-context.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { buildServer, type Envelope, type TestServer } from '../helpers/server.ts';
import { createTcpProxy } from '../helpers/tcp-proxy.ts';
import { lambdaContext } from '../fixtures/lambda.ts';

const db = await startTestDatabase(t, { migrate: false });
const admin = db.postgres.getPgClient('postgres', '127.0.0.1');
await admin.connect();
for (const name of ['refused', 'dropped', 'conflicting']) await admin.query(`create database ${name}`);
await admin.end();
const ALL_MIGRATIONS = migrations.map((migration) => migration.name);
const urlAt = (port: number, database: string) =>
  `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;

const CONNECT_TIMEOUT_MS = 500;
const serviceAt = (url: string): Promise<TestServer> =>
  buildServer(
    t,
    { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) },
    { captureLogs: true },
  );

/** The migrate event as the adapter posts it, optionally with a Lambda deadline. */
const migrateEvent = (deadline?: number) => ({
  method: 'POST',
  url: EVENTS_PATH,
  payload: { action: 'migrate' },
  headers:
    deadline === undefined
      ? { 'x-amzn-request-context': 'null' }
      : {
          'x-amzn-request-context': 'null',
          'x-amzn-lambda-context': JSON.stringify({ ...lambdaContext(), deadline }),
        },
});

const retryLines = (app: TestServer) =>
  app.logs
    .lines()
    .filter((line) => line.msg === 'database unreachable; retrying the migrations')
    .map((line) => line as { level: number; attempt: number; delayMs: number; err: { message: string } });

t.test('a database that refuses connections at first: migrations run once it listens', async (t) => {
  const proxy = await createTcpProxy(t, { port: await freePort(), targetPort: db.port });
  const app = await serviceAt(urlAt(proxy.port, 'refused'));

  // No Lambda context (a local run): the fixed budget applies. The port opens after the first retry.
  const state = { answered: false };
  const answer = app.json<Envelope<{ applied: string[] }>>(migrateEvent()).finally(() => {
    state.answered = true;
  });
  while (retryLines(app).length === 0 && !state.answered) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await proxy.listen();
  const { status, body } = await answer;

  t.equal(status, 200);
  t.same(body.data.applied, ALL_MIGRATIONS);
  const [first] = retryLines(app);
  t.match(first, {
    level: 40,
    attempt: 1,
    delayMs: MIGRATE_RETRY.firstDelayMs,
    // The refusal itself, or the database plugin's failed start that it caused.
    err: { message: /ECONNREFUSED|database is unavailable/ },
  });
  t.ok(proxy.forwarded > 0, 'then connected through the opened port');
  t.notMatch(app.logs.text(), /postgres:postgres@/, 'no database URL (with its password) in the log');
});

t.test('a database that drops the first connections: backoff doubles, then migrations run', async (t) => {
  const proxy = await createTcpProxy(t, { port: await freePort(), targetPort: db.port, dropFirst: 3 });
  await proxy.listen();
  const app = await serviceAt(urlAt(proxy.port, 'dropped'));

  const { status, body } = await app.json<Envelope<{ applied: string[] }>>(migrateEvent(Date.now() + 20_000));

  t.equal(status, 200);
  t.same(body.data.applied, ALL_MIGRATIONS);
  t.equal(proxy.dropped, 3);
  const retries = retryLines(app);
  t.ok(retries.length >= 1 && retries.length <= 3, `${retries.length} retries for 3 dropped connections`);
  retries.forEach((retry, index) => {
    t.equal(retry.attempt, index + 1);
    t.equal(retry.delayMs, Math.min(MIGRATE_RETRY.firstDelayMs * 2 ** index, MIGRATE_RETRY.maxDelayMs));
  });
});

t.test('a database that never answers: gives up before the deadline with the 599 envelope', async (t) => {
  const app = await serviceAt(urlAt(await freePort(), 'app'));
  const windowMs = 2000;
  const deadline = Date.now() + windowMs + CONNECT_TIMEOUT_MS + MIGRATE_RETRY.answerMarginMs;

  const { status, body } = await app.json(migrateEvent(deadline));

  t.equal(status, INVOCATION_ERROR_STATUS);
  t.match(body, {
    success: false,
    data: null,
    code: 5031,
    message: /Migrations not run: the database stayed unreachable after \d+ attempts/,
    traceId: /\S/,
  });
  const retries = retryLines(app);
  t.ok(retries.length >= 2, `${retries.length} retries`);
  t.equal(
    body.message.match(/after (\d+) attempts/)?.[1],
    String(retries.length + 1),
    'the message counts them',
  );
  const waited = retries.reduce((sum, retry) => sum + retry.delayMs, 0);
  t.ok(waited <= windowMs, `waited ${waited} ms in all, within the ${windowMs} ms before the margin`);
  const gaveUp = app.logs
    .lines()
    .find((line) => line.msg === 'migrations not run: the database stayed unreachable');
  t.match(gaveUp, { level: 50, attempts: retries.length + 1, traceId: body.traceId });
});

t.test('a failed migration (an SQL error) is not retried', async (t) => {
  const app = await serviceAt(urlAt(db.port, 'conflicting'));
  const orm = await app.server.plugins.database.getOrm();
  // "books" exists but no migration is recorded: the first migration fails on it.
  await orm.em.getConnection().execute('create table books (id int)');

  const { status, body } = await app.json(migrateEvent(Date.now() + 20_000));

  t.equal(status, INVOCATION_ERROR_STATUS);
  t.match(body, { code: 9502, message: /Migration failed/ });
  t.same(retryLines(app), [], 'no retry');
  const failed = app.logs.lines().find((line) => line.msg === 'migration failed');
  t.match(failed, { level: 50, err: { message: /books/ } });
});

t.test('the retry window: the Lambda deadline less a margin, or a fixed budget outside Lambda', async (t) => {
  const now = 1_800_000_000_000;
  const connectTimeoutMs = 3000;
  t.equal(
    retryWindowMs({ now, deadline: now + 20_000, connectTimeoutMs }),
    20_000 - connectTimeoutMs - MIGRATE_RETRY.answerMarginMs,
    'room for the last attempt to time out and for the answer',
  );
  t.equal(retryWindowMs({ now, deadline: now + 2000, connectTimeoutMs }), 0, 'no time left: one attempt');
  t.equal(retryWindowMs({ now, deadline: now - 1, connectTimeoutMs }), 0, 'a passed deadline: one attempt');
  t.equal(
    retryWindowMs({ now, deadline: undefined, connectTimeoutMs }),
    MIGRATE_RETRY.budgetWithoutDeadlineMs,
  );
  t.equal(
    retryWindowMs({ now, deadline: now + 60 * 60_000, connectTimeoutMs }),
    MIGRATE_RETRY.budgetWithoutDeadlineMs,
    'a deadline beyond Lambda’s 15-minute limit is not a Lambda deadline',
  );
});

t.test('the Lambda context header gives the deadline; anything odd in it is ignored', async (t) => {
  const read = (deadline: unknown) =>
    readLambdaContext({ 'x-amzn-lambda-context': JSON.stringify({ ...lambdaContext(), deadline }) }).deadline;
  t.equal(read(1_795_341_603_000), 1_795_341_603_000);
  for (const odd of ['1795341603000', -5, 0, 1.5, null, { ms: 1 }, 2 ** 60]) {
    t.equal(read(odd), undefined, JSON.stringify(odd));
  }
  t.equal(readLambdaContext({}).deadline, undefined);
});

t.test('only connection-level failures are retryable', async (t) => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
  const retryable = [
    withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    withCode('connection failure', '08006'),
    withCode('the database system is starting up', '57P03'),
    withCode('terminating connection due to administrator command', '57P01'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('wrapped', { cause: withCode('read ECONNRESET', 'ECONNRESET') }),
    new DomainError('DATABASE_UNAVAILABLE'),
    new DomainError('DATABASE_UNAVAILABLE', undefined, { cause: withCode('connect ETIMEDOUT', 'ETIMEDOUT') }),
  ];
  const notRetryable = [
    withCode('relation "books" already exists', '42P07'),
    withCode('syntax error at or near "x"', '42601'),
    withCode('password authentication failed for user "app"', '28P01'),
    withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
    withCode('canceling statement due to statement timeout', '57014'),
    new Error('Query read timeout'),
    new DomainError('EVENT_FAILED'),
    new DomainError('DATABASE_UNAVAILABLE', undefined, {
      cause: withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
    }),
    'not an error',
  ];
  for (const error of retryable) t.ok(isConnectionFailure(error), String(error));
  for (const error of notRetryable) t.notOk(isConnectionFailure(error), String(error));
  t.ok(
    isDatabaseUnavailable(withCode('canceling statement due to statement timeout', '57014')),
    'still a 503',
  );
  t.ok(isDatabaseUnavailable(new Error('Query read timeout')), 'still a 503');
});
