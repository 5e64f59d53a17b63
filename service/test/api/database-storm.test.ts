// Connections under load against a real PostgreSQL: one per instance inside Lambda, and a storm of
// instances beyond max_connections answered 200 or 503 with Retry-After, then recovering by itself.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { startEmbeddedPostgres } from '../../tools/embedded-postgres.ts';
import { migrateDatabase } from '../../tools/with-orm.ts';
import { PASS_THROUGH_HEADERS } from '../fixtures/lambda.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { startPgWireRecorder } from '../helpers/pg-wire-recorder.ts';
import { buildServer, type TestServer } from '../helpers/server.ts';
import type { Teardown } from '../helpers/teardown.ts';

/** Small on purpose: the storm's instances outnumber it twice over. */
const MAX_CONNECTIONS = 7;
const INSTANCES = 12;
const STORM_REQUESTS_PER_INSTANCE = 10;
const RECOVERY_ROUNDS = 20;

const root = await mkdtemp(path.join(tmpdir(), 'service-storm-'));
const db = await startEmbeddedPostgres({
  dataDir: path.join(root, 'pgdata'),
  persistent: false,
  fast: true,
  postgresFlags: ['-c', `max_connections=${MAX_CONNECTIONS}`, '-c', 'superuser_reserved_connections=0'],
});
t.teardown(async () => {
  await db.stop();
  await rm(root, { recursive: true, force: true });
});
await migrateDatabase({ DATABASE_URL: db.url });

const via = (port: number) => db.url.replace(`:${db.port}/`, `:${port}/`);

interface Answer {
  readonly status: number;
  readonly code: number | undefined;
  readonly retryAfter: string | null;
}

async function call(url: string, init?: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const body = (await response.json()) as { code?: number };
  return { status: response.status, code: body.code, retryAfter: response.headers.get('retry-after') };
}

const label = ({ status, code }: Answer) => (code === undefined ? String(status) : `${status} ${code}`);

/** Only answers a client can act on: served, or shed as overload with a delay to retry after. */
function unexpected(answers: readonly Answer[]): Answer[] {
  return answers.filter(
    (a) => !(a.status === 200 || (a.status === 503 && a.code === 5034 && a.retryAfter !== null)),
  );
}

function countBy(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[label(answer)] = (counts[label(answer)] ?? 0) + 1;
  return counts;
}

function countLines(lines: readonly Record<string, unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    const key = `${String(line.level)} ${String(line.msg)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function listening(t: Teardown, env: Record<string, string>): Promise<TestServer & { origin: string }> {
  const app = await buildServer(t, { PORT: '0', HOST: '127.0.0.1', ...env }, { captureLogs: true });
  await addFixtureModule(app.server);
  await app.server.start();
  return Object.assign(app, { origin: `http://127.0.0.1:${String(app.server.info.port)}` });
}

t.test('inside Lambda an instance opens one connection, whatever overlaps', async (t) => {
  const recorder = await startPgWireRecorder(t, db.port);
  const app = await listening(t, { DATABASE_URL: via(recorder.port) });
  t.equal(app.config.database.poolMax, 1, 'DATABASE_POOL_MAX defaults to 1 inside Lambda');
  // Leftovers of earlier invocations (a request cut off by its timeout, a readiness check) can overlap.
  const answers = await Promise.all([
    ...Array.from({ length: 6 }, () => call(`${app.origin}${FIXTURE_PATH}?limit=1`)),
    call(`${app.origin}/health/ready`),
    call(`${app.origin}${EVENTS_PATH}`, {
      method: 'POST',
      headers: { ...PASS_THROUGH_HEADERS, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'maintenance' }),
    }),
  ]);
  t.comment(
    `answers: ${JSON.stringify(countBy(answers))}; connections opened ${recorder.connections.length}`,
  );
  t.equal(recorder.peak, 1, 'never more than one connection open');
  t.same(unexpected(answers.slice(0, 6)), [], 'requests are served or shed with Retry-After');
});

t.test('inside Lambda the one connection busy: a bounded wait, then 503 5034 with Retry-After', async (t) => {
  const app = await listening(t, { DATABASE_URL: db.url, DATABASE_QUEUE_TIMEOUT_MS: '300' });
  await call(`${app.origin}${FIXTURE_PATH}?limit=1`);
  // Another session locks the table: the instance's only connection waits inside its first request.
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  t.teardown(() => locker.end());
  await locker.query('begin; lock table fixture_notes in access exclusive mode');
  const holding = call(`${app.origin}${FIXTURE_PATH}?limit=1`);
  for (let waited = 0; waited < 100; waited++) {
    const { rows } = await locker.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
    );
    if (Number(rows[0]?.n) > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const started = performance.now();
  const shed = await call(`${app.origin}${FIXTURE_PATH}?limit=1`);
  const waitedMs = Math.round(performance.now() - started);
  await locker.query('commit');
  t.comment(`the queued request waited ${waitedMs} ms (DATABASE_QUEUE_TIMEOUT_MS 300)`);
  t.same(shed, { status: 503, code: 5034, retryAfter: '1' }, 'shed as overload, with Retry-After');
  t.ok(waitedMs < 3000, 'the wait is bounded by the queue timeout, not the connect or query timeout');
  t.equal((await holding).status, 200, 'the request holding the connection is served once the lock goes');
  t.equal((await call(`${app.origin}${FIXTURE_PATH}?limit=1`)).status, 200, 'and the next one too');
});

t.test('outside Lambda the pool is DATABASE_POOL_MAX (default 5) plus one for readiness', async (t) => {
  const recorder = await startPgWireRecorder(t, db.port);
  const app = await listening(t, { DATABASE_URL: via(recorder.port), AWS_LAMBDA_RUNTIME_API: '' });
  t.equal(app.config.database.poolMax, 5);
  const answers = await Promise.all([
    ...Array.from({ length: 20 }, () => call(`${app.origin}${FIXTURE_PATH}?limit=1`)),
    call(`${app.origin}/health/ready`),
  ]);
  t.ok(recorder.peak <= 6, `${recorder.peak} connections at most`);
  t.same(unexpected(answers), [], 'every answer is 200 or 503 with Retry-After');
});

t.test(
  'a storm of instances beyond max_connections: 200 or 503 with Retry-After, then recovery',
  async (t) => {
    const monitor = new pg.Client({ connectionString: db.url });
    await monitor.connect();
    t.teardown(() => monitor.end());
    let peakConnections = 0;
    const sampling = new AbortController();
    const sampler = (async () => {
      while (!sampling.signal.aborted) {
        const { rows } = await monitor.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where backend_type = 'client backend'",
        );
        peakConnections = Math.max(peakConnections, Number(rows[0]?.n ?? 0));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    // Each instance as inside Lambda (defaults), driven by its own client one request at a time.
    const instances = await Promise.all(
      Array.from({ length: INSTANCES }, () => listening(t, { DATABASE_URL: db.url })),
    );
    const storm = await Promise.all(
      instances.map(async (app) => {
        const answers: Answer[] = [];
        for (let i = 0; i < STORM_REQUESTS_PER_INSTANCE; i++) {
          answers.push(await call(`${app.origin}${FIXTURE_PATH}?limit=1`));
        }
        return answers;
      }),
    );
    const stormAnswers = storm.flat();
    const served = instances.filter((_, i) => storm[i]?.some((a) => a.status === 200));
    t.comment(
      `storm: ${INSTANCES} instances x ${STORM_REQUESTS_PER_INSTANCE} requests, max_connections ${MAX_CONNECTIONS} ` +
        `(one for the monitor): ${JSON.stringify(countBy(stormAnswers))}; ` +
        `${served.length} instances served; peak connections ${peakConnections}`,
    );
    // pino levels: 40 warn, 50 error. Shedding is a warning; an error would page someone for an outage.
    const warnings = instances.flatMap((app) => app.logs.lines()).filter((line) => Number(line.level) >= 40);
    t.comment(`storm log lines (warn and above): ${JSON.stringify(countLines(warnings))}`);
    t.same(
      warnings.filter((line) => Number(line.level) >= 50).map((line) => line.msg),
      [],
      'no error logged: the database is full, not down',
    );
    t.same(unexpected(stormAnswers), [], 'every answer is 200, or 503 5034 with Retry-After');
    t.ok(served.length > 0 && served.length < INSTANCES, 'some instances were served, some shed');
    t.ok(peakConnections <= MAX_CONNECTIONS, `peak ${peakConnections} within max_connections`);

    // Lambda reaps the instances it no longer needs: their connections go, and the others get them.
    const reaped = Date.now();
    await Promise.all(served.map((app) => app.server.stop()));
    const remaining = instances.filter((app) => !served.includes(app));
    const recovery: Answer[] = [];
    let rounds = 0;
    let recoveredAfter: number | undefined;
    while (rounds < RECOVERY_ROUNDS && recoveredAfter === undefined) {
      rounds += 1;
      const round = await Promise.all(
        remaining.map(async (app) => call(`${app.origin}${FIXTURE_PATH}?limit=1`)),
      );
      recovery.push(...round);
      if (round.every((a) => a.status === 200)) recoveredAfter = Date.now() - reaped;
    }
    sampling.abort();
    await sampler;
    t.comment(
      `recovery: ${served.length} instances reaped; the other ${remaining.length} all answered 200 after ` +
        `${rounds} round(s), ${String(recoveredAfter)} ms; answers ${JSON.stringify(countBy(recovery))}`,
    );
    t.same(unexpected(recovery), [], 'nothing but 200 and 503 with Retry-After while recovering');
    t.not(recoveredAfter, undefined, 'every remaining instance is served again, with no restart');
  },
);
