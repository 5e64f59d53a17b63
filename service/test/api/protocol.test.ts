// HTTP protocol answers that Node or hapi get wrong on their own: an unsupported Expect, If-None-Match: *,
// a body without a type or in another charset. Each answer is the envelope with the security headers.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import t, { type Test } from 'tap';
import type { Socket } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { answerClientError, SECURITY_HEADERS } from '../../src/lib/client-error-answer.ts';
import { createServer } from '../../src/server.ts';
import { checkNotModified } from '../helpers/conditional-get.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { addFixtureModule, ATTACHMENT_TYPE, FIXTURE_PATH } from '../helpers/fixture-module.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { buildServer, type Envelope } from '../helpers/server.ts';

const db = await startTestDatabase(t);
const app = await buildServer(t, { DATABASE_URL: db.url });
await addFixtureModule(app.server);

function parseAnswer(answer: string) {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** A server listening on a free port of 127.0.0.1, stopped at teardown. */
async function startedServer(t: Test, env: Record<string, string> = {}): Promise<number> {
  const config = loadConfig({
    APP_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: db.url,
    ...env,
  });
  const server = await createServer(config);
  await addFixtureModule(server);
  await server.start();
  t.teardown(() => server.stop());
  return Number(server.info.port);
}

t.test('an Expect the server does not support: 417 with the envelope and security headers', async (t) => {
  const port = await startedServer(t);
  for (const expect of ['foo', '100-continue, bar', 'x=y']) {
    const answer = parseAnswer(
      await rawExchange(
        port,
        `GET /health HTTP/1.1\r\nHost: x\r\nExpect: ${expect}\r\nConnection: close\r\n\r\n`,
      ),
    );
    t.equal(answer.status, 417, `Expect: ${expect}`);
    t.match(JSON.parse(answer.body), { success: false, code: 4170, data: null, traceId: /\S/ });
    t.equal(answer.headers['x-content-type-options'], 'nosniff');
    t.match(answer.headers['strict-transport-security'], /max-age/);
    t.match(answer.headers['x-request-id'], /\S/);
  }
  // 100-continue is supported: the client is told to go on, then answered.
  const body = JSON.stringify({ title: 'Continued' });
  const continued = await rawExchange(
    port,
    `POST ${FIXTURE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${String(body.length)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n${body}`,
  );
  t.match(continued, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
});

t.test('If-None-Match: * on a download that exists is a 304, as for its own ETag', async (t) => {
  const { body: created } = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: { title: 'Conditional' },
  });
  const url = `${FIXTURE_PATH}/${created.data.id}/attachment`;
  const none = await app.inject({ url, headers: { 'if-none-match': '*' } });
  t.equal(none.statusCode, 404, 'nothing stored: no current representation, so no 304');
  const bytes = randomBytes(24);
  await app.inject({ method: 'PUT', url, payload: bytes, headers: { 'content-type': ATTACHMENT_TYPE } });
  const current = await app.inject(url);
  t.equal(current.statusCode, 200);
  t.same(current.rawPayload, bytes);
  await checkNotModified(t, app, url, current.headers.etag as string, 'the download');
});

t.test('a JSON body in another charset, or a body without a type, is 415', async (t) => {
  const payload = JSON.stringify({ title: 'Typed' });
  for (const type of [
    'application/json; charset=latin1',
    'application/json; charset=ISO-8859-1',
    'application/json; charset="utf-16"',
    'application/json;charset=us-ascii',
  ]) {
    const response = await app.json({
      method: 'POST',
      url: FIXTURE_PATH,
      payload,
      headers: { 'content-type': type },
    });
    t.equal(response.status, 415, type);
    t.match(response.body, { success: false, code: 4150 });
  }
  const untyped = await app.server.inject({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: Buffer.from(payload),
    headers: { 'content-length': String(payload.length) },
  });
  // (shot sends no Content-Type of its own for a Buffer.)
  t.equal(untyped.statusCode, 415, 'no Content-Type');
  t.match(JSON.parse(untyped.payload), { success: false, code: 4150 });

  for (const type of [
    'application/json; charset=utf-8',
    'application/json; charset="UTF-8"',
    'application/json; charset=utf8',
    'application/json; Charset=UNICODE-1-1-UTF-8',
    'application/json',
  ]) {
    const body = JSON.stringify({ title: 'Typed' });
    const response = await app.inject({
      method: 'POST',
      url: FIXTURE_PATH,
      payload: body,
      headers: { 'content-type': type },
    });
    t.equal(response.statusCode, 201, type);
  }
  // A request without a body needs no type.
  const { body: created } = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: { title: 'Bodiless' },
  });
  const deleted = await app.server.inject({ method: 'DELETE', url: `${FIXTURE_PATH}/${created.data.id}` });
  t.equal(deleted.statusCode, 200, 'DELETE without a body or a type');
});

t.test(
  "a request Node's parser rejects: the envelope and the same security headers as any answer",
  async (t) => {
    const port = await startedServer(t);
    const health = parseAnswer(
      await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      t.equal(health.headers[name], value, `${name} as hapi sends it`);
    const cases: [string, number, number][] = [
      ['GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400, 4000],
      ['GET /health HTTP/1.1\r\nHost: x\r\nX\u0000Y: z\r\n\r\n', 400, 4000],
      [
        `POST ${FIXTURE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n`,
        400,
        4000,
      ],
      [`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 4310],
    ];
    for (const [bytes, status, code] of cases) {
      const answer = parseAnswer(await rawExchange(port, bytes));
      t.equal(answer.status, status, JSON.stringify(bytes.slice(0, 60)));
      t.match(JSON.parse(answer.body), {
        success: false,
        code,
        data: null,
        traceId: answer.headers['x-request-id'],
      });
      for (const [name, value] of Object.entries(SECURITY_HEADERS))
        t.equal(answer.headers[name], value, name);
      t.equal(answer.headers.connection, 'close');
    }
  },
);

t.test('what Node would answer bare or drop (no Host, CONNECT): the envelope too', async (t) => {
  const port = await startedServer(t);
  const cases: [string, string][] = [
    ['GET /health HTTP/1.1\r\nConnection: close\r\n\r\n', 'HTTP/1.1 without Host'],
    ['CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: 127.0.0.1:5432\r\n\r\n', 'CONNECT'],
    ['CONNECT /health HTTP/1.1\r\nHost: x\r\n\r\nbytes for the tunnel', 'CONNECT with bytes after it'],
  ];
  for (const [bytes, name] of cases) {
    const answer = parseAnswer(await rawExchange(port, bytes));
    t.equal(answer.status, 400, name);
    t.match(JSON.parse(answer.body || '{}'), {
      success: false,
      code: 4000,
      data: null,
      traceId: answer.headers['x-request-id'],
    });
    for (const [header, value] of Object.entries(SECURITY_HEADERS))
      t.equal(answer.headers[header], value, `${name}: ${header}`);
  }
  const http10 = await rawExchange(port, 'GET /health HTTP/1.0\r\n\r\n');
  t.match(http10, /^HTTP\/1\.1 200 /, 'HTTP/1.0 needs no Host');

  // A client that resets the connection once answered: the socket is the server's alone by then, and
  // an 'error' without a listener would end the process (and this test with it).
  await new Promise<void>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('CONNECT x:1 HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      resolve();
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.match(
    await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    /^HTTP\/1\.1 200 /,
  );
});

t.test('a body declared over the limit, sent only after 100 Continue: 413 at once', async (t) => {
  const port = await startedServer(t);
  const started = Date.now();
  const answer = await rawExchange(
    port,
    `POST ${FIXTURE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${String(2 * 1024 * 1024)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  t.notMatch(answer, /^HTTP\/1\.1 100/, 'the client is not told to send it');
  const refused = parseAnswer(answer);
  t.equal(refused.status, 413);
  t.match(JSON.parse(refused.body || '{}'), { success: false, code: 4130 });
  t.equal(refused.headers.connection, 'close');
  // (hapi waited for the body until the payload timeout, 8 s here.)
  t.ok(Date.now() - started < 4000, 'answered without waiting for the body');
  const within = await rawExchange(
    port,
    `POST ${FIXTURE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n{}`,
  );
  t.match(within, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 /, 'within the limit: continue as before');
  const get = await rawExchange(
    port,
    'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
  );
  t.match(get, /^HTTP\/1\.1 200 /, 'a GET, whose body hapi never reads: answered as ever');

  // The events route stays a path that does not exist for an HTTP request, however large its body.
  // (The events route reads a body until the payload timeout, 80 % of this.)
  const lambdaPort = await startedServer(t, {
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    REQUEST_TIMEOUT_MS: '1000',
  });
  const big = async (path: string) =>
    (
      await rawExchange(
        lambdaPort,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nx-amzn-request-context: {"requestId":"r"}\r\nContent-Type: application/json\r\nContent-Length: 9999999\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      )
    ).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
  const events = parseAnswer(await big('/internal/events'));
  const unknown = parseAnswer(await big('/internal/nothing'));
  t.equal(events.status, unknown.status, 'events route: as a path no route serves');
  const code = (body: string) => (JSON.parse(body || '{}') as { code?: number }).code;
  t.equal(code(events.body), code(unknown.body));
  t.equal(code(events.body), 4040);
});

t.test('bad bytes in a body, or after a request in progress: still the envelope', async (t) => {
  const port = await startedServer(t);
  const inBody = parseAnswer(
    await rawExchange(
      port,
      `POST ${FIXTURE_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    ),
  );
  t.equal(inBody.status, 400, 'a bad chunk in the body');
  t.match(JSON.parse(inBody.body), { success: false, code: 4000 });
  t.equal(inBody.headers['x-content-type-options'], 'nosniff');

  const pipelined = await rawExchange(
    port,
    'GET /health HTTP/1.1\r\nHost: x\r\n\r\n\u0001\u0002 garbage\r\n\r\n',
  );
  const [first = '', second = ''] = pipelined.split(/(?=HTTP\/1\.1 )/);
  t.equal(parseAnswer(first).status, 200, 'the request in progress is answered first');
  const refused = parseAnswer(second);
  t.equal(refused.status, 400, 'then the garbage after it');
  t.match(JSON.parse(refused.body), { success: false, code: 4000 });
  t.equal(refused.headers['x-content-type-options'], 'nosniff');
});

t.test('a client error is never written to a socket that is gone or busy, and never throws', async (t) => {
  const fakeSocket = (fields: Record<string, unknown>) => {
    const calls: string[] = [];
    const socket = {
      writable: true,
      destroy: () => calls.push('destroy'),
      end: (data: string) => calls.push(`end ${data.slice(0, 12)}`),
      ...fields,
    } as unknown as Socket;
    const inRequest = () => calls.push('hapi');
    return { calls, socket, inRequest };
  };
  const response = (complete: boolean) => {
    const res = new EventEmitter() as EventEmitter & { req: { complete: boolean } };
    res.req = { complete };
    return res;
  };
  const cases: [string, unknown, Record<string, unknown>, string[]][] = [
    ['a parser error', { code: 'HPE_INVALID_HEADER_TOKEN' }, {}, ['end HTTP/1.1 400']],
    ['slow headers', { code: 'ERR_HTTP_REQUEST_TIMEOUT' }, {}, ['end HTTP/1.1 408']],
    ['chunk extensions', { code: 'HPE_CHUNK_EXTENSIONS_OVERFLOW' }, {}, ['end HTTP/1.1 413']],
    ['no error object', null, {}, ['end HTTP/1.1 400']],
    ['a reset', { code: 'ECONNRESET' }, {}, ['destroy']],
    ['a closed socket', { code: 'HPE_INVALID_METHOD' }, { writable: false }, ['destroy']],
    [
      'bad bytes in the body',
      { code: 'HPE_INVALID_CHUNK_SIZE' },
      { _httpMessage: response(false) },
      ['hapi'],
    ],
    ['an unreadable response', { code: 'HPE_INVALID_METHOD' }, { _httpMessage: {} }, ['destroy']],
    [
      'a throwing socket',
      { code: 'HPE_INVALID_METHOD' },
      {
        end: () => {
          throw new Error('write after end');
        },
      },
      [],
    ],
  ];
  for (const [name, error, fields, expected] of cases) {
    const { calls, socket, inRequest } = fakeSocket(fields);
    t.doesNotThrow(() => {
      answerClientError(error, socket, inRequest);
    });
    if (name === 'a throwing socket') t.same(calls, ['destroy'], name);
    else t.same(calls, expected, name);
  }
  // A pipelined request after one in progress is answered once that one is out.
  for (const writable of [true, false]) {
    const current = response(true);
    const { calls, socket, inRequest } = fakeSocket({ _httpMessage: current });
    answerClientError({ code: 'HPE_INVALID_METHOD' }, socket, inRequest);
    t.same(calls, [], 'nothing while the response is under way');
    (socket as unknown as { writable: boolean }).writable = writable;
    current.emit('close');
    t.same(calls, writable ? ['end HTTP/1.1 400'] : ['destroy']);
  }
});
