// The built bundle, outside and inside Lambda, against malformed requests as raw socket bytes (a fixed list
// and fast-check): after each one the process is alive and answers /health.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { startTestDatabase } from '../helpers/database.ts';
import { rawExchange } from '../helpers/raw-http.ts';
import { buildBundle, startBundle as startBundleIn } from '../helpers/bundle.ts';
import { lwaHeaders } from '../fixtures/lambda.ts';

const serviceDir = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
/** What Lambda sets in a function's environment (the adapter polls AWS_LAMBDA_RUNTIME_API). */
const IN_LAMBDA = {
  AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
  AWS_LAMBDA_FUNCTION_NAME: 'books-test',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_REGION: 'eu-west-1',
  AWS_EXECUTION_ENV: 'AWS_Lambda_Image',
};
/** Generated requests per environment: bounded, so the file stays well under a minute. */
const GENERATED_RUNS = 400;
/** A raw exchange that has not closed by then is cut off by the client (the server may wait for a body). */
const EXCHANGE_TIMEOUT_MS = 1500;

const bundleDir = await buildBundle(t, 'raw-socket-bundle-');
const db = await startTestDatabase(t);
const created = await run(process.execPath, ['scripts/keys.ts', 'create', '--name', 'raw-socket', '--json'], {
  cwd: serviceDir,
  env: { ...process.env, DATABASE_URL: db.url },
});
/** So that bodies get read: without a key the request ends at authentication, before its body. */
const apiKey = (JSON.parse(created.stdout) as { key: string }).key;

const startBundle = (env: Record<string, string>) =>
  startBundleIn(t, bundleDir, {
    DATABASE_URL: db.url,
    API_KEYS_REQUIRED: '1',
    CORS_ORIGINS: 'https://app.example.com',
    LOG_LEVEL: 'trace',
    ...env,
  });

async function health(port: number): Promise<number> {
  const answer = await rawExchange(
    port,
    Buffer.from('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    EXCHANGE_TIMEOUT_MS,
  );
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

/**
 * What is wrong with one answer, if anything: each response (after any 100 Continue) carries the
 * security headers, and a body is the envelope, except Swagger UI's files.
 */
function answerProblem(request: Case, answer: string): string | undefined {
  const response = answer.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
  if (response === '') return request.answered === true ? 'closed without an answer' : undefined;
  const end = response.indexOf('\r\n\r\n');
  const head = response.slice(0, end === -1 ? undefined : end).toLowerCase();
  const body = end === -1 ? '' : response.slice(end + 4);
  const status = /^http\/1\.1 (\d{3})/.exec(head)?.[1];
  if (status === undefined) return `not an HTTP answer: ${JSON.stringify(response.slice(0, 80))}`;
  if (!head.includes('\r\nx-content-type-options: nosniff')) return `${status} without the security headers`;
  if (body === '' || /^(\/docs|\/swaggerui)/.test(request.target)) return undefined;
  try {
    const parsed = JSON.parse(body) as { success?: unknown; traceId?: unknown };
    if (typeof parsed.success === 'boolean' && typeof parsed.traceId === 'string') return undefined;
  } catch {
    // Reported below.
  }
  return `${status} body is not the envelope: ${JSON.stringify(body.slice(0, 80))}`;
}

interface Case {
  readonly method: string;
  readonly target: string;
  /** One header line, as raw bytes, without its CRLF. */
  readonly header: Buffer;
  readonly body?: Buffer;
  /** The whole request line, when it is not `method target HTTP/1.1`. */
  readonly requestLine?: string;
  /** Without a Host header line. */
  readonly hostless?: boolean;
  /** Has no body to wait for: the server must answer, not just close. */
  readonly answered?: boolean;
}

function requestBytes({ method, target, header, body, requestLine, hostless }: Case): Buffer {
  const line = requestLine ?? `${method} ${target} HTTP/1.1`;
  const host = hostless === true ? '' : 'Host: 127.0.0.1\r\n';
  return Buffer.concat([
    Buffer.from(`${line}\r\n${host}Connection: close\r\n`, 'latin1'),
    header,
    Buffer.from('\r\n\r\n', 'latin1'),
    body ?? Buffer.alloc(0),
  ]);
}

/** Sends the head and half the body, then leaves: with a FIN, or a reset. */
function abandonBody(port: number, bytes: Buffer, reset: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      setTimeout(() => (reset ? socket.resetAndDestroy() : socket.end()), 50);
    });
    const timer = setTimeout(() => socket.destroy(), EXCHANGE_TIMEOUT_MS);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Every route that reads a body, each framing, cut off halfway through the body. */
function halfBodies(): { name: string; bytes: Buffer }[] {
  const book = '/v1/books/00000000-0000-4000-8000-000000000000';
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(4000, 7)]);
  const json = Buffer.from(JSON.stringify({ title: 'Half', author: 'A', isbn: '9780262011532' }));
  const routes: [string, string, string, Buffer][] = [
    ['POST', '/v1/books', 'application/json', json],
    ['PATCH', book, 'application/json', json],
    ['DELETE', book, 'application/json', json],
    ['PUT', `${book}/cover`, 'image/png', png],
    ['POST', '/internal/events', 'application/json', Buffer.from('{"action":"maintenance"}')],
  ];
  return routes.flatMap(([method, target, type, body]) => {
    const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${apiKey}\r\nx-amzn-request-context: null\r\nContent-Type: ${type}\r\n`;
    const half = body.subarray(0, body.length >> 1);
    return [
      {
        name: `${method} ${target} (Content-Length)`,
        bytes: Buffer.concat([Buffer.from(`${head}Content-Length: ${String(body.length)}\r\n\r\n`), half]),
      },
      {
        name: `${method} ${target} (chunked)`,
        bytes: Buffer.concat([
          Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`),
          half,
        ]),
      },
    ];
  });
}

const TARGETS = [
  '/health',
  '/v1/books',
  '/v1/books/00000000-0000-4000-8000-000000000000/cover',
  '/docs',
  '/internal/events',
  '/nope',
];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const LAMBDA = lwaHeaders();

/** Header lines every layer has an opinion about, one per request. */
const FIXED_HEADERS: string[] = [
  // hapi parses Accept-Encoding before any extension runs, and logs what it cannot parse.
  ...['gzip;', ',,,,;;;', 'x;y=z', 'gzip;q=2', 'gzip;q=', '*;q=x', ';', '\t', 'br;q=0.5, *;q=0'].map(
    (value) => `Accept-Encoding: ${value}`,
  ),
  ...[
    'bytes=abc',
    'bytes=0-0,0-0,0-0',
    'bytes=-',
    'bytes=5-1',
    'items=0-1',
    'bytes=0-99999999999999999999',
  ].map((value) => `Range: ${value}`),
  ...['100-continue', 'foo', '100-continue, bar', ''].map((value) => `Expect: ${value}`),
  ...['-1', 'abc', '1, 2', '99999999999999999999', ' 0', '0x10'].map((value) => `Content-Length: ${value}`),
  'Content-Length: 1\r\nContent-Length: 2',
  'Content-Length: 3\r\nTransfer-Encoding: chunked',
  ...['chunked, identity', 'gzip', 'identity', 'chunked\r\nTransfer-Encoding: chunked', 'xchunked'].map(
    (value) => `Transfer-Encoding: ${value}`,
  ),
  ...[
    'application/json; charset=latin1',
    'application/json; charset',
    'text/plain',
    ';;;',
    'a/b/c',
    '*/*',
  ].map((value) => `Content-Type: ${value}`),
  ...['*', 'W/"x"', '"', ',,,'].map((value) => `If-None-Match: ${value}`),
  'If-Modified-Since: yesterday',
  ...['a=b; a=c', '=;=;=', 'a="b', 'sid=%zz'].map((value) => `Cookie: ${value}`),
  ...['Bearer', 'Bearer ', 'Basic !!!', 'Bearer ak_\u00ff'].map((value) => `Authorization: ${value}`),
  'x-api-key: ',
  ...['null', 'https://app.example.com', 'https://evil.example', '*'].map((value) => `Origin: ${value}`),
  'Access-Control-Request-Method: \u00ff',
  'Access-Control-Request-Headers: ,,,',
  'Upgrade: websocket\r\nConnection: Upgrade',
  'Upgrade: h2c',
  ...Object.entries(LAMBDA).map(([name, value]) => `${name}: ${value}`),
  ...['null', 'nul', '{}', '[]', '{"requestId":{}}', '"x"'].map(
    (value) => `x-amzn-request-context: ${value}`,
  ),
  ...['{"xray_trace_id":7}', '{"deadline":-1}', 'null'].map((value) => `x-amzn-lambda-context: ${value}`),
  'X-Amzn-Trace-Id: \u00ff\u00fe',
  // Invalid bytes in names and values, and obsolete line folding.
  'X\u0000Y: z',
  'X Y: z',
  'X:Y: z',
  '\u007f: 1',
  ': empty-name',
  'X-Ok: a\u0000b',
  'X-Ok: a\u0001b',
  'X-Ok: \u00ff\u00fe\u0080',
  'X-Ok: a\r\n folded',
  'X-Ok: a\rb',
  'X-Ok: a\nb',
  'NoColon',
  `X-Long: ${'a'.repeat(20_000)}`,
];

/** Request lines the parser or the router may refuse. */
const FIXED_REQUEST_LINES = [
  'GET /health HTTP/1.0',
  'GET /health HTTP/2.0',
  'GET /health HTTP/1.1 extra',
  'GET  /health HTTP/1.1',
  'GET /%zz HTTP/1.1',
  'GET /health?%zz=1 HTTP/1.1',
  'GET /v1/books/%00 HTTP/1.1',
  'GET //..%2f..%2f HTTP/1.1',
  'GET http://elsewhere/health HTTP/1.1',
  'GET * HTTP/1.1',
  'OPTIONS * HTTP/1.1',
  'CONNECT 127.0.0.1:1 HTTP/1.1',
  'CONNECT /health HTTP/1.1',
  'FOO /health HTTP/1.1',
  'get /health HTTP/1.1',
  'GET /health\u0000 HTTP/1.1',
  'GET /he alth HTTP/1.1',
  `GET /${'a'.repeat(20_000)} HTTP/1.1`,
];

function fixedCases(): Case[] {
  const cases: Case[] = [];
  for (const header of FIXED_HEADERS) {
    // A header that announces a body gets one, so the parser has bytes to disagree with.
    const body = /^(Content-Length|Transfer-Encoding|Content-Type)/i.test(header)
      ? Buffer.from('0\r\n\r\n{"action":"migrate"}')
      : undefined;
    for (const [method, target] of [
      ['GET', '/health'],
      ['POST', '/v1/books'],
      ['POST', '/internal/events'],
      ['OPTIONS', '/v1/books'],
    ] as const) {
      cases.push({ method, target, header: Buffer.from(header, 'latin1'), body });
    }
  }
  for (const line of FIXED_REQUEST_LINES) {
    const [method = 'GET', target = ''] = line.split(' ');
    cases.push({ method, target, requestLine: line, header: Buffer.from('X-Case: line'), answered: true });
  }
  for (const target of ['/health', '/v1/books', '/internal/events']) {
    cases.push({
      method: 'GET',
      target,
      header: Buffer.from('X-Case: no Host'),
      hostless: true,
      answered: true,
    });
  }
  return cases;
}

const HEADER_NAMES = [
  'Accept-Encoding',
  'Range',
  'Expect',
  'Content-Length',
  'Transfer-Encoding',
  'Content-Type',
  'If-None-Match',
  'If-Modified-Since',
  'Cookie',
  'Authorization',
  'x-api-key',
  'Origin',
  'Access-Control-Request-Method',
  'Access-Control-Request-Headers',
  'Upgrade',
  'Connection',
  'Host',
  'x-amzn-request-context',
  'x-amzn-lambda-context',
  'x-amzn-trace-id',
  'Accept',
];

/** A header line from raw bytes: known or arbitrary names, values of any byte or character. */
const generatedCase: fc.Arbitrary<Case> = fc.record({
  method: fc.constantFrom(...METHODS),
  target: fc.constantFrom(...TARGETS),
  header: fc
    .tuple(
      fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.string({ unit: 'binary-ascii', maxLength: 20 })),
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 64 }).map((value) => Buffer.from(value, 'utf8')),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        fc
          .array(
            fc.constantFrom(
              'gzip',
              ';',
              ',',
              '=',
              'q',
              '*',
              '-',
              'bytes',
              '0',
              '1',
              ' ',
              '"',
              'chunked',
              'null',
            ),
            {
              maxLength: 12,
            },
          )
          .map((parts) => Buffer.from(parts.join(''), 'latin1')),
      ),
    )
    .map(([name, value]) => Buffer.concat([Buffer.from(`${name}: `, 'latin1'), value])),
  body: fc.option(
    fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
    { nil: undefined },
  ),
});

for (const [where, env] of [
  ['outside Lambda', {}],
  ['inside Lambda', IN_LAMBDA],
] as const) {
  t.test(`${where}: the process survives every malformed request`, async (t) => {
    const app = await startBundle(env);
    const statuses = new Map<string, number>();
    const malformedAnswers: string[] = [];
    const survive = async (request: Case): Promise<boolean> => {
      const answer = await rawExchange(app.port, requestBytes(request), EXCHANGE_TIMEOUT_MS);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed';
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const problem = answerProblem(request, answer);
      if (problem !== undefined) malformedAnswers.push(`${describe(request)}: ${problem}`);
      if (app.child.exitCode !== null || app.child.signalCode !== null) return false;
      return (await health(app.port)) === 200;
    };
    const describe = (request: Case) =>
      `${(request.requestLine ?? `${request.method} ${request.target}`).slice(0, 120)} ${JSON.stringify(request.header.toString('latin1').slice(0, 120))}${request.hostless === true ? ' (no Host)' : ''}`;

    for (const request of fixedCases()) {
      if (!(await survive(request))) {
        t.fail(`died or stopped answering after ${describe(request)}:\n${app.output().slice(-2000)}`);
        return;
      }
    }
    t.pass(`${String(fixedCases().length)} fixed requests`);

    for (const { name, bytes } of halfBodies()) {
      for (const reset of [false, true]) {
        await abandonBody(app.port, bytes, reset);
        if (app.child.exitCode !== null || (await health(app.port)) !== 200) {
          t.fail(
            `died or stopped answering after ${name}, ${reset ? 'reset' : 'closed'} halfway through the body:\n${app.output().slice(-2000)}`,
          );
          return;
        }
      }
    }
    t.pass('bodies left halfway, on every route that reads one');

    await fc.assert(
      fc.asyncProperty(generatedCase, async (request) => survive(request)),
      { numRuns: GENERATED_RUNS, endOnFailure: true },
    );
    t.pass(`${String(GENERATED_RUNS)} generated requests`);
    t.comment(`answers: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    t.same(
      malformedAnswers.slice(0, 20),
      [],
      'every answer has the security headers, every body is the envelope',
    );
    t.equal(app.child.exitCode, null, 'still running');
    t.notMatch(app.output(), /uncaught|unhandled/i, 'no uncaught exception was reported');
    t.notMatch(app.output(), /"level":(50|60)/, 'nothing was logged as an error');
    t.notMatch(app.output(), apiKey.slice(-12), 'the API key is in no log line');
  });
}
