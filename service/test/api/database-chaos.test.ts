// The service, a real process on real sockets, through faults of its database connections: backends
// terminated, the database restarted, connections silenced, the server frozen. Afterwards nothing fails.
import t from 'tap';
import pg from 'pg';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFixtureService, type Bundle } from '../helpers/bundle.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { createFixtureTable, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { createSilencingProxy, type SilencingProxy } from '../helpers/silencing-proxy.ts';
import type { Teardown } from '../helpers/teardown.ts';

// Each fault waits out real timeouts (query, keep-alive, freezes): longer than tap's default per file.
t.setTimeout(300_000);
const db = await startTestDatabase(t);
// Reads and writes go to the test-only notes module, which routes every module's work the same way.
await createFixtureTable(db.url);

/** How long a fault may keep the service from answering before the test gives up on it. */
const RECOVERY_BOUND_MS = 30_000;
/** The shortest keep-alive the service accepts: freezing for longer than it is the point of one test. */
const KEEP_ALIVE_TIMEOUT_MS = 5000;
/** How long the Lambda Web Adapter keeps an idle connection to the app for reuse (its `lib.rs`). */
const ADAPTER_IDLE_MS = 4000;

interface Answer {
  /** The HTTP status, or the name of the client's error (a reset, a timeout). */
  readonly outcome: string;
  readonly ms: number;
  readonly startedAt: number;
}

async function startService(
  t: Teardown,
  env: Record<string, string> = {},
): Promise<{ service: Bundle; proxy: SilencingProxy }> {
  const proxy = await createSilencingProxy(t, { targetPort: db.port });
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const service = await startFixtureService(t, {
    DATABASE_URL: url.toString(),
    KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
    ...env,
  });
  return { service, proxy };
}

async function read(service: Bundle): Promise<Answer> {
  const startedAt = performance.now();
  try {
    const response = await fetch(`${service.base}${FIXTURE_PATH}?limit=1`, {
      signal: AbortSignal.timeout(RECOVERY_BOUND_MS),
    });
    await response.arrayBuffer();
    return { outcome: String(response.status), ms: performance.now() - startedAt, startedAt };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { outcome: cause?.code ?? (error as Error).name, ms: performance.now() - startedAt, startedAt };
  }
}

/** `count` reads, `concurrency` at a time. */
async function reads(service: Bundle, count: number, concurrency: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        answers.push(await read(service));
      }
    }),
  );
  return answers;
}

/** Reads `concurrency` at a time until `done` settles (bounded by RECOVERY_BOUND_MS). */
async function readsDuring(service: Bundle, concurrency: number, done: Promise<unknown>): Promise<Answer[]> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const deadline = performance.now() + RECOVERY_BOUND_MS;
  const answers: Answer[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!finished && performance.now() < deadline) answers.push(await read(service));
    }),
  );
  return answers;
}

function tally(answers: readonly Answer[]): string {
  const counts = new Map<string, number>();
  for (const { outcome } of answers) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const slowest = Math.max(0, ...answers.map(({ ms }) => ms));
  return `${[...counts].map(([outcome, n]) => `${outcome}: ${n}`).join(', ')}; slowest ${Math.round(slowest)} ms`;
}

const failures = (answers: readonly Answer[]) => answers.filter(({ outcome }) => outcome !== '200');

/** The distinct errors the service logged, for the figures when something failed. */
function loggedErrors(service: Bundle): string {
  const messages = new Set<string>();
  for (const line of service.lines()) {
    const err = line.err as { message?: string } | undefined;
    if (typeof line.level === 'number' && line.level >= 40 && err !== undefined) {
      messages.add(`${String(line.code)} ${err.message ?? ''}`);
    }
  }
  return [...messages].join(' | ') || 'none';
}

/** Every backend of the application database but the caller's; resolves to how many were terminated. */
async function terminateServiceBackends(): Promise<number> {
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ terminated: string }>(
      `select count(pg_terminate_backend(pid)) as terminated from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    return Number(rows[0]?.terminated ?? 0);
  } finally {
    await admin.end();
  }
}

t.test('every backend terminated while reads flow: no read fails', async (t) => {
  const { service } = await startService(t);
  t.same(failures(await reads(service, 30, 6)), [], 'warm: the pool holds several connections');

  // Three separate faults, each terminating every backend the service has at that moment.
  const rounds = 3;
  const faults = (async () => {
    const terminated: number[] = [];
    for (let round = 0; round < rounds; round++) {
      await sleep(700);
      terminated.push(await terminateServiceBackends());
    }
    await sleep(700);
    return terminated;
  })();
  const answers = await readsDuring(service, 4, faults);
  t.comment(`terminated ${(await faults).join(' + ')} backends; reads meanwhile: ${tally(answers)}`);
  t.same(failures(answers), [], 'zero failed answers', { errors: loggedErrors(service) });
  t.same(failures(await reads(service, 12, 6)), [], 'and all the next ones succeed');
});

t.test('the database restarted: every read after it is back succeeds', async (t) => {
  const { service } = await startService(t);
  t.same(failures(await reads(service, 30, 6)), [], 'warm');

  await db.postgres.stop();
  await db.postgres.start();
  const backAt = performance.now();
  const answers = await reads(service, 30, 6);
  const firstOk = answers.find(({ outcome }) => outcome === '200');
  t.comment(
    `after the restart: ${tally(answers)}; first success ${firstOk ? Math.round(firstOk.startedAt + firstOk.ms - backAt) : '-'} ms after the database was back`,
  );
  t.same(failures(answers), [], 'zero failed answers');
});

t.test('the database restarted while the server is frozen: every read at the thaw succeeds', async (t) => {
  const { service } = await startService(t);
  t.same(failures(await reads(service, 30, 6)), [], 'warm');
  const pid = service.child.pid;
  if (pid === undefined) throw new Error('the service has no pid');

  let answers: Promise<Answer[]> | undefined;
  process.kill(pid, 'SIGSTOP');
  try {
    await db.postgres.stop();
    await db.postgres.start();
    answers = reads(service, 12, 5);
    await sleep(200);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const thawed = await answers;
  t.comment(`restarted while frozen; 12 reads (5 at a time) sent at the thaw: ${tally(thawed)}`);
  t.same(failures(thawed), [], 'zero failed answers', { errors: loggedErrors(service) });
});

t.test('every open connection silenced after 12 s idle: the next reads all succeed', async (t) => {
  const { service, proxy } = await startService(t);
  t.same(failures(await reads(service, 30, 6)), [], 'warm');

  const silenced = proxy.silence();
  await sleep(12_000);
  const answers = await reads(service, 10, 1);
  t.comment(`silenced ${silenced} connections; after 12 s idle, 10 reads one at a time: ${tally(answers)}`);
  t.comment(`first read after the silence: ${Math.round(answers[0]?.ms ?? 0)} ms`);
  t.same(failures(answers), [], 'zero failed answers', { errors: loggedErrors(service) });
});

t.test('every open connection silenced with no idle time: the next reads all succeed', async (t) => {
  const { service, proxy } = await startService(t);
  t.same(failures(await reads(service, 30, 6)), [], 'warm');

  const silenced = proxy.silence();
  // As many at once as the gate has places: more would wait behind reads stuck on silenced connections
  // for as long as the query timeout, and be shed as overload (503 with Retry-After) at the queue's bound.
  const answers = await reads(service, 12, 5);
  t.comment(`silenced ${silenced} connections; at once, 12 reads 5 at a time: ${tally(answers)}`);
  t.same(failures(answers), [], 'zero failed answers', { errors: loggedErrors(service) });
});

t.test('a write that failed on a silenced connection is not run again', async (t) => {
  const { service, proxy } = await startService(t);
  t.same(failures(await reads(service, 10, 5)), [], 'warm');

  proxy.silence();
  const accepted = proxy.accepted;
  const response = await fetch(`${service.base}${FIXTURE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Maybe written' }),
    signal: AbortSignal.timeout(RECOVERY_BOUND_MS),
  });
  const body = (await response.json()) as { code?: number };
  t.comment(`POST on a silenced connection: ${response.status} ${String(body.code)}`);
  t.equal(response.status, 503, 'the write fails as the database being unavailable');
  t.equal(proxy.accepted, accepted, 'and no other connection was opened to run it again');
});

t.test('the server frozen longer than its idle timeouts while its connections die', async (t) => {
  const { service, proxy } = await startService(t);
  t.same(failures(await reads(service, 30, 6)), [], 'warm');
  const pid = service.child.pid;
  if (pid === undefined) throw new Error('the service has no pid');

  // Longer than the server's keep-alive, the client's (4 s, as the Web Adapter's) and the idle check, but
  // shorter than the pool's idle timeout (30 s), whose timers would otherwise discard the connections on
  // thaw. Meanwhile the network forgets the database connections, as a NAT or a failover does, and the
  // reads arrive while the server is still frozen, as an invocation thaws it.
  const frozenMs = 12_000;
  let answers: Promise<Answer[]> | undefined;
  process.kill(pid, 'SIGSTOP');
  try {
    await sleep(1000);
    proxy.silence();
    await sleep(frozenMs - 1200);
    answers = reads(service, 12, 6);
    await sleep(200);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const thawed = await answers;
  t.comment(`frozen ${frozenMs / 1000} s; 12 reads (6 at a time) sent at the thaw: ${tally(thawed)}`);
  t.same(failures(thawed), [], 'zero failed answers');
});

t.test(
  'a keep-alive connection idle as long as the Web Adapter reuses one, across a freeze, is answered',
  async (t) => {
    // The shortest headers timeout too: it bounds a request's headers, never an idle connection.
    const { service } = await startService(t, { HEADERS_TIMEOUT_MS: '1000' });
    const pid = service.child.pid;
    if (pid === undefined) throw new Error('the service has no pid');
    const socket = connect(service.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = once(socket, 'close');
    const ask = async () => {
      const before = received.length;
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const deadline = performance.now() + 5000;
      while (!/HTTP\/1\.1 \d{3}[\s\S]*\r\n\r\n/.test(received.slice(before)) && performance.now() < deadline)
        await sleep(20);
      return /HTTP\/1\.1 (\d{3})/.exec(received.slice(before))?.[1] ?? 'none';
    };
    t.equal(await ask(), '200', 'first request');
    // The adapter reuses an idle connection for up to 4 s of its own clock, which a freeze stops as well.
    process.kill(pid, 'SIGSTOP');
    await sleep(ADAPTER_IDLE_MS - 500);
    process.kill(pid, 'SIGCONT');
    t.equal(await ask(), '200', `answered on the same connection after ${ADAPTER_IDLE_MS - 500} ms, frozen`);
    socket.end();
    await closed;
  },
);

t.test('what the idle check costs the first read after idle (figures, no assertion on time)', async (t) => {
  const idleMs = 1200;
  const rounds = 6;
  const figures: string[] = [];
  for (const [label, after] of [
    ['checked', '1000'],
    ['unchecked', '3600000'],
  ] as const) {
    const { service } = await startService(t, { DATABASE_IDLE_CHECK_AFTER_MS: after });
    t.same(failures(await reads(service, 5, 1)), [], `${label}: warm`);
    const times: number[] = [];
    for (let round = 0; round < rounds; round++) {
      await sleep(idleMs);
      const answer = await read(service);
      t.equal(answer.outcome, '200');
      times.push(answer.ms);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
    figures.push(`${label}: median ${at(0.5)} ms, min ${at(0)} ms, max ${at(1)} ms`);
  }
  t.comment(`first read after ${idleMs} ms idle, ${rounds} rounds, loopback: ${figures.join('; ')}`);

  // The check itself is one round trip: `select 1` on an open connection, here on loopback.
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const checks: number[] = [];
  for (let round = 0; round < 20; round++) {
    const started = performance.now();
    await client.query('select 1');
    checks.push(performance.now() - started);
  }
  await client.end();
  checks.sort((a, b) => a - b);
  t.comment(`select 1 on an open connection, 20 times: median ${(checks[10] ?? 0).toFixed(2)} ms`);
});
