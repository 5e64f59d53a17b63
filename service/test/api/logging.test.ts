// Log lines: one per request with method, path, status, duration and ids; secrets never written.
import { pino } from 'pino';
import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { createLogger, loggerOptions } from '../../src/lib/logger.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';

const db = await startTestDatabase(t);

t.test('one line per request, carrying the request id', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url }, { captureLogs: true });
  const { body } = await app.json('/health');
  const lines = app.logs.lines().filter((line) => line.traceId === body.traceId);
  t.equal(lines.length, 1, 'exactly one line for the request');
  t.match(lines[0], {
    level: 30,
    msg: /^GET \/health 200 \d+ms$/,
    req: { method: 'GET', path: '/health' },
    res: { statusCode: 200 },
    responseTime: Number,
    env: 'test',
  });
});

t.test('secrets in headers, cookies and query strings never reach the log', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url, LOG_LEVEL: 'trace' }, { captureLogs: true });
  await addFixtureModule(app.server);
  const secrets = ['Bearer sekret-token-1', 'session=sekret-cookie-2', 'sekret-api-key-3', 'sekret-query-4'];
  await app.inject({
    method: 'GET',
    url: `${FIXTURE_PATH}?token=${secrets[3]}`,
    headers: { authorization: secrets[0] ?? '', cookie: secrets[1] ?? '', 'x-api-key': secrets[2] ?? '' },
  });
  await app.inject({ method: 'GET', url: '/nope', headers: { authorization: secrets[0] ?? '' } });
  const text = app.logs.text();
  t.ok(text.length > 0, 'something was logged');
  for (const secret of secrets)
    t.notMatch(text, secret.split(/[ =]/).pop() ?? secret, `${secret} is not logged`);
  t.notMatch(text, db.url, 'the database URL is not logged');
  t.notMatch(text, /postgres:postgres@/, 'database credentials are not logged');
});

t.test('redaction also covers objects that carry headers', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url }, { captureLogs: true });
  app.server.logger.info(
    { headers: { authorization: 'Bearer leak', 'x-api-key': 'leak2' }, password: 'leak3' },
    'x',
  );
  const line = app.logs.lines().find((l) => l.msg === 'x');
  t.match(line, { headers: { authorization: '[REDACTED]', 'x-api-key': '[REDACTED]' } });
  t.notMatch(app.logs.text(), /leak/);
});

t.test('the access line: exactly these fields, in this order', async (t) => {
  // Outside Lambda: the socket's address is the only Lambda-style binding.
  const app = await buildServer(
    t,
    { DATABASE_URL: db.url, AWS_LAMBDA_RUNTIME_API: '' },
    { captureLogs: true },
  );
  const { body } = await app.json('/health');
  const line = app.logs.lines().find((l) => l.traceId === body.traceId);
  t.same(Object.keys(line ?? {}), [
    'level',
    'time',
    'env',
    'version',
    'traceId',
    'sourceIp',
    'req',
    'res',
    'responseTime',
    'msg',
  ]);
  t.match(line, {
    level: 30,
    env: 'test',
    version: app.config.version,
    traceId: body.traceId,
    sourceIp: '127.0.0.1',
    msg: /^GET \/health 200 \d+ms$/,
  });
  t.same(line?.req, { method: 'GET', path: '/health' });
  t.same(line?.res, { statusCode: 200 });
});

t.test('the access line inside Lambda: the adapter ids after the trace id, in this order', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url }, { captureLogs: true });
  const trace = 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1';
  await app.inject({
    url: '/health',
    headers: {
      'x-amzn-request-context': JSON.stringify({
        requestId: 'ReqId1=',
        apiId: 'api1',
        routeKey: '$default',
        http: { sourceIp: '203.0.113.9' },
      }),
      'x-amzn-lambda-context': JSON.stringify({
        request_id: 'lambda-req-1',
        deadline: Date.now() + 10_000,
        xray_trace_id: trace,
      }),
    },
  });
  const line = app.logs.lines().find((l) => l.traceId === 'ReqId1=');
  t.same(Object.keys(line ?? {}), [
    'level',
    'time',
    'env',
    'version',
    'traceId',
    'apiRequestId',
    'lambdaRequestId',
    'routeKey',
    'sourceIp',
    'xrayTraceId',
    'req',
    'res',
    'responseTime',
    'msg',
  ]);
  t.match(line, {
    apiRequestId: 'ReqId1=',
    lambdaRequestId: 'lambda-req-1',
    routeKey: '$default',
    sourceIp: '203.0.113.9',
    xrayTraceId: trace,
  });
});

t.test("the redaction fast path writes exactly what pino's redactor writes", async (t) => {
  const config = loadConfig({ APP_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: db.url });
  const capture = () => {
    const chunks: string[] = [];
    return {
      stream: { write: (line: string) => void chunks.push(line) },
      // Times differ between the two loggers; everything else must not.
      lines: () => chunks.map((line) => line.replace(/"time":\d+,/, '')),
    };
  };
  const plain = capture();
  const fast = capture();
  const loggers = [pino(loggerOptions(config), plain.stream), createLogger(config, fast.stream)];

  const circular: Record<string, unknown> = { keep: 1 };
  circular.self = circular;
  const rawPacketError = Object.assign(new Error('Parse Error'), {
    rawPacket: Buffer.from('GET / HTTP/1.1\r\nx-api-key: sekret-raw\r\n'),
  });
  const records: [Record<string, unknown>, string][] = [
    [
      {
        traceId: 'abc',
        sourceIp: '127.0.0.1',
        req: { method: 'get', path: '/health' },
        res: { statusCode: 200 },
        responseTime: 3,
      },
      'GET /health 200 3ms',
    ],
    [
      { headers: { authorization: 'sekret-1', cookie: 'sekret-2', 'x-api-key': 'sekret-3', other: 'o' } },
      'h',
    ],
    [{ password: 'sekret-4', apiKey: 'sekret-5', databaseUrl: 'sekret-6' }, 'top level'],
    [{ password: { nested: 'sekret-7' }, apiKey: 42, databaseUrl: null }, 'top level, any value'],
    [{ nested: { password: 'sekret-8', apiKey: 'sekret-9', databaseUrl: 'sekret-10', keep: 1 } }, 'wildcard'],
    [{ nested: { deeper: { password: 'depth 3 is out of every path' } } }, 'depth 3'],
    [{ inner: Object.assign(Object.create(null) as object, { password: 'sekret-11' }) }, 'null prototype'],
    [{ list: [{ password: 'in an array' }], numbers: [1, 2], when: new Date(0) }, 'arrays and dates'],
    [{ buffer: Buffer.from('x'), big: 10n, circular }, 'values JSON.stringify refuses'],
    [{ text: 'quote " newline \n NUL \u0000 lone \ud800', flag: true, ratio: 0.5, nan: Number.NaN }, 's'],
    [{ err: rawPacketError }, 'client error'],
    [{ req: { method: 'post', path: '/x', headers: { authorization: 'sekret-12' } } }, 'raw request'],
  ];
  for (const logger of loggers) {
    for (const [fields, message] of records) logger.info(fields, message);
    logger
      .child({ traceId: 't', req: { method: 'get', path: '/' }, nested: { password: 'sekret-13' } })
      .warn({ res: { statusCode: 503 }, apiKey: 'sekret-14' }, 'child');
  }
  t.equal(fast.lines().length, records.length + 1, 'every record was written');
  t.same(fast.lines(), plain.lines(), 'the same lines, byte for byte');
  const text = fast.lines().join('');
  t.match(text, /\[REDACTED\]/, 'redaction happened');
  t.notMatch(text, /sekret/, 'no secret survived');
});

t.test(
  'stdout is written synchronously: Lambda may freeze the process as soon as a response is out',
  async (t) => {
    // pino's docs (docs/asynchronous.md, "AWS Lambda"): "Asynchronous logging in AWS Lambda functions will
    // tend to cause delayed or lost log messages, as logs may not be written to the destination before the
    // runtime is frozen. For Lambda deployments, it's recommended to always use a destination with
    // `sync: true`."
    const config = loadConfig({ APP_ENV: 'prod', LOG_LEVEL: 'info', DATABASE_URL: db.url });
    const logger = createLogger(config);
    const destination = (logger as unknown as Record<symbol, { sync?: boolean; fd?: number }>)[
      pino.symbols.streamSym
    ];
    t.equal(destination?.fd, 1, 'stdout');
    t.equal(destination?.sync, true, 'each line is written before the logging call returns');
  },
);

t.test('the access line carries the Lambda function version when Lambda sets it', async (t) => {
  const versions: [string, string | undefined][] = [
    ['7', '7'],
    ['$LATEST', '$LATEST'],
    ['', undefined],
  ];
  for (const [set, logged] of versions) {
    const app = await buildServer(
      t,
      { DATABASE_URL: db.url, AWS_LAMBDA_FUNCTION_VERSION: set },
      { captureLogs: true },
    );
    const { body } = await app.json('/health');
    const line = app.logs.lines().find((l) => l.traceId === body.traceId);
    t.equal(line?.functionVersion, logged, `AWS_LAMBDA_FUNCTION_VERSION=${set}`);
    t.equal(line?.version, app.config.version, 'the service version stays');
  }
});
