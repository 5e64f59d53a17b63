// API keys end to end against a real PostgreSQL: lifecycle, quotas, 401/429, atomic counting, events, the
// keys:* scripts, the usage purge, no secrets in logs. A key's public id is its prefix (tests call it so).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import t, { type Test } from 'tap';
import { INVOCATION_ERROR_STATUS } from '../../src/errors/error-codes.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { hashKey, normalizePrefix, readPresentedKey } from '../../src/modules/api-keys/api-key.token.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer, type Envelope, type TestServer } from '../helpers/server.ts';
import { PASS_THROUGH_HEADERS } from '../fixtures/lambda.ts';

const SERVICE_DIR = path.resolve(import.meta.dirname, '../..');
const db = await startTestDatabase(t);

/** A server that requires API keys; `listening` also starts it on a free port of 127.0.0.1. */
async function keysApp(t: Test, { listening = false } = {}): Promise<TestServer> {
  const listen: Record<string, string> = listening ? { PORT: '0', HOST: '127.0.0.1' } : {};
  const app = await buildServer(
    t,
    { DATABASE_URL: db.url, API_KEYS_REQUIRED: 'true', ...listen },
    { captureLogs: true },
  );
  await addFixtureModule(app.server);
  if (listening) await app.server.start();
  return app;
}

interface CreatedKey {
  /** The public id: the key's prefix. */
  id: string;
  key: string;
  name: string;
  dailyQuota: number;
  rateLimitPerMinute: number;
}

async function createKey(app: TestServer, fields: Record<string, unknown>): Promise<CreatedKey> {
  const { status, body } = await app.json<Envelope<CreatedKey>>({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.create', ...fields },
  });
  if (status !== 200) throw new Error(`keys.create answered ${status}`);
  return body.data;
}

async function sql<T>(app: TestServer, query: string, params: unknown[] = []): Promise<T[]> {
  const orm = await app.server.plugins.database.getOrm();
  return orm.em.getConnection().execute<T[]>(query, params);
}

t.test('over real HTTP: a key works, its quota runs out with a 429 and resets the next day', async (t) => {
  const app = await keysApp(t, { listening: true });
  const base = `http://127.0.0.1:${String(app.server.info.port)}`;
  const { key, id: prefix } = await createKey(app, { name: 'e2e', quota: 3, rate: 100 });
  t.match(key, /^ak_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
  t.equal(prefix, key.slice(0, 15), 'the public id is the key prefix');

  const call = () => fetch(`${base}${FIXTURE_PATH}?limit=1`, { headers: { 'x-api-key': key } });
  const remaining: string[] = [];
  for (let i = 0; i < 3; i++) {
    const response = await call();
    t.equal(response.status, 200);
    remaining.push(response.headers.get('x-quota-remaining') ?? '');
  }
  t.same(remaining, ['2', '1', '0'], 'the remaining quota counts down');

  const over = await call();
  t.equal(over.status, 429);
  const body = (await over.json()) as Envelope;
  t.match(body, { success: false, code: 4292, data: null, message: /daily quota/ });
  const retryAfter = Number(over.headers.get('retry-after'));
  t.ok(retryAfter >= 1 && retryAfter <= 86_400, `Retry-After ${String(retryAfter)} s is until midnight UTC`);

  // A new day: move today's counters to yesterday.
  await sql(
    app,
    `update api_key_usage set window_start = window_start - interval '1 day'
     where key_id = (select id from api_keys where prefix = ?)`,
    [prefix],
  );
  const reset = await fetch(`${base}${FIXTURE_PATH}`, { headers: { authorization: `Bearer ${key}` } });
  t.equal(reset.status, 200, 'the quota is fresh the next day (Bearer works too)');
  t.equal(reset.headers.get('x-quota-remaining'), '2');
});

t.test('the per-minute rate answers 429 RATE_LIMITED without spending the daily quota', async (t) => {
  const app = await keysApp(t);
  const { key } = await createKey(app, { name: 'rate', quota: 100, rate: 2 });
  const statuses: number[] = [];
  let last = await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
  statuses.push(last.statusCode);
  for (let i = 0; i < 3; i++) {
    last = await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
    statuses.push(last.statusCode);
  }
  t.same(statuses, [200, 200, 429, 429]);
  const body = JSON.parse(last.payload) as Envelope;
  t.match(body, { code: 4291, success: false });
  const retryAfter = Number(last.headers['retry-after']);
  t.ok(retryAfter >= 1 && retryAfter <= 60, 'Retry-After is until the next minute');
  t.equal(last.headers['ratelimit-remaining'], '0');
  t.equal(last.headers['x-quota-remaining'], '98', 'rejected requests did not spend the daily quota');
});

t.test('concurrent requests are counted exactly (one atomic upsert each)', async (t) => {
  const app = await keysApp(t);
  const { key, id: prefix } = await createKey(app, { name: 'burst', quota: 25, rate: 1000 });
  const responses = await Promise.all(
    Array.from({ length: 40 }, () =>
      app.inject({ url: `${FIXTURE_PATH}?limit=1`, headers: { 'x-api-key': key } }),
    ),
  );
  const ok = responses.filter((r) => r.statusCode === 200).length;
  const limited = responses.filter((r) => r.statusCode === 429).length;
  t.equal(ok, 25, 'exactly the quota succeeds');
  t.equal(limited, 15);
  const [row] = await sql<{ count: number }>(
    app,
    `select count from api_key_usage u join api_keys k on k.id = u.key_id where k.prefix = ? and u.period = 'day'`,
    [prefix],
  );
  t.equal(row?.count, 40, 'every request was counted once');
});

t.test('missing, malformed, unknown and revoked keys get a 401 envelope with WWW-Authenticate', async (t) => {
  const app = await keysApp(t);
  const { key, id: prefix } = await createKey(app, { name: 'to-revoke' });
  const wrongSecret = `${key.slice(0, 16)}${key.at(16) === 'A' ? 'B' : 'A'}${key.slice(17)}`;
  const unknown = `ak_${'a'.repeat(12)}_${'b'.repeat(43)}`;
  const cases: [string, Record<string, string>, number][] = [
    ['no key', {}, 4011],
    ['empty x-api-key', { 'x-api-key': '' }, 4011],
    ['Basic auth', { authorization: 'Basic dXNlcjpwYXNz' }, 4011],
    ['malformed key', { 'x-api-key': 'not-a-key' }, 4012],
    ['unknown prefix', { 'x-api-key': unknown }, 4012],
    ['right prefix, wrong secret', { 'x-api-key': wrongSecret }, 4012],
    ['Bearer garbage', { authorization: 'Bearer garbage' }, 4012],
  ];
  for (const [label, headers, code] of cases) {
    const response = await app.inject({ url: FIXTURE_PATH, headers });
    t.equal(response.statusCode, 401, label);
    t.match(JSON.parse(response.payload), { success: false, code, data: null, traceId: String }, label);
    t.match(response.headers['www-authenticate'], /^Bearer realm="api"/, label);
  }
  const before = await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
  t.equal(before.statusCode, 200);

  const revoked = await app.json<Envelope<{ revokedAt: string }>>({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.revoke', id: prefix },
  });
  t.equal(revoked.status, 200);
  t.ok(revoked.body.data.revokedAt);
  const after = await app.json({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
  t.equal(after.status, 401);
  t.equal(after.body.code, 4013, 'API_KEY_REVOKED');
  const wrongAfter = await app.json({ url: FIXTURE_PATH, headers: { 'x-api-key': wrongSecret } });
  t.equal(wrongAfter.body.code, 4012, 'without the secret, revocation is not revealed');

  const again = await app.json<Envelope<{ revokedAt: string }>>({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.revoke', id: prefix.slice(3) },
  });
  t.equal(again.body.data.revokedAt, revoked.body.data.revokedAt, 'revoking twice keeps the first time');
  const missing = await app.json({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.revoke', id: 'ak_zzzzzzzzzzzz' },
  });
  t.match(missing, { status: INVOCATION_ERROR_STATUS, body: { code: 9101 } });
  const nonsense = await app.json({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.revoke', id: '!' },
  });
  t.match(nonsense, { status: INVOCATION_ERROR_STATUS, body: { code: 9101 } });
});

t.test('open routes need no key; usage headers appear on errors of identified keys too', async (t) => {
  const app = await keysApp(t);
  for (const url of ['/health', '/health/ready', '/openapi.json', '/docs']) {
    t.equal((await app.inject(url)).statusCode, 200, url);
  }
  const { key } = await createKey(app, { name: 'headers', quota: 10, rate: 5 });
  const notFound = await app.inject({
    url: `${FIXTURE_PATH}/0b7f5bde-0d9c-4c1b-8f3e-6e0f7f8f9a0b`,
    headers: { 'x-api-key': key },
  });
  t.equal(notFound.statusCode, 404);
  t.match(notFound.headers, {
    'ratelimit-limit': '5',
    'ratelimit-remaining': '4',
    'x-quota-limit': '10',
    'x-quota-remaining': '9',
  });
  t.ok(Number(notFound.headers['ratelimit-reset']) >= 1);
});

t.test('keys.create validates its input; keys.list reports usage; events never take API keys', async (t) => {
  const app = await keysApp(t);
  const bad = await app.json({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.create', name: '', quota: -1 },
  });
  t.equal(bad.status, INVOCATION_ERROR_STATUS, 'a failed event is an invocation error');
  t.match(bad.body, { code: 8001 });
  t.same(bad.body.errors?.map((e) => e.field).sort(), ['name', 'quota']);

  const { id: prefix, key, dailyQuota, rateLimitPerMinute } = await createKey(app, { name: 'defaults' });
  t.equal(dailyQuota, app.config.apiKeys.defaultDailyQuota);
  t.equal(rateLimitPerMinute, app.config.apiKeys.defaultRatePerMinute);
  await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
  const listed = await app.json<
    Envelope<{ keys: { id: string; usedToday: number; lastUsedAt: string | null }[] }>
  >({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.list' },
  });
  const entry = listed.body.data.keys.find((k) => k.id === prefix);
  t.match(entry, { usedToday: 1, lastUsedAt: String });
  t.notMatch(
    JSON.stringify(listed.body),
    /"key"|key_hash|keyHash/,
    'listings never carry the key or its hash',
  );
  const [stored] = await sql<{ key_hash: string }>(app, 'select key_hash from api_keys where prefix = ?', [
    prefix,
  ]);
  t.equal(stored?.key_hash, hashKey(key), 'only the SHA-256 of the key is stored');
});

t.test('maintenance purges old usage windows', async (t) => {
  const app = await keysApp(t);
  const { id: prefix, key } = await createKey(app, { name: 'purge' });
  await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
  await sql(
    app,
    `insert into api_key_usage (key_id, period, window_start, count)
     select id, 'day', now() - interval '400 days', 5 from api_keys where prefix = ?
     union all select id, 'minute', now() - interval '2 hours', 5 from api_keys where prefix = ?`,
    [prefix, prefix],
  );
  const { status, body } = await app.json<Envelope<{ tasks: Record<string, Record<string, number>> }>>({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'maintenance' },
  });
  t.equal(status, 200);
  t.match(body.data.tasks['apiKeys.purgeUsage'], { purgedDayWindows: 1 });
  t.ok((body.data.tasks['apiKeys.purgeUsage']?.purgedMinuteWindows ?? 0) >= 1);
  const rows = await sql<{ period: string }>(
    app,
    'select period from api_key_usage u join api_keys k on k.id = u.key_id where k.prefix = ?',
    [prefix],
  );
  t.same(rows.map((r) => r.period).sort(), ['day', 'minute'], "today's windows stay");
});

t.test('keys:create, keys:list and keys:revoke scripts against DATABASE_URL', async (t) => {
  const app = await keysApp(t);
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['scripts/keys.ts', ...args], {
      cwd: SERVICE_DIR,
      env: { ...process.env, DATABASE_URL: db.url },
    });
  const created = await run('create', '--name', 'from-script', '--quota', '7', '--rate', '3');
  const key = created.stdout.trim().split('\n').at(-1) ?? '';
  t.match(key, /^ak_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/, 'the key is the last line, printed once');
  t.match(created.stdout, /7\/day, 3\/min/);
  const response = await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
  t.equal(response.statusCode, 200, 'the printed key works');

  const listed = JSON.parse((await run('list', '--json')).stdout) as { id: string; usedToday: number }[];
  t.match(
    listed.find((k) => k.id === key.slice(0, 15)),
    { usedToday: 1 },
  );
  const text = (await run('list')).stdout;
  t.match(text, /from-script/);
  t.notMatch(text, key.slice(16), 'listings never print the secret');

  const revoked = await run('revoke', '--id', key.slice(0, 15));
  t.match(revoked.stdout, /Revoked ak_/);
  t.equal((await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } })).statusCode, 401);

  await t.rejects(run('create'), { code: 1, stderr: /--name is required/ });
  await t.rejects(run('create', '--name', 'x', '--quota', '0'), { code: 1, stderr: /--quota/ });
  await t.rejects(run('revoke', '--id', 'ak_zzzzzzzzzzzz'), { code: 1, stderr: /No API key/ });
  await t.rejects(run('explode'), { code: 1, stderr: /usage: keys.ts/ });
});

t.test(
  'secrets never reach the logs: keys, their hashes, the database URL, authorization headers',
  async (t) => {
    const app = await keysApp(t);
    const { key } = await createKey(app, { name: 'log-check' });
    const bearer = `Bearer ${key}`;
    await app.inject({ url: FIXTURE_PATH, headers: { 'x-api-key': key } });
    await app.inject({ url: FIXTURE_PATH, headers: { authorization: bearer } });
    await app.inject({ url: '/v1/nope', headers: { authorization: bearer, 'x-api-key': 'wrong' } });
    await app.inject({ url: `${FIXTURE_PATH}?key=${key}`, headers: { 'x-api-key': key } });
    const text = app.logs.text();
    t.ok(text.length > 0, 'logs were captured');
    t.notMatch(text, key.slice(16), 'no key secret (also not from the keys.create event result)');
    t.notMatch(text, hashKey(key), 'no key hash');
    t.notMatch(text, db.url, 'no database URL');
    t.notMatch(text, new URL(db.url).password || '\u0000', 'no database password');
    t.notMatch(text, 'Bearer ', 'no authorization header');
    t.match(text, /api-key|x-api-key|REDACTED|GET \/v1\/fixture-notes/, 'the requests themselves are logged');
  },
);

t.test('key parsing helpers', async (t) => {
  t.equal(normalizePrefix('  ak_abcdefghijkl '), 'ak_abcdefghijkl');
  t.equal(normalizePrefix('abcdefghijkl'), 'ak_abcdefghijkl');
  t.equal(normalizePrefix('ak_ABC'), undefined);
  t.same(readPresentedKey({ 'x-api-key': ['a', 'b'] }), { kind: 'malformed' });
  t.same(readPresentedKey({ authorization: 'Bearer ' }), { kind: 'missing' });
});
