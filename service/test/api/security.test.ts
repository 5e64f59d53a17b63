// Hardening: 413, 415, 503 timeout, unknown query keys, prototype poisoning, security headers, no
// fingerprints, CORS only for configured origins, every /v1 route behind API keys and documented so.
import { connect, type Socket } from 'node:net';
import t from 'tap';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { lwaHeaders, PASS_THROUGH_HEADERS } from '../fixtures/lambda.ts';

const ORIGIN = 'https://app.example.com';
const db = await startTestDatabase(t);
const app = await buildServer(t, {
  DATABASE_URL: db.url,
  API_KEYS_REQUIRED: 'true',
  CORS_ORIGINS: ORIGIN,
  PAYLOAD_MAX_BYTES: '2048',
});
await addFixtureModule(app.server);
const created = await app.json<{ success: boolean; data: { key: string } }>({
  method: 'POST',
  url: EVENTS_PATH,
  headers: PASS_THROUGH_HEADERS,
  payload: { action: 'keys.create', name: 'security', rate: 100_000, quota: 1_000_000 },
});
if (!created.body.success) throw new Error(`keys.create failed: ${JSON.stringify(created.body)}`);
const auth = { 'x-api-key': created.body.data.key };
const note = () => ({ title: 'T', tag: 'a' });

const SECURITY_HEADERS = {
  'strict-transport-security': /max-age=\d+/,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-download-options': 'noopen',
};

t.test('a body over PAYLOAD_MAX_BYTES → 413 envelope', async (t) => {
  const { status, body } = await app.json({
    method: 'POST',
    url: FIXTURE_PATH,
    headers: auth,
    payload: { ...note(), title: 'x'.repeat(4000) },
  });
  t.equal(status, 413);
  t.match(body, { success: false, code: 4130 });
});

t.test('only JSON bodies are accepted → 415 for anything else', async (t) => {
  for (const contentType of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
  ]) {
    const { status, body } = await app.json({
      method: 'POST',
      url: FIXTURE_PATH,
      headers: { ...auth, 'content-type': contentType },
      payload: 'title=T&author=A',
    });
    t.equal(status, 415, contentType);
    t.match(body, { success: false, code: 4150 }, contentType);
  }
  const json = await app.inject({
    method: 'POST',
    url: FIXTURE_PATH,
    headers: { ...auth, 'content-type': 'application/json; charset=utf-8' },
    payload: JSON.stringify(note()),
  });
  t.equal(json.statusCode, 201, 'JSON with a charset is fine');
});

t.test('prototype poisoning in a JSON body is rejected, never merged', async (t) => {
  for (const payload of [
    '{"title":"T","tag":"a","__proto__":{"isAdmin":true}}',
    '{"title":"T","tag":"a","constructor":{"prototype":{"isAdmin":true}}}',
    '{"tag":"a","nested":{"__proto__":{"x":1}}}',
  ]) {
    const { status, body } = await app.json({
      method: 'POST',
      url: FIXTURE_PATH,
      headers: { ...auth, 'content-type': 'application/json' },
      payload,
    });
    t.equal(status, 400, payload);
    t.match(body, { success: false, code: Number });
  }
  t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype is untouched');
});

t.test('a handler slower than REQUEST_TIMEOUT_MS → 503 TIMEOUT envelope', async (t) => {
  // Its own server: a 100 ms budget on the shared one would also time out a slow first database request
  // (the ORM loads lazily) on a busy CI machine.
  const slow = await buildServer(t, { DATABASE_URL: db.url, REQUEST_TIMEOUT_MS: '100' });
  slow.server.route({
    method: 'GET',
    path: '/v1/test-slow',
    options: {
      handler: async (_request, h) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return h.success({ late: true });
      },
    },
  });
  const { status, body, headers } = await slow.json({ url: '/v1/test-slow' });
  t.equal(status, 503);
  t.match(body, { success: false, code: 5030, message: 'The request took too long' });
  t.match(headers, SECURITY_HEADERS);
});

/** What a raw HTTP/1.1 client on 127.0.0.1 receives: the bytes until the server closes, and any socket error. */
async function rawExchange(
  port: number,
  head: string,
  sendBody: (socket: Socket) => Promise<void>,
): Promise<{ received: string; error?: string }> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = new Promise<string | undefined>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
    socket.once('close', () => {
      resolve(undefined);
    });
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(head);
  // The server may answer and close while the body is still being sent.
  await sendBody(socket).catch(() => undefined);
  const error = await Promise.race([
    closed,
    new Promise<string>((resolve) => setTimeout(resolve, 5000, 'still open after 5 s')),
  ]);
  socket.destroy();
  return { received: Buffer.concat(chunks).toString('utf8'), error };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await t.test('request bodies over a real socket: too slow → 408, too large and chunked → 413', async (t) => {
  const { server } = await buildServer(t, {
    DATABASE_URL: db.url,
    PORT: '0',
    HOST: '127.0.0.1',
    REQUEST_TIMEOUT_MS: '500',
    PAYLOAD_MAX_BYTES: '2048',
  });
  await addFixtureModule(server);
  await server.start();
  const port = server.info.port as number;
  const head = (body: string) =>
    `POST ${FIXTURE_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${auth['x-api-key']}\r\n` +
    `content-type: application/json\r\n${body}\r\n`;

  await t.test(
    'a body that never finishes arriving → 408 REQUEST_TIMEOUT, then the connection closes',
    async (t) => {
      // Announces 100 bytes, sends 10, then one more every 50 ms: hapi's drain would wait for all of them.
      const { received, error } = await rawExchange(port, head('content-length: 100\r\n'), async (socket) => {
        socket.write('{"title":"');
        for (let i = 0; i < 40 && !socket.destroyed; i++) {
          await pause(50);
          socket.write('x');
        }
      });
      t.match(received, /^HTTP\/1\.1 408 /, "a 408, not the route timeout's 503");
      t.match(received, /"code":4080/);
      t.match(received, /\r\nconnection: close\r\n/i);
      t.equal(error, undefined, 'closed cleanly, not reset');
    },
  );

  await t.test('a chunked body over PAYLOAD_MAX_BYTES → 413 PAYLOAD_TOO_LARGE, not a reset', async (t) => {
    const { received, error } = await rawExchange(
      port,
      head('transfer-encoding: chunked\r\n'),
      async (socket) => {
        const chunk = 'x'.repeat(1024);
        for (let i = 0; i < 8 && !socket.destroyed; i++) {
          socket.write(`${(1024).toString(16)}\r\n${chunk}\r\n`);
          await pause(20);
        }
      },
    );
    t.match(received, /^HTTP\/1\.1 413 /);
    t.match(received, /"code":4130/);
    t.match(received, /\r\nconnection: close\r\n/i);
    t.not(error, 'ECONNRESET', 'the answer arrives before the connection closes');
  });
});

t.test('unknown query parameters are rejected on every /v1 route', async (t) => {
  const id = '0b7f5bde-0d9c-4c1b-8f3e-6e0f7f8f9a0b';
  for (const route of app.server.table()) {
    if (!route.path.startsWith('/v1/')) continue;
    const url = `${route.path.replace(/\{\w+\*?\}/g, id)}?unexpected=1`;
    // A body of a type the route accepts, so the query is what fails.
    const allow = route.settings.payload?.allow;
    const contentType = [allow ?? 'application/json'].flat()[0] ?? 'application/json';
    const response = await app.json({
      method: route.method,
      url,
      headers: { ...auth, 'content-type': contentType },
    });
    t.equal(response.status, 400, `${route.method} ${url}`);
    t.match(response.body, { code: 8001, errors: [{ field: 'query.unexpected' }] });
  }
  const bounded = await app.json({ url: `${FIXTURE_PATH}?limit=100000`, headers: auth });
  t.equal(bounded.status, 400, 'query values are bounded');
});

t.test('routes without a query schema refuse any query parameter, naming each one', async (t) => {
  const refused = await app.json('/health?first=1&second=2');
  t.equal(refused.status, 400);
  t.same(refused.body.errors, [
    { field: 'query.first', message: 'first is not allowed' },
    { field: 'query.second', message: 'second is not allowed' },
  ]);
  t.match(refused.body, { success: false, code: 8001, message: 'The request failed validation' });
  // An empty query string is no parameter at all.
  t.equal((await app.json('/health?')).status, 200);
  t.equal((await app.json('/health')).status, 200);
});

t.test('security headers on every response: success, 4xx, 404 and 5xx', async (t) => {
  const requests = [
    { url: '/health' },
    { url: FIXTURE_PATH, headers: auth },
    { url: FIXTURE_PATH },
    { url: '/nowhere' },
    { url: `${FIXTURE_PATH}/not-a-uuid`, headers: auth },
    { method: 'POST', url: FIXTURE_PATH, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' },
    { method: 'DELETE', url: '/health' },
  ];
  for (const request of requests) {
    const response = await app.inject(request);
    t.match(
      response.headers,
      SECURITY_HEADERS,
      `${request.method ?? 'GET'} ${request.url} ${String(response.statusCode)}`,
    );
  }
});

t.test('no framework fingerprint headers, also over real HTTP', async (t) => {
  const { server } = await buildServer(t, { DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1' });
  await addFixtureModule(server);
  await server.start();
  t.teardown(() => server.stop());
  for (const path of ['/health', '/nowhere', `${FIXTURE_PATH}/x`]) {
    const response = await fetch(`http://127.0.0.1:${String(server.info.port)}${path}`);
    await response.arrayBuffer();
    for (const name of ['server', 'x-powered-by', 'via', 'x-aspnet-version', 'x-runtime']) {
      t.equal(response.headers.get(name), null, `${path}: no ${name}`);
    }
  }
});

t.test('CORS: preflight succeeds only for configured origins and allows the key header', async (t) => {
  const preflight = (origin: string) =>
    app.inject({
      method: 'OPTIONS',
      url: FIXTURE_PATH,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-api-key, content-type',
      },
    });
  const allowed = await preflight(ORIGIN);
  t.ok(allowed.statusCode < 300, 'allowed origin: preflight OK');
  t.equal(allowed.headers['access-control-allow-origin'], ORIGIN);
  t.match(allowed.headers['access-control-allow-headers'], /x-api-key/i);

  const denied = await preflight('https://evil.example.net');
  t.equal(denied.headers['access-control-allow-origin'], undefined, 'other origin: no allow-origin');
  t.equal(denied.statusCode, 403);
  t.match(JSON.parse(denied.payload), { success: false, code: 4030, message: /Origin not allowed/ });

  const malformed = await app.inject({
    method: 'OPTIONS',
    url: `${FIXTURE_PATH}/%zz`,
    headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
  });
  t.equal(malformed.statusCode, 400, 'a preflight for an undecodable path is a 400, not hapi’s 500');
  t.match(JSON.parse(malformed.payload), { success: false, code: 4000 });

  const simple = await app.inject({ url: FIXTURE_PATH, headers: { ...auth, origin: ORIGIN } });
  t.equal(simple.headers['access-control-allow-origin'], ORIGIN);
  t.match(simple.headers['access-control-expose-headers'], /x-quota-remaining/i);
  const other = await app.inject({
    url: FIXTURE_PATH,
    headers: { ...auth, origin: 'https://evil.example.net' },
  });
  t.equal(other.headers['access-control-allow-origin'], undefined);

  const none = await buildServer(t, { DATABASE_URL: db.url });
  const closed = await none.inject({ url: '/health', headers: { origin: ORIGIN } });
  t.equal(closed.headers['access-control-allow-origin'], undefined, 'no CORS_ORIGINS: no CORS at all');
});

/** Status, body and headers of a response, without what differs between any two requests. */
function comparable(response: { statusCode: number; payload: string; headers: Record<string, unknown> }) {
  const { 'x-request-id': _id, date: _date, ...headers } = response.headers;
  const body = response.payload === '' ? '' : { ...(JSON.parse(response.payload) as object), traceId: '' };
  return { status: response.statusCode, body, headers };
}

t.test('a preflight cannot tell the events route from a path that does not exist', async (t) => {
  const variants: Record<string, string>[] = [
    { origin: ORIGIN, 'access-control-request-method': 'POST' },
    {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
    { origin: ORIGIN, 'access-control-request-method': 'GET' },
    { origin: ORIGIN, 'access-control-request-method': '' },
    { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
    { 'access-control-request-method': 'POST' },
    { origin: ORIGIN },
    {},
  ];
  for (const cors of [true, false]) {
    const server = cors ? app : await buildServer(t, { DATABASE_URL: db.url });
    for (const headers of variants) {
      for (const gateway of [lwaHeaders(), {}]) {
        const options = (url: string) =>
          server.inject({ method: 'OPTIONS', url, headers: { ...gateway, ...headers } });
        const events = comparable(await options(EVENTS_PATH));
        const unknown = comparable(await options('/internal/nothing'));
        t.same(
          events,
          unknown,
          `CORS ${cors ? 'on' : 'off'}, ${JSON.stringify(headers)}: ${String(events.status)}`,
        );
      }
    }
  }
});

t.test('with CORS off, a preflight for an existing route is refused with 403, as documented', async (t) => {
  const none = await buildServer(t, { DATABASE_URL: db.url });
  await addFixtureModule(none.server);
  for (const url of [FIXTURE_PATH, '/health']) {
    const response = await none.inject({
      method: 'OPTIONS',
      url,
      headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
    });
    t.equal(response.statusCode, 403, url);
    t.match(JSON.parse(response.payload), { success: false, code: 4030, message: /CORS/ });
    t.equal(response.headers['x-content-type-options'], 'nosniff');
    t.equal(response.headers['access-control-allow-origin'], undefined);
  }
  const unknown = await none.inject({
    method: 'OPTIONS',
    url: '/nope',
    headers: { origin: ORIGIN, 'access-control-request-method': 'GET' },
  });
  t.equal(unknown.statusCode, 404, 'a path no route serves stays a 404');
});

t.test('every /v1 route needs a key; only health, docs and events are open', async (t) => {
  const open: string[] = [];
  for (const route of app.server.table()) {
    // hapi's own resolution (route config or the default); public API, missing from its types.
    const config = (app.server.auth as unknown as { lookup(route: unknown): unknown }).lookup(route);
    if (route.path.startsWith('/v1/')) {
      t.match(config, { strategies: ['api-key'], mode: 'required' }, `${route.method} ${route.path}`);
    } else if (config === false || config === null || config === undefined) {
      open.push(route.path);
    }
  }
  for (const path of open) {
    t.match(
      path,
      /^(\/health|\/openapi\.json|\/docs|\/swaggerui\/|\/internal\/events$)/,
      `${path} may be open`,
    );
  }
  const off = await buildServer(t, { DATABASE_URL: db.url, APP_ENV: 'local' });
  await addFixtureModule(off.server);
  t.equal(off.config.apiKeys.required, false, 'off by default locally');
  t.equal((await off.inject(FIXTURE_PATH)).statusCode, 200, 'and /v1 answers without a key');
});

t.test('OpenAPI declares the key schemes and requires them on /v1 operations only', async (t) => {
  const spec = JSON.parse((await app.inject('/openapi.json')).payload) as {
    components: { securitySchemes: Record<string, Record<string, string>> };
    paths: Record<string, Record<string, { security?: unknown }>>;
  };
  t.match(spec.components.securitySchemes, {
    apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' },
    bearer: { type: 'http', scheme: 'bearer' },
  });
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (path.startsWith('/v1/')) {
        t.same(operation.security, [{ apiKey: [] }, { bearer: [] }], `${method} ${path}`);
      } else {
        t.equal(operation.security, undefined, `${method} ${path} is open`);
      }
    }
  }
});
