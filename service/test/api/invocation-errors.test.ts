// Failed pass-through events answer 599, the one status AWS_LWA_ERROR_STATUS_CODES lists, and no HTTP route
// can answer it (why a status of its own: docs/lambda-events.md).
import { STATUS_CODES } from 'node:http';
import Boom from '@hapi/boom';
import type { ServerInjectOptions } from '@hapi/hapi';
import t from 'tap';
import { freePort } from '../../tools/free-port.ts';
import { classifyError } from '../../src/errors/classify-error.ts';
import { DomainError } from '../../src/errors/domain-error.ts';
import { errorRegistry, INVOCATION_ERROR_STATUS } from '../../src/errors/error-codes.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { buildServer, type TestServer } from '../helpers/server.ts';
import { lambdaContext, lwaHeaders } from '../fixtures/lambda.ts';

const db = await startTestDatabase(t);
const app = await buildServer(t, { DATABASE_URL: db.url, PAYLOAD_MAX_BYTES: '2048' }, { captureLogs: true });
// The same service with its database unreachable: every data route fails (503), none may answer 599.
const down = await buildServer(t, {
  DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${await freePort()}/app`,
  DATABASE_CONNECT_TIMEOUT_MS: '200',
});

// A route that is not the events route but raises an event code (a bug): it must still answer HTTP.
app.server.route({
  method: 'GET',
  path: '/test/event-code-outside-an-event',
  handler: () => {
    throw new DomainError('EVENT_FAILED', 'Maintenance task x failed');
  },
});
let failingTask = false;
app.server.plugins['lambda-events'].registerMaintenanceTask('test.failsOnDemand', async () => {
  if (failingTask) throw new Error('the task broke');
  return { ok: true };
});

/** What the adapter sends with a pass-through event: no API Gateway context, the Lambda context. */
const passThroughHeaders = (lambda: Record<string, unknown>): Record<string, string> => ({
  'x-amzn-request-context': 'null',
  'x-amzn-lambda-context': JSON.stringify({ ...lambdaContext(), ...lambda }),
});

const event = (payload: unknown, extra: Partial<ServerInjectOptions> = {}): ServerInjectOptions => ({
  method: 'POST',
  url: EVENTS_PATH,
  payload: payload as ServerInjectOptions['payload'],
  ...extra,
  // As the adapter posts an event: its request context is exactly null.
  headers: { 'x-amzn-request-context': 'null', ...extra.headers },
});

t.test('only the event codes carry the invocation error status in the registry', async (t) => {
  t.notOk(INVOCATION_ERROR_STATUS in STATUS_CODES, 'a status HTTP does not define');
  const withIt = [...errorRegistry()]
    .filter(([, { status }]) => status === INVOCATION_ERROR_STATUS)
    .map(([name]) => name);
  t.same(withIt.sort(), ['EVENT_FAILED', 'EVENT_UNKNOWN']);
  for (const [name, { status }] of errorRegistry()) {
    if (status === INVOCATION_ERROR_STATUS) continue;
    t.ok(status >= 400 && status < 599, `${name} is an HTTP error status (${status})`);
  }
});

t.test('the mapper answers 599 for every failure of an event and never otherwise', async (t) => {
  const samples: unknown[] = [
    ...[...errorRegistry().keys()].map((name) => new DomainError(name)),
    Boom.badRequest('odd'),
    Boom.unsupportedMediaType(),
    Boom.serverUnavailable(),
    Boom.badImplementation('x'),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    new Error('unexpected'),
    'a thrown string',
  ];
  for (const error of samples) {
    const http = classifyError(error, { routeMatched: true });
    const inEvent = classifyError(error, { routeMatched: true, passThroughEvent: true });
    const label = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    t.not(http.status, INVOCATION_ERROR_STATUS, `HTTP: ${label} → ${http.status}`);
    t.ok(http.status >= 400 && http.status < 599, `HTTP: ${label} is an HTTP error status`);
    t.equal(inEvent.status, INVOCATION_ERROR_STATUS, `event: ${label}`);
    t.equal(inEvent.definition.code, http.definition.code, `event: ${label} keeps its code`);
  }
  const bug = classifyError(new DomainError('EVENT_FAILED'), { routeMatched: true });
  t.equal(bug.status, 500, 'an event code raised outside an event is an HTTP 500');
  t.ok(bug.unexpected, 'and logged as a bug');
});

t.test('an event code raised by an HTTP route answers 500 with the envelope', async (t) => {
  const { status, body } = await app.json('/test/event-code-outside-an-event');
  t.equal(status, 500);
  t.match(body, { success: false, code: 9502, data: null, traceId: /\S/ });
});

t.test('no HTTP route answers 599, whatever the request, database up or down', async (t) => {
  const payloads = [undefined, '{', '[]', '{"action":"migrate","title":"x"}'];
  const headerSets = [{}, lwaHeaders(), { 'content-type': 'text/plain' }];
  let requests = 0;
  for (const target of [app, down] as TestServer[]) {
    const routes = target.server.table();
    t.ok(routes.length >= 8, `${routes.length} routes`);
    for (const route of routes) {
      const isEventsRoute = route.path === EVENTS_PATH && route.method === 'post';
      const url = route.path.replace(/\{[^}]+\}/g, '0b7f5bde-0d9c-4c1b-8f3e-6e0f7f8f9a0b');
      const method = route.method === '*' ? 'GET' : route.method.toUpperCase();
      for (const headers of headerSets) {
        // The events route is an HTTP route only for requests that came through API Gateway.
        if (isEventsRoute && !('x-amzn-request-context' in headers)) continue;
        for (const payload of method === 'GET' || method === 'HEAD' ? [undefined] : payloads) {
          const response = await target.inject({ method, url, headers, payload });
          requests++;
          if (response.statusCode === INVOCATION_ERROR_STATUS) {
            t.fail(`${method} ${url} answered ${INVOCATION_ERROR_STATUS}`, { headers, payload });
          }
        }
      }
    }
  }
  // The events route through API Gateway is the same 404 as a missing path, even for a failing event.
  const notFound = await down.json({ method: 'POST', url: '/internal/nothing', headers: lwaHeaders() });
  for (const [payload, type] of [
    [{ action: 'migrate' }, 'application/json'],
    [{ action: 'nope' }, 'application/json'],
    ['{', 'application/json'],
    ['action=migrate', 'text/plain'],
  ] as const) {
    const through = await down.json(event(payload, { headers: { ...lwaHeaders(), 'content-type': type } }));
    t.equal(through.status, 404, `${JSON.stringify(payload)} through API Gateway`);
    t.equal(through.body.code, notFound.body.code, 'the code of a missing path');
  }
  t.ok(requests > 100, `${requests} HTTP requests, none answered ${INVOCATION_ERROR_STATUS}`);
});

t.test('every failure of an event answers 599 with the envelope', async (t) => {
  const cases: { name: string; server?: TestServer; request: ServerInjectOptions; code: number }[] = [
    { name: 'unknown event', request: event({ action: 'drop-tables' }), code: 9501 },
    { name: 'not an object', request: event([1, 2]), code: 9501 },
    {
      name: 'invalid JSON',
      request: event('{"action":', { headers: { 'content-type': 'application/json' } }),
      code: 4001,
    },
    {
      name: 'not JSON',
      request: event('action=migrate', { headers: { 'content-type': 'text/plain' } }),
      code: 4150,
    },
    { name: 'too large', request: event({ action: 'x'.repeat(4096) }), code: 4130 },
    { name: 'action that fails validation', request: event({ action: 'keys.create', name: '' }), code: 8001 },
    {
      name: 'action that fails',
      request: event({ action: 'keys.revoke', id: 'ak_zzzzzzzzzzzz' }),
      code: 9101,
    },
    {
      name: 'maintenance with the database down',
      server: down,
      request: event({ action: 'maintenance' }),
      code: 9502,
    },
    {
      name: 'migration with the database down (past its retries)',
      server: down,
      request: event({ action: 'migrate' }, { headers: passThroughHeaders({ deadline: Date.now() + 1500 }) }),
      code: 5031,
    },
  ];
  for (const { name, server = app, request, code } of cases) {
    const { status, body, headers } = await server.json(request);
    t.equal(status, INVOCATION_ERROR_STATUS, `${name}: ${status}`);
    t.match(body, { success: false, data: null, code, message: /\S/, traceId: /\S/ }, name);
    t.equal(headers['x-request-id'], body.traceId, `${name}: the trace id is a header too`);
  }

  failingTask = true;
  const failed = await app.json(event({ action: 'maintenance' }));
  failingTask = false;
  t.equal(failed.status, INVOCATION_ERROR_STATUS);
  t.match(failed.body, { code: 9502, message: /Maintenance task test\.failsOnDemand failed/ });
  t.notMatch(JSON.stringify(failed.body), /the task broke/, 'the cause stays in the log');
  const logged = app.logs.lines().find((line) => line.task === 'test.failsOnDemand');
  t.match(logged, { level: 50, err: { message: 'the task broke' }, traceId: failed.body.traceId });

  const ok = await app.json(event({ action: 'maintenance' }));
  t.equal(ok.status, 200, 'a successful event still answers 200');
});
