// The database plugin: per-request EntityManagers, bounded waits on a hung database, and retries of a
// failed start-up.
import { createServer as createTcpServer, type Socket } from 'node:net';
import t from 'tap';
import { ApiKeySchema } from '../../src/modules/api-keys/api-key.entity.ts';
import { freePort } from '../../tools/free-port.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { setEnv } from '../helpers/env.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';
import { addSlowQueryRoute, SLOW_QUERY_PATH } from '../helpers/slow-query-route.ts';

const db = await startTestDatabase(t);

t.test('two concurrent requests never share an identity map', async (t) => {
  // Two places in the gate: inside Lambda the default is one, and these two must run at once.
  const app = await buildServer(t, { DATABASE_URL: db.url, DATABASE_POOL_MAX: '2' });
  const setup = (await app.server.plugins.database.getOrm()).em.fork();
  const row = setup.create(ApiKeySchema, {
    prefix: 'ak_identitymap',
    keyHash: '0'.repeat(64),
    name: 'Shared?',
    dailyQuota: 1,
    rateLimitPerMinute: 1,
  });
  await setup.flush();
  const { id } = row;

  const seen: { emId: number; title: string }[] = [];
  const bothLoaded = Promise.withResolvers<undefined>();
  app.server.route({
    method: 'GET',
    path: '/test/em/{mutate}',
    handler: async (request) =>
      request.server.plugins.database.run(request, async (em) => {
        const key = await em.findOneOrFail(ApiKeySchema, { id });
        // One request changes its copy in memory (never flushed); the other must not see the change.
        if (request.params.mutate === 'yes') key.name = 'changed in memory only';
        seen.push({ emId: em.id, title: key.name });
        if (seen.length === 2) bothLoaded.resolve(undefined);
        await bothLoaded.promise;
        const again = await em.findOneOrFail(ApiKeySchema, { id });
        return {
          emId: em.id,
          sameInstance: again === key,
          title: again.name,
          globalEmId: (await request.server.plugins.database.getOrm()).em.id,
        };
      }),
  });

  const [mutating, reading] = await Promise.all([
    app.json<{ emId: number; title: string; sameInstance: boolean; globalEmId: number }>('/test/em/yes'),
    app.json<{ emId: number; title: string; sameInstance: boolean; globalEmId: number }>('/test/em/no'),
  ]);
  t.not(mutating.body.emId, reading.body.emId, 'each request has its own EntityManager');
  t.not(mutating.body.emId, mutating.body.globalEmId, 'no request uses the global EntityManager');
  t.ok(mutating.body.sameInstance, 'within one request the identity map returns the same instance');
  t.equal(mutating.body.title, 'changed in memory only');
  t.equal(reading.body.title, 'Shared?', 'the other request never sees the unflushed change');
});

t.test(
  'a database that accepts connections but never answers → 503 within the connect timeout',
  async (t) => {
    const sockets = new Set<Socket>();
    const blackhole = createTcpServer((socket) => sockets.add(socket));
    const port = await freePort();
    await new Promise<void>((resolve) => blackhole.listen(port, '127.0.0.1', resolve));
    t.teardown(() => {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
    });

    const app = await buildServer(t, {
      DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/app`,
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    });
    await addFixtureModule(app.server);
    const started = performance.now();
    const { status, body } = await app.json(FIXTURE_PATH);
    const elapsed = performance.now() - started;
    t.equal(status, 503);
    t.equal(body.code, 5031);
    // Without the connect timeout this request would hang until the OS gives up (minutes). The bound
    // leaves room for the ORM's first start-up on a busy CI runner.
    t.ok(elapsed < 5000, `answered in ${Math.round(elapsed)} ms`);
  },
);

t.test('a query that runs too long → 503 within the query timeout', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url, DATABASE_QUERY_TIMEOUT_MS: '300' });
  addSlowQueryRoute(app.server);
  // Start the ORM first, so the figure is the query and its timeout, not the first start-up.
  await app.server.plugins.database.getOrm();
  const started = performance.now();
  const { status, body } = await app.json(SLOW_QUERY_PATH);
  const elapsed = performance.now() - started;
  t.equal(status, 503);
  t.equal(body.code, 5031);
  t.ok(elapsed < 2000, `answered in ${Math.round(elapsed)} ms`);
});

t.test('a failed ORM start-up is retried by the next request', async (t) => {
  const app = await buildServer(t, {
    DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing',
  });
  // No AWS credentials or endpoint here: resolving the secret fails, the request gets a 503.
  setEnv(t, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:1',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  for (let attempt = 1; attempt <= 2; attempt++) {
    const { status, body } = await app.json('/health/ready');
    t.equal(status, 503, `attempt ${attempt}`);
    t.equal(body.code, 5031);
  }
});

t.test(
  'more requests than connections: they queue, and those still queued at the deadline are shed as overload',
  async (t) => {
    const app = await buildServer(
      t,
      { DATABASE_URL: db.url, DATABASE_POOL_MAX: '1', DATABASE_QUEUE_TIMEOUT_MS: '300' },
      { captureLogs: true },
    );
    const holding = Promise.withResolvers<undefined>();
    const admitted: string[] = [];
    app.server.route({
      method: 'GET',
      path: '/test/hold/{name}',
      handler: async (request) =>
        request.server.plugins.database.run(request, async (em) => {
          const { name } = request.params as { name: string };
          admitted.push(name);
          await em.getConnection().execute('select 1');
          if (name === 'first') await holding.promise;
          return name;
        }),
    });
    await app.server.plugins.database.getOrm();
    const first = app.inject('/test/hold/first');
    while (!admitted.includes('first')) await new Promise((resolve) => setTimeout(resolve, 5));
    // The only connection is held until `holding` resolves: both of these wait, then are shed.
    const queued = app.inject('/test/hold/queued');
    const shed = await app.json('/test/hold/shed-one');
    t.equal(shed.status, 503);
    t.equal(shed.body.code, 5034, 'OVERLOADED, not DATABASE_UNAVAILABLE');
    t.equal(shed.headers['retry-after'], '1');
    t.equal((await queued).statusCode, 503, 'queued past its deadline too');
    holding.resolve(undefined);
    t.equal((await first).statusCode, 200);
    const later = await app.inject('/test/hold/later');
    t.equal(later.statusCode, 200, 'the place is free again once the work ended');
    t.same(admitted, ['first', 'later']);
    const warnings = app.logs.lines().filter((line) => line.code === 5034);
    t.equal(warnings.length, 2);
    t.ok(warnings.every((line) => line.msg === 'overloaded: request shed' && line.level === 40));
  },
);
