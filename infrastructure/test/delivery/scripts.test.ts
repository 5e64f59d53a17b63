// The scripts the workflows call (.github/scripts) and the event fixture they send, exercised against small
// fake servers on 127.0.0.1: a books API for the smoke test, a Runtime Interface Emulator for the invoke.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import t from 'tap';
import { runScript, type RunResult } from '../fixtures/run-script.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const SMOKE = '.github/scripts/smoke.mjs';
const INVOKE = '.github/scripts/lambda-invoke.mjs';
const EVENT = '.github/events/http-api-v2.json';

/** Runs a script the way the workflows do (`node <script> …` from the repository root), without blocking. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runScript(script, args, env, ROOT);
}

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function listen(handler: Handler, port = 0): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      handler(req, body, res);
    });
  });
  await new Promise<void>((done) => {
    server.listen(port, '127.0.0.1', done);
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${address.port}`, port: address.port };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((done) => {
    server.close(() => {
      done();
    });
  });
}

/** A port that was just free: bound, then released, so nothing listens there. */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await close(server);
  return port;
}

function send(res: ServerResponse, status: number, payload?: unknown): void {
  if (payload === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
}

const envelope = (data: unknown, success = true, message = 'OK') => ({
  success,
  message,
  data,
  traceId: 'trace-1',
});

interface Book {
  id: string;
  title: string;
  author: string;
  isbn: string;
  publishedYear?: number;
}

interface FakeApiOptions {
  prefix?: string;
  apiKey?: string;
  /** Return a response of our choosing for a "METHOD /path" (path without query), instead of the fake's. */
  override?: (key: string) => { status: number; payload?: unknown } | undefined;
  listShape?: 'array' | 'items';
}

/** An in-memory books API with the service's envelope, recording every request it sees. */
async function fakeBooksApi(options: FakeApiOptions = {}) {
  const books = new Map<string, Book>();
  const seen: string[] = [];
  let nextId = 1;
  const prefix = options.prefix ?? '';
  const api = await listen((req, body, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.startsWith(prefix)
      ? url.pathname.slice(prefix.length)
      : `(outside prefix) ${url.pathname}`;
    const key = `${req.method ?? ''} ${path}`;
    seen.push(key);
    // Like the service: health is open, /v1 needs the key.
    if (
      options.apiKey !== undefined &&
      path.startsWith('/v1') &&
      req.headers['x-api-key'] !== options.apiKey
    ) {
      send(res, 401, { ...envelope(null, false, 'Unauthorized'), code: 'UNAUTHORIZED' });
      return;
    }
    const forced = options.override?.(key);
    if (forced) {
      send(res, forced.status, forced.payload);
      return;
    }
    const match = /^\/v1\/books\/([^/]+)$/.exec(path);
    if (key === 'GET /health' || key === 'GET /health/ready') {
      send(res, 200, envelope({ status: 'ok' }));
    } else if (key === 'POST /v1/books') {
      const input = JSON.parse(body) as Omit<Book, 'id'>;
      const book = { id: String(nextId++), ...input };
      books.set(book.id, book);
      send(res, 201, envelope(book, true, 'Created'));
    } else if (key === 'GET /v1/books') {
      const author = url.searchParams.get('author');
      const list = [...books.values()].filter((b) => author === null || b.author === author);
      send(res, 200, envelope(options.listShape === 'items' ? { items: list, total: list.length } : list));
    } else if (match?.[1] !== undefined && req.method === 'GET') {
      const book = books.get(match[1]);
      if (book) send(res, 200, envelope(book));
      else send(res, 404, { ...envelope(null, false, 'Not found'), code: 'BOOK_NOT_FOUND' });
    } else if (match?.[1] !== undefined && req.method === 'DELETE') {
      if (books.delete(match[1])) send(res, 204);
      else send(res, 404, { ...envelope(null, false, 'Not found'), code: 'BOOK_NOT_FOUND' });
    } else {
      send(res, 404, { ...envelope(null, false, 'Not found'), code: 'NOT_FOUND' });
    }
  });
  return { ...api, books, seen, base: `${api.url}${prefix}` };
}

void t.test('smoke: passes a full round trip and leaves no data behind', async (t) => {
  const api = await fakeBooksApi();
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /all checks passed/);
  t.same(api.seen, [
    'GET /health',
    'GET /health/ready',
    'GET /v1/books',
    'POST /v1/books',
    'GET /v1/books/1',
    'GET /v1/books',
    'DELETE /v1/books/1',
    'GET /v1/books/1',
  ]);
  t.equal(api.books.size, 0);
});

void t.test('smoke: a base URL with a stage path and a trailing slash, a wrapped list', async (t) => {
  const api = await fakeBooksApi({ prefix: '/prod', listShape: 'items' });
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [`${api.base}/`]);
  t.equal(result.code, 0, result.stderr);
  t.notOk(api.seen.some((key) => key.includes('outside prefix')));
});

void t.test('smoke: SMOKE_API_KEY is sent as x-api-key', async (t) => {
  const api = await fakeBooksApi({ apiKey: 'k-123' });
  t.teardown(() => close(api.server));
  t.equal((await run(SMOKE, [api.base], { SMOKE_API_KEY: 'k-123' })).code, 0);

  t.equal(api.seen[2], 'POST /v1/books', 'with a key, no refusal probe: straight to the round trip');

  // Without a key, a deployed API (keys required) must refuse /v1 with the envelope, and nothing is written.
  api.seen.length = 0;
  const without = await run(SMOKE, [api.base], { SMOKE_WAIT_SECONDS: '0' });
  t.equal(without.code, 0, without.stderr);
  t.match(without.stdout, /without a key → 401/);
  t.same(api.seen, ['GET /health', 'GET /health/ready', 'GET /v1/books']);
});

void t.test('smoke: read-only mode writes nothing', async (t) => {
  const api = await fakeBooksApi();
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base], { SMOKE_READ_ONLY: '1' });
  t.equal(result.code, 0, result.stderr);
  t.same(api.seen, ['GET /health', 'GET /health/ready', 'GET /v1/books', 'GET /v1/books']);
});

void t.test('smoke: a failing create names the step, the status and the trace id', async (t) => {
  const api = await fakeBooksApi({
    override: (key) =>
      key === 'POST /v1/books'
        ? { status: 500, payload: envelope(null, false, 'Internal error') }
        : undefined,
  });
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base]);
  t.equal(result.code, 1);
  t.match(result.stderr, /smoke: FAILED: POST \/v1\/books: expected 201, got HTTP 500 traceId=trace-1/);
});

void t.test('smoke: a failure after the create still deletes the smoke book', async (t) => {
  const api = await fakeBooksApi({
    override: (key) => (key === 'GET /v1/books' ? { status: 200, payload: envelope([]) } : undefined),
  });
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base]);
  t.equal(result.code, 1);
  t.match(result.stderr, /the new book is not listed/);
  t.ok(api.seen.includes('DELETE /v1/books/1'), 'cleanup delete was sent');
  t.equal(api.books.size, 0);
});

void t.test('smoke: a readiness check that fails once (a slow cold start) is tried again', async (t) => {
  let readyCalls = 0;
  const api = await fakeBooksApi({
    override: (key) =>
      key === 'GET /health/ready' && ++readyCalls === 1
        ? { status: 503, payload: envelope(null, false, 'Database unavailable') }
        : undefined,
  });
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base]);
  t.equal(result.code, 0, result.stderr);
  t.equal(readyCalls, 2);
});

void t.test('smoke: an unhealthy readiness check fails', async (t) => {
  const api = await fakeBooksApi({
    override: (key) =>
      key === 'GET /health/ready'
        ? { status: 503, payload: envelope(null, false, 'Database unavailable') }
        : undefined,
  });
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base]);
  t.equal(result.code, 1);
  t.match(result.stderr, /GET \/health\/ready: expected 200, got HTTP 503/);
  t.equal(api.seen.filter((key) => key === 'GET /health/ready').length, 3, 'a bounded number of tries');
});

void t.test('smoke: a non-envelope body is rejected', async (t) => {
  const api = await fakeBooksApi({
    override: (key) => (key === 'GET /health' ? { status: 200, payload: { status: 'ok' } } : undefined),
  });
  t.teardown(() => close(api.server));
  const result = await run(SMOKE, [api.base], { SMOKE_WAIT_SECONDS: '0' });
  t.equal(result.code, 1);
  t.match(result.stderr, /expected an envelope with success=true/);
});

void t.test('smoke: a closed port fails clearly, after the wait', async (t) => {
  const port = await closedPort();
  const started = Date.now();
  const result = await run(SMOKE, [`http://127.0.0.1:${port}`], { SMOKE_WAIT_SECONDS: '1' });
  t.equal(result.code, 1);
  t.match(result.stderr, /smoke: FAILED: GET \/health: request failed \(ECONNREFUSED\)/);
  t.ok(Date.now() - started >= 900, 'kept retrying for SMOKE_WAIT_SECONDS');
});

void t.test('smoke: usage errors', async (t) => {
  const missing = await run(SMOKE, []);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /missing base URL[\s\S]*usage: node \.github\/scripts\/smoke\.mjs <baseUrl>/);

  const notUrl = await run(SMOKE, ['not a url']);
  t.equal(notUrl.code, 1);
  t.match(notUrl.stderr, /is not a URL/);

  const ftp = await run(SMOKE, ['ftp://127.0.0.1/']);
  t.equal(ftp.code, 1);
  t.match(ftp.stderr, /must be an http/);

  const badWait = await run(SMOKE, ['http://127.0.0.1:1'], { SMOKE_WAIT_SECONDS: 'soon' });
  t.equal(badWait.code, 1);
  t.match(badWait.stderr, /SMOKE_WAIT_SECONDS must be a non-negative number/);

  const help = await run(SMOKE, ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage:/);
});

// ---- lambda-invoke.mjs against a fake Runtime Interface Emulator --------------------------------------

const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

async function fakeEmulator(result: (event: unknown) => { status?: number; payload: unknown }, port = 0) {
  const events: unknown[] = [];
  const api = await listen((req, body, res) => {
    if (req.method !== 'POST' || req.url !== INVOKE_PATH) {
      send(res, 404, { message: 'not found' });
      return;
    }
    const event: unknown = JSON.parse(body);
    events.push(event);
    const { status = 200, payload } = result(event);
    send(res, status, payload);
  }, port);
  return { ...api, events, invokeUrl: `${api.url}${INVOKE_PATH}` };
}

const proxyResult = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
  isBase64Encoded: false,
});

void t.test('invoke: sends the fixture and accepts a 200 envelope', async (t) => {
  const rie = await fakeEmulator(() => ({ payload: proxyResult(200, envelope({ status: 'ok' })) }));
  t.teardown(() => close(rie.server));
  const result = await run(INVOKE, [rie.invokeUrl, EVENT]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /GET \/health → statusCode 200, traceId trace-1/);
  t.same(rie.events, [JSON.parse(readFileSync(resolve(ROOT, EVENT), 'utf8'))]);
});

void t.test('invoke: a base64-encoded body is decoded', async (t) => {
  const body = Buffer.from(JSON.stringify(envelope({ status: 'ok' }))).toString('base64');
  const rie = await fakeEmulator(() => ({ payload: { statusCode: 200, body, isBase64Encoded: true } }));
  t.teardown(() => close(rie.server));
  t.equal((await run(INVOKE, [rie.invokeUrl, EVENT])).code, 0);
});

void t.test('invoke: rejects wrong results', async (t) => {
  const cases: [string, unknown, RegExp, number?][] = [
    ['a 502 proxy result', proxyResult(502, envelope(null, false)), /expected statusCode 200, got 502/],
    [
      'a body that is not an envelope',
      proxyResult(200, { status: 'ok' }),
      /expected an envelope with success=true/,
    ],
    ['a body that is not JSON', { statusCode: 200, body: '<html>' }, /the response body is not JSON/],
    ['a function error', { errorMessage: 'boom', errorType: 'Error' }, /the function failed/],
    ['an emulator error status', { message: 'bad' }, /the invoke endpoint answered HTTP 500/, 500],
  ];
  for (const [name, payload, expected, status] of cases) {
    const rie = await fakeEmulator(() => ({ payload, ...(status === undefined ? {} : { status }) }));
    const result = await run(INVOKE, [rie.invokeUrl, EVENT]);
    await close(rie.server);
    t.equal(result.code, 1, name);
    t.match(result.stderr, expected, name);
  }
});

void t.test('invoke: INVOKE_EXPECT_STATUS accepts an error envelope', async (t) => {
  const rie = await fakeEmulator(() => ({ payload: proxyResult(404, envelope(null, false, 'Not found')) }));
  t.teardown(() => close(rie.server));
  t.equal((await run(INVOKE, [rie.invokeUrl, EVENT], { INVOKE_EXPECT_STATUS: '404' })).code, 0);
});

void t.test('invoke: waits for an emulator that starts late', async (t) => {
  const port = await closedPort();
  const late = new Promise<Awaited<ReturnType<typeof fakeEmulator>>>((done) => {
    setTimeout(() => {
      void fakeEmulator(() => ({ payload: proxyResult(200, envelope({ status: 'ok' })) }), port).then(done);
    }, 800);
  });
  const result = await run(INVOKE, [`http://127.0.0.1:${port}${INVOKE_PATH}`, EVENT], {
    INVOKE_WAIT_SECONDS: '20',
  });
  const rie = await late;
  await close(rie.server);
  t.equal(result.code, 0, result.stderr);
  t.equal(rie.events.length, 1);
});

void t.test('invoke: a closed port and bad arguments fail clearly', async (t) => {
  const port = await closedPort();
  const refused = await run(INVOKE, [`http://127.0.0.1:${port}${INVOKE_PATH}`, EVENT], {
    INVOKE_WAIT_SECONDS: '0',
  });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /invoke: FAILED: POST .* failed \(ECONNREFUSED\)/);

  const missing = await run(INVOKE, []);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /missing arguments[\s\S]*usage:/);

  const noFile = await run(INVOKE, [`http://127.0.0.1:${port}${INVOKE_PATH}`, '.github/events/nope.json']);
  t.equal(noFile.code, 1);
  t.match(noFile.stderr, /cannot read event/);

  const help = await run(INVOKE, ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage:/);
});

// ---- the event fixture -----------------------------------------------------------------------------

void t.test('the fixture is an API Gateway HTTP API (payload 2.0) GET /health event', (t) => {
  const event = JSON.parse(readFileSync(resolve(ROOT, EVENT), 'utf8')) as {
    version: string;
    routeKey: string;
    rawPath: string;
    rawQueryString: string;
    headers: Record<string, string>;
    isBase64Encoded: boolean;
    body?: string;
    requestContext: {
      apiId: string;
      requestId: string;
      stage: string;
      routeKey: string;
      timeEpoch: number;
      http: { method: string; path: string; protocol: string; sourceIp: string };
    };
  };
  t.equal(event.version, '2.0');
  t.equal(event.routeKey, '$default');
  t.equal(event.requestContext.routeKey, event.routeKey);
  t.equal(event.requestContext.stage, '$default');
  t.equal(event.rawPath, '/health', 'liveness: answers without a database');
  t.equal(event.rawQueryString, '');
  t.equal(event.requestContext.http.method, 'GET');
  t.equal(event.requestContext.http.path, event.rawPath);
  t.match(event.requestContext.http.protocol, /^HTTP\//);
  t.ok(
    event.requestContext.apiId && event.requestContext.requestId,
    'carries an API Gateway request context',
  );
  t.type(event.requestContext.timeEpoch, 'number');
  t.equal(event.isBase64Encoded, false);
  t.equal(event.body, undefined, 'a GET carries no body');
  for (const name of Object.keys(event.headers))
    t.equal(name, name.toLowerCase(), `header ${name} is lower-case`);
  t.end();
});
