// Log lines: one per request with method, path, status, duration and ids; secrets never written.
import t from 'tap';
import { startTestDatabase } from './helpers/database.ts';
import { buildServer } from './helpers/server.ts';

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
  const secrets = ['Bearer sekret-token-1', 'session=sekret-cookie-2', 'sekret-api-key-3', 'sekret-query-4'];
  await app.inject({
    method: 'GET',
    url: `/v1/books?token=${secrets[3]}`,
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
