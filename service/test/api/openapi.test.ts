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
import { isValidIsbn } from '../../src/modules/books/isbn.ts';
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
  t.ok(documented.includes('/health') && documented.includes('/v1/books/{id}/cover'));
  const undocumented = app.server
    .table()
    .filter((route) => !route.settings.tags?.includes('api'))
    .map((route) => route.path)
    .filter((path) => !/^\/(?:internal\/events|docs|openapi\.json|swaggerui\/.*)$/.test(path));
  t.same(undocumented, [], "a route without the 'api' tag is only the events route or the docs' own");
  t.same(keysAt(spec, 'paths', '/v1/books/{id}/cover').sort(), ['delete', 'get', 'put']);
  t.same(keysAt(spec, 'paths', '/v1/books/{id}').sort(), ['delete', 'get', 'patch']);
  t.same(keysAt(spec, 'paths', '/v1/books').sort(), ['get', 'post']);
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
  t.equal(nullable('EmptyEnvelope', 'data'), true, 'deletes send data: null');
  t.equal(nullable('Book', 'publishedYear'), true);
  t.equal(nullable('CreateBook', 'publishedYear'), true, 'requests may send null');
  t.equal(nullable('UpdateBook', 'publishedYear'), true);
});

t.test('every success status, with its media types', async (t) => {
  const cover = at(spec, 'paths', '/v1/books/{id}/cover');
  t.ok(at(spec, 'paths', '/v1/books/{id}', 'delete', 'responses', '200'), 'DELETE book answers 200');
  t.ok(at(cover, 'delete', 'responses', '200'), 'DELETE cover answers 200');
  const images = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
  t.same(keysAt(cover, 'get', 'responses', '200', 'content'), images, 'GET cover answers the image');
  t.ok(at(cover, 'get', 'responses', '200', 'headers', 'ETag'));
  t.ok(at(cover, 'get', 'responses', '304'), 'a matching If-None-Match answers 304');
  t.same(keysAt(cover, 'put', 'requestBody', 'content'), images, 'PUT cover takes the raw image');
  t.equal(at(cover, 'put', 'requestBody', 'required'), true);
  t.same(keysAt(spec, 'paths', '/v1/books', 'post', 'requestBody', 'content'), ['application/json']);
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
  const description = (method: string, status: string) =>
    String(at(spec, 'paths', '/v1/books', method, 'responses', status, 'description'));
  t.match(
    description('get', '503'),
    /5031 .*5032 .*5033 .*5030 /s,
    'unavailable, not migrated, missing, timeout',
  );
  t.match(description('post', '413'), /4130 /);
  t.match(description('post', '408'), /4080 /);
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
  const created = ['paths', '/v1/books', 'post', 'requestBody', 'content', 'application/json', 'example'];
  t.ok(isValidIsbn(String(at(spec, ...created, 'isbn'))), 'a real ISBN');
  const id = at(spec, 'paths', '/v1/books/{id}', 'get', 'parameters', '0', 'example');
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7');
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
