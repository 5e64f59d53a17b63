// A typed client from the served document (openapi-typescript, openapi-fetch) passes `tsc --strict`, misuse
// does not, and it runs a full books round trip over HTTP against the embedded PostgreSQL.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import t from 'tap';
import ts from 'typescript';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { buildServer } from '../../helpers/server.ts';

const serviceDir = path.resolve(import.meta.dirname, '../../..');
const db = await startTestDatabase(t);
const app = await buildServer(t, { DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1' });
await app.server.start();
t.teardown(() => app.server.stop());
const baseUrl = `http://127.0.0.1:${String(app.server.info.port)}`;

// Inside service/ so the client resolves openapi-fetch from its node_modules; removed afterwards.
const scratch = await mkdtemp(path.join(serviceDir, '.typed-client-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));

/** openapi-typescript's documented transform: `format: binary` becomes Blob, as fetch sends it. */
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));

const CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './api.ts';

export async function roundTrip(baseUrl: string, isbn: string, png: Uint8Array<ArrayBuffer>) {
  const client = createClient<paths>({ baseUrl });
  const created = await client.POST('/v1/books', {
    body: { title: 'Dune', author: 'Frank Herbert', isbn, publishedYear: 1965 },
  });
  if (!created.data) throw new Error(\`create answered \${created.response.status}\`);
  const id: string = created.data.data.id;
  // @ts-expect-error publishedYear is a number or null, never a string
  void client.POST('/v1/books', { body: { title: 'x', author: 'y', isbn, publishedYear: '1965' } });
  // @ts-expect-error there is no such path
  void client.GET('/v1/bookz');

  const read = await client.GET('/v1/books/{id}', { params: { path: { id } } });
  const year: number | null | undefined = read.data?.data.publishedYear;
  const listed = await client.GET('/v1/books', {
    params: { query: { author: 'herbert', limit: 5, sort: '-createdAt' } },
  });
  const updated = await client.PATCH('/v1/books/{id}', {
    params: { path: { id } },
    body: { title: 'Dune Messiah', publishedYear: null },
  });
  const put = await client.PUT('/v1/books/{id}/cover', {
    params: { path: { id } },
    body: new Blob([png], { type: 'image/png' }),
    headers: { 'content-type': 'image/png' },
    bodySerializer: (body) => body,
  });
  const cover = await client.GET('/v1/books/{id}/cover', { params: { path: { id } }, parseAs: 'arrayBuffer' });
  const deleted = await client.DELETE('/v1/books/{id}', { params: { path: { id } } });
  const gone = await client.GET('/v1/books/{id}', { params: { path: { id } } });
  return {
    year,
    listedTitles: listed.data?.data.items.map((book) => book.title),
    listedTotal: listed.data?.data.total,
    updated: updated.data?.data,
    coverSize: put.data?.data.size,
    coverBytes: cover.data ? new Uint8Array(cover.data) : undefined,
    coverType: cover.response.headers.get('content-type'),
    deletedData: deleted.data?.data,
    goneCode: gone.error?.code,
    goneStatus: gone.response.status,
  };
}
`;

t.test('generated types type-check a client under tsc --strict', async (t) => {
  const document = JSON.parse((await app.inject('/openapi.json')).payload) as Parameters<typeof openapiTS>[0];
  const ast = await openapiTS(document, {
    transform: (schema) => (schema.format === 'binary' ? BLOB : undefined),
  });
  await writeFile(path.join(scratch, 'api.ts'), astToString(ast));
  await writeFile(path.join(scratch, 'client.ts'), CLIENT);
  await writeFile(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.base.json',
      compilerOptions: { strict: true, lib: ['es2024', 'dom'] },
      include: ['*.ts'],
    }),
  );
  const tsc = path.join(
    path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')),
    'bin',
    'tsc',
  );
  const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', scratch]).catch(
    (error: unknown) => ({ stdout: `tsc failed:\n${String((error as { stdout?: unknown }).stdout)}` }),
  );
  t.equal(stdout, '', 'no type errors (and every @ts-expect-error misuse is rejected)');
});

t.test('the typed client runs the books round trip against the real server', async (t) => {
  const { roundTrip } = (await import(pathToFileURL(path.join(scratch, 'client.ts')).href)) as {
    roundTrip: (baseUrl: string, isbn: string, png: Uint8Array) => Promise<Record<string, unknown>>;
  };
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
  const result = await roundTrip(baseUrl, uniqueIsbn(), png);
  t.match(result, {
    year: 1965,
    listedTitles: ['Dune'],
    listedTotal: 1,
    updated: { title: 'Dune Messiah', publishedYear: null },
    coverSize: png.length,
    coverType: 'image/png',
    deletedData: null,
    goneCode: 9001,
    goneStatus: 404,
  });
  t.same(result.coverBytes, png, 'the cover comes back byte for byte');
});
