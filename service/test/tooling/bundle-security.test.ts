// The built bundle outside Lambda and in a Lambda-like environment (AWS_LAMBDA_RUNTIME_API, set by Lambda:
// docs/configuration.md): events route and x-amzn-* headers only inside; client errors logged safely.
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import t from 'tap';
import { EVENTS_PATH } from '../../src/plugins/lambda-events.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { buildBundle, startBundle as startBundleIn, type Bundle } from '../helpers/bundle.ts';
import { lwaHeaders, PASS_THROUGH_HEADERS } from '../fixtures/lambda.ts';

const IN_LAMBDA = { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' };

const bundleDir = await buildBundle(t, 'security-bundle-');
const db = await startTestDatabase(t);

const startBundle = (env: Record<string, string>) =>
  startBundleIn(t, bundleDir, { DATABASE_URL: db.url, ...env });

async function stop(app: Bundle): Promise<void> {
  app.child.kill('SIGTERM');
  await app.exited;
}

async function keyCount(): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>('select count(*) from api_keys');
    return Number(result.rows[0]?.count);
  } finally {
    await client.end();
  }
}

const createKey = (headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ action: 'keys.create', name: 'from-outside', quota: 1_000_000_000 }),
});

/** Headers a client outside Lambda could forge to pass for API Gateway. */
const FORGED = {
  'x-amzn-request-context': JSON.stringify({ requestId: 'FORGED-request', http: { sourceIp: '6.6.6.6' } }),
  'x-amzn-lambda-context': JSON.stringify({ request_id: 'FORGED-lambda', deadline: 1 }),
  'x-amzn-trace-id': 'Root=1-FORGED-trace',
};

t.test('outside Lambda: no pass-through events, no trusted x-amzn-* headers', async (t) => {
  const app = await startBundle({ API_KEYS_REQUIRED: '1' });
  const before = await keyCount();
  // Even as the adapter would post an event: outside Lambda no adapter stands in front.
  const events = await fetch(`${app.base}${EVENTS_PATH}`, createKey(PASS_THROUGH_HEADERS));
  t.equal(events.status, 404, 'the route does not exist');
  t.match(await events.json(), { success: false, code: 4040 }, 'the normal ROUTE_NOT_FOUND envelope');
  const migrate = await fetch(`${app.base}${EVENTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...PASS_THROUGH_HEADERS },
    body: '{"action":"migrate"}',
  });
  t.equal(migrate.status, 404, 'no migrations either');
  t.equal(await keyCount(), before, 'no key was created');

  const health = await fetch(`${app.base}/health`, { headers: FORGED });
  t.equal(health.status, 200);
  const traceId = health.headers.get('x-request-id') ?? '';
  t.match(traceId, /^[\da-f]{8}-[\da-f]{4}-/, 'the trace id is generated, not the forged one');
  await stop(app);
  t.notMatch(app.output(), /FORGED|6\.6\.6\.6/, 'no forged id or address reaches the log');
  const line = app.lines().find((l) => l.traceId === traceId);
  t.match(line, { sourceIp: '127.0.0.1' }, "the source IP is the socket's");
});

t.test("inside Lambda: events run with the adapter's null context, 404 with any other", async (t) => {
  const app = await startBundle(IN_LAMBDA);
  const before = await keyCount();
  const created = await fetch(`${app.base}${EVENTS_PATH}`, createKey(PASS_THROUGH_HEADERS));
  t.equal(created.status, 200);
  t.match(await created.json(), { success: true, data: { key: String } });
  t.equal(await keyCount(), before + 1, 'the operator action ran');

  const viaGateway = await fetch(`${app.base}${EVENTS_PATH}`, createKey(lwaHeaders()));
  t.equal(viaGateway.status, 404);
  t.match(await viaGateway.json(), { code: 4040 });
  t.equal(await keyCount(), before + 1, 'nothing ran for API Gateway');
  // A load balancer's context, or none at all, is no pass-through event either.
  const alb = JSON.stringify({
    elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/t/1' },
  });
  const others: Record<string, string>[] = [{ 'x-amzn-request-context': alb }, {}];
  for (const headers of others) {
    const refused = await fetch(`${app.base}${EVENTS_PATH}`, createKey(headers));
    t.equal(refused.status, 404, `${JSON.stringify(headers)} → 404`);
  }
  t.equal(await keyCount(), before + 1, 'nothing ran for them');

  const health = await fetch(`${app.base}/health`, { headers: lwaHeaders() });
  t.equal(health.headers.get('x-request-id'), 'JKJaXmPLvHcESHA=', "the adapter's headers are trusted");
  await stop(app);
});

/** Writes raw bytes on a fresh socket and resolves with whatever the server answered once it closed. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(answer);
    });
  });
}

t.test('a request the HTTP parser rejects: 400, and its API key reaches no log line', async (t) => {
  const app = await startBundle({ LOG_LEVEL: 'trace' });
  const key = 'bk_live_ThisKeyMustNeverBeLogged0123456789';
  const answer = await rawExchange(
    app.port,
    [
      'POST /v1/books HTTP/1.1',
      'Host: 127.0.0.1',
      `x-api-key: ${key}`,
      'Content-Type: application/json',
      'Content-Length: 2',
      'Transfer-Encoding: chunked',
      '',
      '2',
      '{}',
      '0',
      '',
      '',
    ].join('\r\n'),
  );
  t.match(answer, /^HTTP\/1\.1 400/, 'answered 400');
  await stop(app);
  t.notMatch(app.output(), key, 'the key is in no log line');
  const keyBytes = [...Buffer.from(key)].join(',');
  t.notOk(app.output().includes(keyBytes), 'not even as the raw bytes of a Buffer');
  t.notMatch(app.output(), /rawPacket/, 'no raw bytes are logged');
  const line = app.lines().find((l) => /client error/i.test(String(l.msg)));
  t.match(line, { code: /^HPE_/, remoteAddress: '127.0.0.1' }, 'an allow-listed line: code and address');
  t.notOk(line && 'stack' in line, 'without a stack');
});

t.test('1,000 aborted sockets do not turn into 1,000 log lines', async (t) => {
  const app = await startBundle({});
  const before = app.lines().length;
  const sockets = 1000;
  for (let batch = 0; batch < sockets / 50; batch++) {
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const socket: Socket = connect(app.port, '127.0.0.1', () => {
              // Headers begun, then the connection reset: Node reports ECONNRESET as a client error.
              socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Partial: ', () => {
                setTimeout(() => socket.resetAndDestroy(), 5);
              });
            });
            socket.on('error', () => undefined);
            socket.on('close', () => {
              resolve();
            });
          }),
      ),
    );
  }
  // A normal request afterwards: the server is healthy and has seen every reset by then.
  t.equal((await fetch(`${app.base}/health`)).status, 200);
  await stop(app);
  const added = app.lines().slice(before);
  t.ok(added.length < 20, `${added.length} log lines for ${sockets} aborted sockets`);
  t.notOk(
    added.some((line) => JSON.stringify(line).includes('"stack"')),
    'no stack traces for client errors',
  );
  const summary = added.find((line) => typeof line.clientErrors === 'number');
  t.ok(summary, 'the client errors are summed up in one line');
});

t.test('a client trickling headers is cut off within HEADERS_TIMEOUT_MS; keep-alive is not', async (t) => {
  const app = await startBundle({ HEADERS_TIMEOUT_MS: '500' });
  const socket = connect(app.port, '127.0.0.1');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      resolve();
    }),
  );
  await new Promise<void>((resolve) =>
    socket.once('connect', () => {
      resolve();
    }),
  );
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  // One header byte every 100 ms for at most 5 s: ten times the bound.
  let sent = 0;
  while (!socket.destroyed && sent < 50) {
    socket.write(sent === 0 ? 'X-Slow: ' : 'a');
    sent++;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(socket.destroyed || socket.readableEnded, `cut off after ${sent} trickled bytes`);
  t.ok(sent < 50, 'before the trickle ran out');
  socket.destroy();
  await closed;
  t.match(answer, /^$|^HTTP\/1\.1 4\d\d /, 'a 4xx or a closed socket, never a served request');

  // An idle keep-alive connection (what the adapter pools) outlives the headers bound.
  const keepAlive = connect(app.port, '127.0.0.1');
  keepAlive.setEncoding('utf8');
  let replies = '';
  keepAlive.on('data', (chunk: string) => (replies += chunk));
  await new Promise<void>((resolve) =>
    keepAlive.once('connect', () => {
      resolve();
    }),
  );
  const get = 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  keepAlive.write(get);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  t.notOk(keepAlive.destroyed, 'the idle connection is still open after 3 × HEADERS_TIMEOUT_MS');
  keepAlive.write(get);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(replies.match(/HTTP\/1\.1 200/g)?.length, 2, 'both requests answered on the same socket');
  keepAlive.destroy();
  await stop(app);
});
