// The OpenAPI document is valid and describes every public route; `npm run openapi` writes it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import t from 'tap';
import { buildServer } from './helpers/server.ts';

const app = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });

t.test('the served spec is valid and complete', async (t) => {
  const response = await app.inject('/openapi.json');
  t.equal(response.statusCode, 200);
  const spec = JSON.parse(response.payload) as { paths: Record<string, Record<string, unknown>> };
  await SwaggerParser.validate(structuredClone(spec) as never);
  t.same(Object.keys(spec.paths).sort(), [
    '/health',
    '/health/ready',
    '/v1/books',
    '/v1/books/{id}',
    '/v1/books/{id}/cover',
  ]);
  t.same(Object.keys(spec.paths['/v1/books/{id}/cover'] ?? {}).sort(), ['delete', 'get', 'put']);
  t.same(Object.keys(spec.paths['/v1/books/{id}'] ?? {}).sort(), ['delete', 'get', 'patch']);
  t.same(Object.keys(spec.paths['/v1/books'] ?? {}).sort(), ['get', 'post']);
  t.match(JSON.stringify(spec), /BookEnvelope/, 'responses are documented with the envelope');
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
    cwd: path.resolve(import.meta.dirname, '..'),
  });
  const written = JSON.parse(await readFile(out, 'utf8')) as { info: { title: string } };
  const served = JSON.parse((await app.inject('/openapi.json')).payload) as unknown;
  t.same(written, served);
});
