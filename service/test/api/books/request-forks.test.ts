// The ORM's per-request fork is made on first use: a keyed read of a book makes none, work that maps
// entities gets its own, and two requests never share an entity.
import type { Request } from '@hapi/hapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import t, { type Test } from 'tap';
import { BookSchema } from '../../../src/modules/books/book.entity.ts';
import { BookRepository } from '../../../src/modules/books/book.repository.ts';
import type { BookDto } from '../../../src/modules/books/book.dto.ts';
import { EVENTS_PATH } from '../../../src/plugins/lambda-events.ts';
import { PASS_THROUGH_HEADERS } from '../../fixtures/lambda.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { buildServer, type Envelope, type TestServer } from '../../helpers/server.ts';

const db = await startTestDatabase(t);

/** Counts the forks of the shared EntityManager from now on. */
async function countForks(app: TestServer): Promise<() => number> {
  const { em } = await app.server.plugins.database.getOrm();
  const fork = em.fork.bind(em);
  let forks = 0;
  em.fork = (...args: Parameters<EntityManager['fork']>) => {
    forks++;
    return fork(...args);
  };
  return () => forks;
}

async function createKey(t: Test, app: TestServer): Promise<string> {
  const { status, body } = await app.json<Envelope<{ key: string }>>({
    method: 'POST',
    url: EVENTS_PATH,
    headers: PASS_THROUGH_HEADERS,
    payload: { action: 'keys.create', name: 'forks' },
  });
  t.equal(status, 200, 'key created');
  return body.data.key;
}

async function createBook(t: Test, app: TestServer, headers: Record<string, string>): Promise<BookDto> {
  const { status, body } = await app.json<Envelope<BookDto>>({
    method: 'POST',
    url: '/v1/books',
    headers,
    payload: { title: 'Forks', author: 'A. Fork', isbn: uniqueIsbn(), publishedYear: 2001 },
  });
  t.equal(status, 201, 'book created');
  return body.data;
}

t.test('a keyed GET of a book forks no EntityManager; a write forks one', async (t: Test) => {
  const app = await buildServer(t, { DATABASE_URL: db.url, API_KEYS_REQUIRED: 'true' });
  const headers = { 'x-api-key': await createKey(t, app) };
  const book = await createBook(t, app, headers);
  const forks = await countForks(app);

  const read = await app.json<Envelope<BookDto>>({ url: `/v1/books/${book.id}`, headers });
  t.equal(read.status, 200);
  t.strictSame(read.body.data, book, 'the same fields, of the same JSON types, as the write answered');
  t.equal(
    read.headers['ratelimit-remaining'],
    String(app.config.apiKeys.defaultRatePerMinute - 2),
    'the key was checked and counted',
  );
  const missing = await app.json({ url: '/v1/books/00000000-0000-4000-8000-000000000000', headers });
  t.equal(missing.status, 404);
  t.equal(forks(), 0, 'the key lookup and the reads ran SQL only');

  const patched = await app.json({
    method: 'PATCH',
    url: `/v1/books/${book.id}`,
    headers,
    payload: { title: 'Forked' },
  });
  t.equal(patched.status, 200);
  t.equal(forks(), 1, 'the update, which maps an entity, got its fork');
});

t.test('each request has its own identity map', async (t: Test) => {
  const app = await buildServer(t, { DATABASE_URL: db.url });
  const book = await createBook(t, app, {});
  const database = app.server.plugins.database;
  const request = () =>
    ({ app: {}, info: { received: Date.now() }, active: () => true, method: 'get' }) as unknown as Request;
  const first = request();
  const second = request();
  const load = (em: EntityManager) => em.findOneOrFail(BookSchema, { id: book.id });

  const one = await database.run(first, load);
  t.equal(await database.run(first, load), one, 'one request: one entity per row');
  one.title = 'changed in the first request only';
  const other = await database.run(second, load);
  t.not(other, one, 'another request: another entity');
  t.equal(other.title, 'Forks', "it does not see the first request's unsaved change");
  t.not(second.app.em, first.app.em);
});

// readById maps the row without the hydrator: every property of the entity, as it is defined then, must come
// out as the hydrator makes it (a custom type such as bigint or decimal included).
t.test('a read without an entity gives every property as the entity has it', async (t: Test) => {
  const app = await buildServer(t, { DATABASE_URL: db.url });
  const book = await createBook(t, app, {});
  const { em } = await app.server.plugins.database.getOrm();
  const fork = em.fork();
  const entity = await new BookRepository(fork).findById(book.id);
  const fields = await new BookRepository(fork).readById(book.id);
  const props = fork.getMetadata().get(BookSchema).props;
  t.ok(props.length >= 8, `${props.length} properties`);
  for (const { name } of props)
    t.strictSame(
      (fields as Record<string, unknown> | null)?.[name],
      (entity as Record<string, unknown> | null)?.[name],
      name,
    );
});
