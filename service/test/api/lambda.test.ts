// The Lambda Web Adapter contract: forwarded ids reach logs and envelopes, garbage headers are ignored, and
// only pass-through events (request context exactly null) reach migrations and maintenance.
import t, { type Test } from 'tap';
import { INVOCATION_ERROR_STATUS } from '../../src/errors/error-codes.ts';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer, type Envelope } from '../helpers/server.ts';
import {
  lambdaContext,
  lwaHeaders,
  PASS_THROUGH_HEADERS,
  SCHEDULED_EVENT,
  TRACE_HEADER,
} from '../fixtures/lambda.ts';

const db = await startTestDatabase(t);
/** A server of its own, for a test that changes the database or the schema. */
const freshServer = (t: Test) =>
  buildServer(t, { DATABASE_URL: db.url, DELETED_RETENTION_DAYS: '7' }, { captureLogs: true });
const app = await freshServer(t);
await addFixtureModule(app.server);

t.test('API Gateway and Lambda ids reach the envelope and every log line', async (t) => {
  const { status, body, headers } = await app.json({ url: '/health', headers: lwaHeaders() });
  t.equal(status, 200);
  t.equal(body.traceId, 'JKJaXmPLvHcESHA=', 'traceId is the API Gateway request id');
  t.equal(headers['x-request-id'], 'JKJaXmPLvHcESHA=');
  const line = app.logs.lines().find((l) => l.traceId === 'JKJaXmPLvHcESHA=');
  t.match(line, {
    apiRequestId: 'JKJaXmPLvHcESHA=',
    lambdaRequestId: lambdaContext().request_id,
    routeKey: '$default',
    sourceIp: '203.0.113.7',
    xrayTraceId: TRACE_HEADER,
    res: { statusCode: 200 },
  });
});

t.test(
  "the X-Ray trace id comes from the adapter's Lambda context, never from a client header",
  async (t) => {
    const forged = 'Root=1-00000000-FORGEDFORGEDFORGEDFORGED;Sampled=1';
    await app.inject({
      url: '/health',
      headers: { ...lwaHeaders({ requestId: 'XRay1=' }), 'x-amzn-trace-id': forged },
    });
    t.match(
      app.logs.lines().find((l) => l.traceId === 'XRay1='),
      { xrayTraceId: TRACE_HEADER },
    );
    const { xray_trace_id: _unused, ...withoutTrace } = lambdaContext();
    await app.inject({
      url: '/health',
      headers: {
        ...lwaHeaders({ requestId: 'XRay2=' }),
        'x-amzn-lambda-context': JSON.stringify(withoutTrace),
        'x-amzn-trace-id': forged,
      },
    });
    const line = app.logs.lines().find((l) => l.traceId === 'XRay2=');
    t.ok(line, 'logged');
    t.notOk(line && 'xrayTraceId' in line, 'no trace id rather than the client header');
    t.notMatch(app.logs.text(), /FORGED/, 'the client header reaches no log line');
  },
);

t.test('errors carry the API Gateway request id too', async (t) => {
  const { status, body } = await app.json({
    url: `${FIXTURE_PATH}/not-an-id`,
    headers: lwaHeaders({ requestId: 'ErrReq1=' }),
  });
  t.equal(status, 400);
  t.equal(body.traceId, 'ErrReq1=');
});

t.test('malformed Lambda headers are ignored, never a 5xx', async (t) => {
  const garbage: Record<string, string>[] = [
    { 'x-amzn-request-context': '{not json' },
    { 'x-amzn-request-context': '[]', 'x-amzn-lambda-context': 'null' },
    { 'x-amzn-request-context': JSON.stringify({ requestId: 42, http: 'nope' }) },
    { 'x-amzn-request-context': JSON.stringify({ requestId: 'x'.repeat(500) }) },
    { 'x-amzn-request-context': JSON.stringify({ requestId: '<script>alert(1)</script>' }) },
    { 'x-amzn-request-context': `{"a":"${'y'.repeat(20_000)}"}` },
    { 'x-amzn-trace-id': '\u0000\u0001' },
    { 'x-amzn-lambda-context': JSON.stringify({ request_id: { nested: true } }) },
  ];
  for (const headers of garbage) {
    for (const url of ['/health', `${FIXTURE_PATH}?limit=1`, '/nope']) {
      const { status, body } = await app.json({ url, headers });
      t.ok(status < 500, `${url} with ${Object.keys(headers).join(',')} → ${status}`);
      t.match(body.traceId, /^[0-9a-f-]{36}$/, 'falls back to a generated trace id');
    }
  }
});

t.test('pass-through: migrate event applies pending migrations and reports them', async (t) => {
  const app = await freshServer(t);
  const { status, body } = await app.json({
    method: 'POST',
    url: EVENTS_PATH,
    payload: { action: 'migrate' },
    headers: PASS_THROUGH_HEADERS,
  });
  t.equal(status, 200);
  t.match(body, { success: true, data: { applied: [] } }, 'the test database is already migrated');

  // Roll the last migration back, then the event must re-apply exactly that one.
  const orm = await app.server.plugins.database.getOrm();
  const [last] = (await orm.migrator.getExecuted()).slice(-1);
  await orm.migrator.down();
  const again = await app.json<Envelope<{ applied: string[] }>>({
    method: 'POST',
    url: EVENTS_PATH,
    payload: { action: 'migrate' },
    headers: PASS_THROUGH_HEADERS,
  });
  t.equal(again.status, 200);
  t.same(again.body.data.applied, [last?.name]);
});

t.test('pass-through: a scheduled event runs the maintenance tasks modules register', async (t) => {
  const { status, body } = await app.json<Envelope<{ tasks: Record<string, unknown> }>>({
    method: 'POST',
    url: EVENTS_PATH,
    payload: SCHEDULED_EVENT,
    headers: PASS_THROUGH_HEADERS,
  });
  t.equal(status, 200);
  t.ok('apiKeys.purgeUsage' in body.data.tasks, Object.keys(body.data.tasks).join(', '));
});

t.test('pass-through: an unknown event is an invocation error that says what is accepted', async (t) => {
  for (const payload of [{ action: 'drop-tables' }, { hello: 'world' }, [1, 2]]) {
    const { status, body } = await app.json({
      method: 'POST',
      url: EVENTS_PATH,
      payload,
      headers: PASS_THROUGH_HEADERS,
    });
    t.equal(status, INVOCATION_ERROR_STATUS);
    t.match(body, { success: false, code: 9501, message: /expected \{"action":"migrate"\}/ });
  }
});

t.test('pass-through: a request that came through API Gateway gets the normal 404', async (t) => {
  const through = await app.json({
    method: 'POST',
    url: EVENTS_PATH,
    payload: { action: 'migrate' },
    headers: lwaHeaders(),
  });
  const unknown = await app.json({ method: 'POST', url: '/internal/nothing', headers: lwaHeaders() });
  t.equal(through.status, 404);
  t.equal(through.body.code, unknown.body.code, 'indistinguishable from a path that does not exist');
  t.equal(through.body.message, unknown.body.message);
  const get = await app.json({ url: EVENTS_PATH, headers: lwaHeaders() });
  t.equal(get.status, 404);
});

t.test('only a request context of exactly null is a pass-through event', async (t) => {
  const listKeys = (headers: Record<string, string>) =>
    app.json({ method: 'POST', url: EVENTS_PATH, payload: { action: 'keys.list' }, headers });
  const ran = await listKeys({ ...PASS_THROUGH_HEADERS });
  t.equal(ran.status, 200, "the adapter's null context runs the event");
  t.match(ran.body, { success: true, data: { keys: Array } });

  const unknown = await app.json({ method: 'POST', url: '/internal/nothing' });
  const notEvents: Record<string, string>[] = [
    {},
    { 'x-amzn-request-context': '' },
    // An Application Load Balancer's context, a Function URL's, VPC Lattice's: none is a pass-through.
    {
      'x-amzn-request-context': JSON.stringify({
        elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/1' },
      }),
    },
    { 'x-amzn-request-context': JSON.stringify({ accountId: 'anonymous', domainName: 'x.lambda-url.aws' }) },
    { 'x-amzn-request-context': JSON.stringify({ serviceNetworkArn: 'arn:aws:vpc-lattice:x', region: 'x' }) },
    { 'x-amzn-request-context': '{}' },
    { 'x-amzn-request-context': '[]' },
    { 'x-amzn-request-context': '"null"' },
    { 'x-amzn-request-context': 'NULL' },
    { 'x-amzn-request-context': 'null null' },
    { 'x-amzn-request-context': ' nul' },
    { 'x-amzn-request-context': JSON.stringify({ requestId: null, apiId: null }) },
  ];
  for (const headers of notEvents) {
    const refused = await listKeys(headers);
    t.equal(refused.status, 404, `${JSON.stringify(headers)} → 404`);
    t.equal(refused.body.code, unknown.body.code, 'the same answer as a path that does not exist');
    t.equal(refused.body.message, unknown.body.message);
  }
});

t.test('a failing migration answers 599 (an invocation error for the adapter)', async (t) => {
  // A database where "books" already exists but no migration is recorded: the first migration fails.
  const orm = await app.server.plugins.database.getOrm();
  await orm.em.getConnection().execute('create database conflicting');
  const broken = await buildServer(t, { DATABASE_URL: db.url.replace(/\/app$/, '/conflicting') });
  await (
    await broken.server.plugins.database.getOrm()
  ).em
    .getConnection()
    .execute('create table books (id int)');
  const { status, body } = await broken.json({
    method: 'POST',
    url: EVENTS_PATH,
    payload: { action: 'migrate' },
    headers: PASS_THROUGH_HEADERS,
  });
  t.equal(status, INVOCATION_ERROR_STATUS);
  t.match(body, { success: false, code: 9502, message: /Migration failed/, traceId: /\S/ });
});
