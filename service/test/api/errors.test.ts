// The error mapper: every failure becomes an envelope with a registry code; no stack or internal
// message ever reaches the client.
import Boom from '@hapi/boom';
import type { ServerInjectOptions } from '@hapi/hapi';
import t, { type Test } from 'tap';
import { classifyError, isDatabaseUnavailable } from '../../src/errors/classify-error.ts';
import { DomainError } from '../../src/errors/domain-error.ts';
import { ErrorCodes } from '../../src/errors/error-codes.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';

const db = await startTestDatabase(t);
const app = await buildServer(t, { DATABASE_URL: db.url, PAYLOAD_MAX_BYTES: '2048' }, { captureLogs: true });
await addFixtureModule(app.server);

// Routes that fail on purpose, to prove what the mapper does with errors the real routes rarely raise.
app.server.route([
  {
    method: 'GET',
    path: '/test/crash',
    handler: () => {
      throw new Error('secret internal detail: password=hunter2');
    },
  },
  {
    method: 'GET',
    path: '/test/orm-not-found',
    handler: async (request) =>
      request.server.plugins.database.run(request, async (em) => {
        const { ApiKeySchema } = await import('../../src/modules/api-keys/api-key.entity.ts');
        return em.findOneOrFail(ApiKeySchema, { id: '00000000-0000-4000-8000-000000000000' });
      }),
  },
  {
    method: 'GET',
    path: '/test/unique',
    handler: async (request) =>
      request.server.plugins.database.run(request, async (em) => {
        await em.getConnection().execute('do $$ begin raise unique_violation; end $$');
        return 'unreachable';
      }),
  },
]);

function assertEnvelope(t: Test, body: Record<string, unknown>, code: number) {
  t.equal(body.success, false);
  t.equal(body.data, null);
  t.equal(body.code, code);
  t.type(body.message, 'string');
  t.type(body.traceId, 'string');
  t.notMatch(JSON.stringify(body), /at .+\.ts:\d+|stack|hunter2/, 'no stack trace or internal detail');
}

t.test('unknown route → 404 ROUTE_NOT_FOUND', async (t) => {
  const { status, body, headers } = await app.json('/nope/nothing');
  t.equal(status, 404);
  assertEnvelope(t, body as never, ErrorCodes.ROUTE_NOT_FOUND.code);
  t.equal(headers['x-request-id'], body.traceId, 'the trace id is also a header');
});

t.test(
  'wrong method on a known path → 405 METHOD_NOT_ALLOWED with the methods it has in Allow',
  async (t) => {
    const { status, body, headers } = await app.json({ method: 'PUT', url: FIXTURE_PATH });
    t.equal(status, 405);
    assertEnvelope(t, body as never, ErrorCodes.METHOD_NOT_ALLOWED.code);
    t.equal(headers.allow, 'GET, HEAD, POST', "RFC 9110 §15.5.6: a 405 lists the target resource's methods");

    const withParameter = await app.json({
      method: 'POST',
      url: `${FIXTURE_PATH}/00000000-0000-4000-8000-000000000000`,
    });
    t.equal(withParameter.status, 405, 'a path with a parameter is matched too');
    t.equal(withParameter.headers.allow, 'GET, HEAD, PATCH, DELETE');

    const trailingSlash = await app.json({ method: 'DELETE', url: `${FIXTURE_PATH}/` });
    t.equal(trailingSlash.status, 405, 'the trailing slash is stripped before matching, as for routing');

    const unknown = await app.json({ method: 'PUT', url: '/v1/nothing-here' });
    t.equal(unknown.status, 404, 'a path no method serves stays a 404');
    t.equal(unknown.body.code, ErrorCodes.ROUTE_NOT_FOUND.code);
    t.notOk(unknown.headers.allow);

    const head = await app.inject({ method: 'HEAD', url: '/health' });
    t.equal(head.statusCode, 200, 'HEAD on a GET route is still served by hapi');
  },
);

// One request, one status and code each: the edge (hapi's own errors) and the ORM errors the mapper owns.
const mapped: { name: string; request: string | ServerInjectOptions; status: number; code: number }[] = [
  {
    name: 'invalid JSON → 400 INVALID_JSON',
    request: {
      method: 'POST',
      url: FIXTURE_PATH,
      payload: '{"title": ',
      headers: { 'content-type': 'application/json' },
    },
    status: 400,
    code: ErrorCodes.INVALID_JSON.code,
  },
  {
    name: 'payload too large → 413',
    request: {
      method: 'POST',
      url: FIXTURE_PATH,
      payload: { title: 'x'.repeat(4096), tag: 'a' },
    },
    status: 413,
    code: ErrorCodes.PAYLOAD_TOO_LARGE.code,
  },
  {
    name: 'unsupported media type → 415',
    request: {
      method: 'POST',
      url: FIXTURE_PATH,
      payload: 'title=x',
      headers: { 'content-type': 'application/xml' },
    },
    status: 415,
    code: ErrorCodes.UNSUPPORTED_MEDIA_TYPE.code,
  },
  {
    name: 'ORM NotFoundError → 404 NOT_FOUND',
    request: '/test/orm-not-found',
    status: 404,
    code: ErrorCodes.NOT_FOUND.code,
  },
  {
    name: 'unique violation anywhere → 409 CONFLICT',
    request: '/test/unique',
    status: 409,
    code: ErrorCodes.CONFLICT.code,
  },
];
for (const { name, request, status: expected, code } of mapped) {
  t.test(name, async (t) => {
    const { status, body } = await app.json(request);
    t.equal(status, expected);
    assertEnvelope(t, body as never, code);
  });
}

t.test('unexpected error → 500 with a generic message; the real error only in the log', async (t) => {
  const { status, body } = await app.json('/test/crash');
  t.equal(status, 500);
  assertEnvelope(t, body as never, ErrorCodes.UNKNOWN.code);
  t.equal(body.message, ErrorCodes.UNKNOWN.message);
  const logged = app.logs
    .lines()
    .find((line) => line.msg === 'request failed' && line.traceId === body.traceId);
  t.ok(logged, 'the failure is logged with the same trace id');
  t.match(logged, { err: { message: /secret internal detail/ }, code: 100 });
});

t.test('classifyError covers every mapping', async (t) => {
  const ctx = { routeMatched: true };
  t.equal(classifyError(new DomainError('API_KEY_REVOKED'), ctx).name, 'API_KEY_REVOKED');
  t.equal(classifyError(new DomainError('API_KEY_REVOKED', 'custom'), ctx).message, 'custom');
  t.equal(classifyError(Boom.notFound(), { routeMatched: false }).name, 'ROUTE_NOT_FOUND');
  t.equal(
    classifyError(Boom.notFound(), { routeMatched: false, allowedMethods: ['GET'] }).name,
    'METHOD_NOT_ALLOWED',
  );
  t.equal(classifyError(Boom.notFound(), ctx).name, 'NOT_FOUND');
  t.equal(classifyError(Boom.unauthorized('no key'), ctx).name, 'UNAUTHORIZED');
  t.equal(classifyError(Boom.tooManyRequests(), ctx).name, 'TOO_MANY_REQUESTS');
  t.equal(classifyError(Boom.serverUnavailable(), ctx).name, 'TIMEOUT');
  t.equal(classifyError(Boom.badImplementation('boom'), ctx).name, 'UNKNOWN');
  t.equal(classifyError(Boom.badRequest('Invalid request payload JSON format'), ctx).name, 'INVALID_JSON');
  t.equal(classifyError(Boom.badRequest('odd'), ctx).name, 'BAD_REQUEST');
  t.equal(classifyError(Boom.teapot(), ctx).name, 'BAD_REQUEST', 'an unmapped 4xx stays a 4xx');
  t.equal(classifyError('a string was thrown', ctx).name, 'UNKNOWN');
  t.ok(classifyError(new Error('x'), ctx).unexpected);
  t.notOk(classifyError(Boom.notFound(), ctx).unexpected);

  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  t.equal(classifyError(Boom.boomify(refused), ctx).name, 'DATABASE_UNAVAILABLE');
  t.ok(isDatabaseUnavailable(Object.assign(new Error('admin shutdown'), { code: '57P01' })));
  t.ok(isDatabaseUnavailable(Object.assign(new Error('connection failure'), { code: '08006' })));
  t.ok(
    isDatabaseUnavailable(
      new Error('wrapped', { cause: new Error('timeout exceeded when trying to connect') }),
    ),
  );
  t.notOk(isDatabaseUnavailable(Object.assign(new Error('syntax error'), { code: '42601' })));
  t.notOk(isDatabaseUnavailable('not an error'));
});

t.test('values PostgreSQL refuses to store are the client input, not an outage', async (t) => {
  const ctx = { routeMatched: true };
  for (const code of ['22021', '22P05', '22001']) {
    const error = Boom.boomify(
      Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code }),
    );
    const classified = classifyError(error, ctx);
    t.equal(classified.status, 400, code);
    t.equal(classified.name, 'BAD_REQUEST', code);
  }
});
