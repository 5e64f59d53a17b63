// The OpenAPI document is valid OpenAPI 3, describes what the server answers, names no host, and `npm run
// openapi` writes it; helpers/openapi-responses.ts checks every response the suite sees against it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import Joi from 'joi';
import t from 'tap';
import { OpenApiResponseValidator } from '../helpers/openapi-responses.ts';
import { buildServer } from '../helpers/server.ts';

const app = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });

type Json = Record<string, unknown>;
/** The value at a path of keys, or undefined. */
const at = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], value);
const keysAt = (value: unknown, ...keys: string[]): string[] => Object.keys(at(value, ...keys) ?? {});
const served = async (headers: Record<string, string> = {}): Promise<Json> => {
  const response = await app.inject({ url: '/openapi.json', headers });
  t.equal(response.statusCode, 200);
  return JSON.parse(response.payload) as Json;
};
const spec = await served();
interface Operation {
  parameters?: Json[];
  requestBody?: { content?: Record<string, { example?: Json }> };
  responses: Record<string, { content?: Json; headers: Record<string, unknown> }>;
}
const operations = Object.entries(spec.paths as Record<string, Record<string, Operation>>).flatMap(
  ([path, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({ path, method, operation })),
);

t.test('the served spec is valid OpenAPI 3 and complete', async (t) => {
  t.match(spec.openapi, /^3\.\d+\.\d+$/);
  await SwaggerParser.validate(structuredClone(spec) as never);
  // Every route tagged 'api' is documented, and nothing else: a new module's routes need no edit here.
  const documented = app.server
    .table()
    .filter((route) => route.settings.tags?.includes('api'))
    .map((route) => route.path);
  t.same(keysAt(spec, 'paths').sort(), [...new Set(documented)].sort());
  t.ok(documented.includes('/health'));
  const undocumented = app.server
    .table()
    .filter((route) => !route.settings.tags?.includes('api'))
    .map((route) => route.path)
    .filter((path) => !/^\/(?:internal\/events|docs|openapi\.json|swaggerui\/.*)$/.test(path));
  t.same(undocumented, [], "a route without the 'api' tag is only the events route or the docs' own");
});

t.test('the server URL is relative, whatever Host or X-Forwarded-Host say', async (t) => {
  const attacked = await served({ host: 'evil.example', 'x-forwarded-host': 'evil.example' });
  t.same(at(attacked, 'servers', '0', 'url'), '/');
  t.same((attacked.servers as unknown[]).length, 1);
  t.notMatch(JSON.stringify(attacked), /evil\.example|0\.0\.0\.0|localhost/);
});

t.test('nullable values are documented as nullable', async (t) => {
  const nullable = (schema: string, property: string) =>
    at(spec, 'components', 'schemas', schema, 'properties', property, 'nullable');
  t.equal(nullable('ErrorEnvelope', 'data'), true, 'error envelopes send data: null');
});

t.test('every success status, with its media types', async (t) => {
  for (const { path, method, operation } of operations) {
    for (const [status, response] of Object.entries(operation.responses)) {
      if (status === '304') continue;
      t.ok(response.content, `${method} ${path} ${status} names its media type`);
    }
  }
});

t.test(
  'keyed operations document 401 and 429 with their headers; every answer has x-request-id',
  async (t) => {
    for (const { path, method, operation } of operations) {
      const { responses } = operation;
      for (const [status, response] of Object.entries(responses)) {
        t.same(response.headers['x-request-id'], { $ref: '#/components/headers/x-request-id' });
        if (path.startsWith('/v1/')) {
          t.ok(response.headers['RateLimit-Remaining'] && response.headers['X-Quota-Remaining'], status);
        }
      }
      if (!path.startsWith('/v1/')) {
        t.notOk(responses['401'], `${method} ${path} is open`);
        continue;
      }
      t.ok(at(responses, '401', 'headers', 'WWW-Authenticate'), `${method} ${path} 401`);
      t.ok(at(responses, '429', 'headers', 'Retry-After'), `${method} ${path} 429`);
    }
    t.equal(at(spec, 'components', 'headers', 'x-request-id', 'required'), true);
    const headers = keysAt(spec, 'components', 'headers');
    t.equal(headers.filter((name) => /^(RateLimit|X-Quota)-/.test(name)).length, 6);
  },
);

t.test('error statuses: every registry code an operation can answer', async (t) => {
  for (const { path, method, operation } of operations) {
    const { responses } = operation;
    for (const status of ['400', '500', '503']) t.ok(responses[status], `${method} ${path} ${status}`);
    for (const status of ['408', '413', '415']) {
      t.equal(Boolean(responses[status]), method !== 'get', `${method} ${path} ${status}: it reads a body`);
    }
  }
  const codes = at(spec, 'components', 'schemas', 'ErrorEnvelope', 'properties', 'code', 'description');
  t.match(codes, /4050 \(405\)/);
});

t.test('every parameter and JSON body has a realistic example', async (t) => {
  for (const { path, method, operation } of operations) {
    for (const parameter of operation.parameters ?? []) {
      t.not(parameter.example, undefined, `${method} ${path} ${String(parameter.name)}`);
    }
    const body = operation.requestBody?.content?.['application/json'];
    if (body) t.ok(Object.keys(body.example ?? {}).length > 0, `${method} ${path} body`);
  }
});

t.test('the response check fails routes, statuses and bodies the document does not describe', async (t) => {
  const fixture = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
  fixture.server.route([
    { method: 'GET', path: '/v1/secret', options: { auth: false, handler: () => ({ ok: true }) } },
    {
      method: 'GET',
      path: '/v1/teapot',
      options: { auth: false, tags: ['api'], handler: (_request, h) => h.response({}).code(418) },
    },
    {
      method: 'GET',
      path: '/v1/shape',
      options: {
        auth: false,
        tags: ['api'],
        response: { schema: Joi.object({ a: Joi.string().required() }).label('Shape'), sample: 0 },
        handler: () => ({ a: 1 }),
      },
    },
  ]);
  const validator = await OpenApiResponseValidator.for(fixture.server);
  const check = async (url: string) => validator.violations(await fixture.server.inject(url));
  t.match(await check('/v1/secret'), [/GET \/v1\/secret → 200: the route is not in the document/]);
  t.match(await check('/v1/teapot'), [/418: the status is not documented/]);
  t.match(await check('/v1/shape'), [/body does not match the schema: .*must be string/]);
  t.same(await check('/health'), [], 'a described answer passes');
  t.same(await check('/no/such/route'), [], 'no route: nothing any document could say');
});

t.test('a refused document request keeps its error envelope', async (t) => {
  // The error mapper has already turned the Boom into an envelope when the docs plugin sees it.
  const refused = await app.json({ url: '/openapi.json?=0' });
  t.equal(refused.status, 400);
  t.match(refused.body, { success: false, code: 8001, data: null });
});

t.test('Swagger UI is served', async (t) => {
  const response = await app.inject('/docs');
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /text\/html/);
});

t.test('npm run openapi writes the same document', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'openapi-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'openapi.json');
  await promisify(execFile)(process.execPath, ['scripts/openapi.ts', '--out', out], {
    cwd: path.resolve(import.meta.dirname, '../..'),
  });
  const written = JSON.parse(await readFile(out, 'utf8')) as { info: { title: string } };
  t.same(written, spec);
});

t.test('a 503 may carry Retry-After: the overload answer (5034) does, the others do not', async (t) => {
  for (const { path, method, operation } of operations) {
    if (!path.startsWith('/v1/')) continue;
    const header = at(operation.responses, '503', 'headers', 'Retry-After') as
      { required?: boolean; schema?: unknown } | undefined;
    t.match(header, { schema: { type: 'integer' } }, `${method} ${path} 503 documents Retry-After`);
    t.not(header?.required, true, 'not on every 503');
  }
});
