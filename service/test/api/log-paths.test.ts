// No log path can throw: hapi logs some requests before any onRequest extension has run (a malformed
// Accept-Encoding), and an exception in a binding, serializer or stringifier there would end the process.
import fc from 'fast-check';
import { pino } from 'pino';
import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { ClientErrorLog } from '../../src/lib/client-error-log.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { hapiPinoOptions } from '../../src/plugins/logging.ts';
import { createServer } from '../../src/server.ts';
import { rawExchange } from '../helpers/raw-http.ts';

const ACCEPT_ENCODINGS = ['gzip;', ',,,,;;;', 'x;y=z', 'gzip;q=2', ';', 'gzip;q=', '*;q=x'];

for (const inLambda of [false, true]) {
  t.test(`a malformed Accept-Encoding is answered, ${inLambda ? 'inside' : 'outside'} Lambda`, async (t) => {
    const config = loadConfig({
      APP_ENV: 'test',
      LOG_LEVEL: 'trace',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/unused',
      AWS_LAMBDA_RUNTIME_API: inLambda ? '127.0.0.1:9001' : '',
    });
    const lines: string[] = [];
    const server = await createServer(config, {
      logStream: { write: (line: string) => void lines.push(line) },
    });
    await server.start();
    t.teardown(() => server.stop());
    const port = Number(server.info.port);
    for (const value of ACCEPT_ENCODINGS) {
      const answer = await rawExchange(
        port,
        `GET /health HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ${value}\r\nConnection: close\r\n\r\n`,
      );
      t.match(answer, /^HTTP\/1\.1 200 /, `Accept-Encoding: ${value} → 200`);
    }
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.res !== undefined);
    t.match(line, { traceId: String, req: { method: 'GET', path: '/health' } }, 'and logged as usual');
  });
}

/** An object every read of which throws: the worst a logged value can be. */
const hostile = new Proxy(
  {},
  {
    get: () => {
      throw new Error('read');
    },
    getPrototypeOf: () => {
      throw new Error('prototype');
    },
    ownKeys: () => {
      throw new Error('keys');
    },
    has: () => {
      throw new Error('has');
    },
    getOwnPropertyDescriptor: () => {
      throw new Error('descriptor');
    },
  },
);
const withThrowingGetter = Object.defineProperty({}, 'app', {
  enumerable: true,
  get: () => {
    throw new Error('getter');
  },
});

/** Requests at every stage of their life, from nothing at all to a hostile object. */
const HALF_BUILT: unknown[] = [
  undefined,
  null,
  {},
  { app: {} },
  { app: null },
  { app: { traceId: 't' } },
  { app: { traceId: 't', lambda: null } },
  { app: { traceId: 't', lambda: { xrayTraceId: 'x' } }, method: 'get', path: '/p' },
  { method: 42, path: {}, raw: {} },
  { method: 'get', path: '/p', raw: { res: null } },
  hostile,
  withThrowingGetter,
];
/** Calls `use` with each half-built request, then with whatever fast-check makes up. */
function forEveryValue(use: (value: unknown, second: unknown) => void, numRuns: number): void {
  for (const value of HALF_BUILT) for (const second of HALF_BUILT) use(value, second);
  // (fast-check itself cannot hold the hostile proxy: it probes its values.)
  fc.assert(
    fc.property(fc.anything({ withNullPrototype: true }), fc.anything(), (value, second) => {
      use(value, second);
    }),
    { numRuns },
  );
}

const config = loadConfig({
  APP_ENV: 'test',
  LOG_LEVEL: 'trace',
  DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x',
});

function capturedLogger() {
  const lines: string[] = [];
  return { lines, logger: createLogger(config, { write: (line: string) => void lines.push(line) }) };
}

t.test('hapi-pino callbacks survive a request at any stage of its life', async (t) => {
  const { logger } = capturedLogger();
  const options = hapiPinoOptions(logger) as unknown as Record<string, unknown>;
  const callbacks = Object.entries(options).filter(([, value]) => typeof value === 'function');
  t.ok(callbacks.length >= 2, callbacks.map(([key]) => key).join(', '));
  for (const [name, callback] of callbacks) {
    forEveryValue((request, second) => {
      (callback as (...args: unknown[]) => unknown)(request, second);
    }, 300);
    t.pass(`${name} never throws`);
  }
  const getChildBindings = options.getChildBindings as (request: unknown) => Record<string, unknown>;
  t.same(getChildBindings({ app: {}, method: 'get' }), {
    traceId: undefined,
    req: { app: {}, method: 'get' },
  });
  t.same(getChildBindings(hostile), {}, 'an unreadable request binds nothing');
});

t.test('every serializer and stringifier of the logger survives any value', async (t) => {
  const server = await createServer(config, { logStream: { write: () => undefined } });
  t.teardown(() => server.stop());
  // The logger as hapi-pino left it (it merges its own serializers into the instance's).
  const logger = server.logger as unknown as Record<symbol, Record<string | symbol, unknown>>;
  const functions = [pino.symbols.serializersSym, pino.symbols.stringifiersSym].flatMap((symbol) =>
    Reflect.ownKeys(logger[symbol] ?? {}).map((key) => [String(key), logger[symbol]?.[key]] as const),
  );
  t.ok(functions.length >= 3);
  for (const [name, fn] of functions) {
    if (typeof fn !== 'function') continue;
    forEveryValue((value) => {
      (fn as (value: unknown, stringifySafe?: unknown) => unknown)(value, JSON.stringify);
    }, 200);
    t.pass(`${name} never throws`);
  }
});

t.test('for a normal request every guarded function gives its normal output, not its fallback', async (t) => {
  // A guard hides throws: a serializer or binding that always failed would otherwise pass every test above.
  const server = await createServer(config, { logStream: { write: () => undefined } });
  t.teardown(() => server.stop());
  const logger = server.logger as unknown as Record<symbol, Record<string, (value: unknown) => unknown>>;
  const serializers = logger[pino.symbols.serializersSym] ?? {};
  const error = Object.assign(new TypeError('boom'), { code: 'E_BOOM' });
  t.same(serializers.err?.(error), pino.stdSerializers.err(error), "err: pino's standard serializer");
  t.same(serializers.req?.({ method: 'post', path: '/v1/books', headers: { 'x-api-key': 'k' } }), {
    method: 'POST',
    path: '/v1/books',
  });
  t.same(serializers.res?.({ statusCode: 201 }), { statusCode: 201 });

  const options = hapiPinoOptions(pino({ level: 'silent' })) as unknown as {
    getChildBindings: (request: unknown) => Record<string, unknown>;
    customRequestCompleteMessage: (request: unknown, responseTime: number) => string;
  };
  const request = {
    app: {
      traceId: 't-1',
      lambda: {
        apiRequestId: 'a-1',
        sourceIp: '203.0.113.7',
        xrayTraceId: 'Root=1',
        passThroughEvent: false,
      },
    },
    method: 'post',
    path: '/v1/books',
    raw: { res: { statusCode: 201 } },
  };
  t.same(options.getChildBindings(request), {
    traceId: 't-1',
    apiRequestId: 'a-1',
    sourceIp: '203.0.113.7',
    xrayTraceId: 'Root=1',
    req: request,
  });
  t.equal(options.customRequestCompleteMessage(request, 7), 'POST /v1/books 201 7ms');

  // Every stringifier, redacting or fast, on a line of normal values.
  const { logger: captured, lines } = capturedLogger();
  captured.info(
    {
      err: error,
      headers: { authorization: 'k', accept: '*/*' },
      password: 'p',
      nested: { apiKey: 'k' },
      n: 1,
    },
    'normal',
  );
  const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
  t.match(line, {
    err: { type: 'TypeError', message: 'boom', code: 'E_BOOM', stack: /boom/ },
    headers: { authorization: '[REDACTED]', accept: '*/*' },
    password: '[REDACTED]',
    nested: { apiKey: '[REDACTED]' },
    n: 1,
  });
  t.notMatch(lines[0], /unserializable/);
});

t.test('a line, or a child, with an unreadable value is still written, as valid JSON', async (t) => {
  const { logger, lines } = capturedLogger();
  for (const value of HALF_BUILT) {
    t.doesNotThrow(() => {
      logger.child({ traceId: 't', req: value }).info({ res: value, err: value, nested: value }, 'm');
      logger.info({ req: value, headers: value, password: value }, 'n');
    });
  }
  t.equal(lines.length, HALF_BUILT.length * 2);
  for (const line of lines) t.doesNotThrow(() => JSON.parse(line) as unknown);
  const hostileLine = lines[HALF_BUILT.indexOf(hostile) * 2 + 1];
  t.match(hostileLine, /"req":"\[unserializable\]"/, 'an unreadable value is marked, not dropped silently');
});

t.test('the client-error log survives any error object', async (t) => {
  const { logger, lines } = capturedLogger();
  const log = new ClientErrorLog(logger, 60_000);
  t.teardown(() => {
    log.flush();
  });
  for (const error of [...HALF_BUILT, new Error('x'), Object.assign(new Error('y'), { code: 'HPE_X' })]) {
    t.doesNotThrow(() => {
      log.record(error, '127.0.0.1');
    });
  }
  log.flush();
  const summary = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => 'clientErrors' in l);
  t.match(summary, { clientErrors: HALF_BUILT.length + 2, codes: { HPE_X: 1 } }, 'each one counted');
});
