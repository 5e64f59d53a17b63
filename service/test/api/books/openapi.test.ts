// What the OpenAPI document says about the books routes: their operations, nullable fields, binary covers,
// the codes each error status names, and realistic examples.
import t from 'tap';
import { isValidIsbn } from '../../../src/modules/books/isbn.ts';
import { buildServer } from '../../helpers/server.ts';

const app = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
const spec = JSON.parse((await app.inject('/openapi.json')).payload) as Record<string, unknown>;
const at = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
const keysAt = (value: unknown, ...keys: string[]): string[] => Object.keys(at(value, ...keys) ?? {});

t.test('the books operations', async (t) => {
  t.same(keysAt(spec, 'paths', '/v1/books/{id}/cover').sort(), ['delete', 'get', 'put']);
  t.same(keysAt(spec, 'paths', '/v1/books/{id}').sort(), ['delete', 'get', 'patch']);
  t.same(keysAt(spec, 'paths', '/v1/books').sort(), ['get', 'post']);
});

t.test('nullable values are documented as nullable', async (t) => {
  const nullable = (schema: string, property: string) =>
    at(spec, 'components', 'schemas', schema, 'properties', property, 'nullable');
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
});

t.test('error statuses name their registry codes', async (t) => {
  const description = (method: string, status: string) =>
    String(at(spec, 'paths', '/v1/books', method, 'responses', status, 'description'));
  t.match(
    description('get', '503'),
    /5031 .*5032 .*5033 .*5030 /s,
    'unavailable, not migrated, missing, timeout',
  );
  t.match(description('post', '413'), /4130 /);
  t.match(description('post', '408'), /4080 /);
});

t.test('realistic examples', async (t) => {
  const created = ['paths', '/v1/books', 'post', 'requestBody', 'content', 'application/json', 'example'];
  t.ok(isValidIsbn(String(at(spec, ...created, 'isbn'))), 'a real ISBN');
  const id = at(spec, 'paths', '/v1/books/{id}', 'get', 'parameters', '0', 'example');
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7');
});
