// The books API against a real PostgreSQL. Every test builds its own server (one shared database, told
// apart by unique ISBNs and authors), so no test depends on what another left in a server.
import pg from 'pg';
import t, { type Test } from 'tap';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../../src/modules/books/book.schemas.ts';
import type { BookDto, BookPage } from '../../../src/modules/books/book.dto.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { buildServer, type Envelope, type TestServer } from '../../helpers/server.ts';

const db = await startTestDatabase(t);

function booksApp(t: Test): Promise<TestServer> {
  return buildServer(t, { DATABASE_URL: db.url });
}

async function createBook(app: TestServer, overrides: Partial<BookDto> = {}) {
  const response = await app.json<Envelope<BookDto>>({
    method: 'POST',
    url: '/v1/books',
    payload: { title: 'A title', author: 'An Author', isbn: uniqueIsbn(), ...overrides },
  });
  t.equal(response.status, 201, 'created');
  return response.body.data;
}

t.test('create, read, update, delete round trip', async (t) => {
  const app = await booksApp(t);
  const created = await app.json<Envelope<BookDto>>({
    method: 'POST',
    url: '/v1/books',
    payload: { title: '  Dune ', author: 'Frank Herbert', isbn: '978-0-441-01359-3', publishedYear: 1965 },
  });
  t.equal(created.status, 201);
  t.match(created.body, { success: true, message: 'Book created', traceId: String });
  const book = created.body.data;
  t.match(book, { title: 'Dune', author: 'Frank Herbert', isbn: '9780441013593', publishedYear: 1965 });
  t.match(book.id, /^[0-9a-f-]{36}$/);

  const read = await app.json<Envelope<BookDto>>(`/v1/books/${book.id}`);
  t.equal(read.status, 200);
  t.same(read.body.data, book);

  const patch = { title: 'Dune (50th anniversary)', publishedYear: null };
  const updated = await app.json<Envelope<BookDto>>({
    method: 'PATCH',
    url: `/v1/books/${book.id}`,
    payload: patch,
  });
  t.equal(updated.status, 200);
  t.same(
    updated.body.data,
    { ...book, ...patch, updatedAt: updated.body.data.updatedAt },
    'the patched fields change, untouched fields stay',
  );
  t.ok(updated.body.data.updatedAt >= book.updatedAt);
  const reread = await app.json<Envelope<BookDto>>(`/v1/books/${book.id}`);
  t.equal(reread.status, 200);
  t.same(reread.body.data, updated.body.data, 'the update is stored');

  const removal = await app.json({ method: 'DELETE', url: `/v1/books/${book.id}` });
  t.equal(removal.status, 200);
  t.match(removal.body, { success: true, data: null, message: 'Book deleted' });

  const gone = await app.json(`/v1/books/${book.id}`);
  t.equal(gone.status, 404);
  t.match(gone.body, { success: false, code: 9001 });
  const deleteAgain = await app.json({ method: 'DELETE', url: `/v1/books/${book.id}` });
  t.equal(deleteAgain.status, 404);
});

t.test('duplicate ISBN is a 409, on create and on update', async (t) => {
  const app = await booksApp(t);
  const isbn = uniqueIsbn();
  await createBook(app, { isbn });
  const duplicate = await app.json({
    method: 'POST',
    url: '/v1/books',
    payload: { title: 'x', author: 'y', isbn },
  });
  t.equal(duplicate.status, 409);
  t.match(duplicate.body, { success: false, code: 9002, data: null });

  const other = await createBook(app);
  const clash = await app.json({ method: 'PATCH', url: `/v1/books/${other.id}`, payload: { isbn } });
  t.equal(clash.status, 409);
  t.equal(clash.body.code, 9002);
});

t.test('validation errors name each field', async (t) => {
  const app = await booksApp(t);
  const response = await app.json({
    method: 'POST',
    url: '/v1/books',
    payload: { title: '', isbn: '9780441013590', publishedYear: 3000, extra: true },
  });
  t.equal(response.status, 400);
  t.equal(response.body.code, 8001);
  const fields = response.body.errors?.map((e) => e.field).sort();
  t.same(fields, [
    'payload.author',
    'payload.extra',
    'payload.isbn',
    'payload.publishedYear',
    'payload.title',
  ]);
  t.match(response.body.errors?.find((e) => e.field === 'payload.isbn')?.message, /valid ISBN/);

  const emptyPatch = await app.json({
    method: 'PATCH',
    url: `/v1/books/${(await createBook(app)).id}`,
    payload: {},
  });
  t.equal(emptyPatch.status, 400);
  t.equal(emptyPatch.body.code, 8001);
});

t.test('ISBN-10 with X check digit is accepted, and stored as its ISBN-13', async (t) => {
  const book = await createBook(await booksApp(t), { isbn: '0-8044-2957-X' });
  t.equal(book.isbn, '9780804429573');
});

t.test('the ISBN-10 and ISBN-13 forms of one book are one ISBN: 409 on create and on update', async (t) => {
  const app = await booksApp(t);
  const isbn13 = uniqueIsbn();
  // An ISBN-13 starting 978 has an ISBN-10 form: its digits 4-12 and a mod-11 check digit.
  const body = isbn13.slice(3, 12);
  const sum = Array.from(body).reduce((acc, char, i) => acc + Number(char) * (10 - i), 0);
  const check = (11 - (sum % 11)) % 11;
  const isbn10 = `${body}${check === 10 ? 'X' : String(check)}`;

  const first = await createBook(app, { isbn: isbn10 });
  t.equal(first.isbn, isbn13, 'answered (and stored) as ISBN-13');
  const duplicate = await app.json({
    method: 'POST',
    url: '/v1/books',
    payload: { title: 'x', author: 'y', isbn: isbn13 },
  });
  t.equal(`${duplicate.status} ${duplicate.body.code}`, '409 9002', 'the other form is the same book');
  const hyphenated = await app.json({
    method: 'POST',
    url: '/v1/books',
    payload: {
      title: 'x',
      author: 'y',
      isbn: `${isbn10.slice(0, 1)}-${isbn10.slice(1, 5)}-${isbn10.slice(5)}`,
    },
  });
  t.equal(`${hyphenated.status} ${hyphenated.body.code}`, '409 9002');

  const other = await createBook(app);
  const clash = await app.json({ method: 'PATCH', url: `/v1/books/${other.id}`, payload: { isbn: isbn10 } });
  t.equal(`${clash.status} ${clash.body.code}`, '409 9002', 'PATCH to the ISBN-10 form of a taken ISBN');
  const own = await app.json<Envelope<BookDto>>({
    method: 'PATCH',
    url: `/v1/books/${first.id}`,
    payload: { isbn: `${isbn10.slice(0, 9)}${isbn10.slice(9).toLowerCase()} ` },
  });
  t.equal(own.status, 200, 'PATCH to the other form of its own ISBN is no clash');
  t.equal(own.body.data.isbn, isbn13);
  const list = await app.json<Envelope<BookPage>>('/v1/books?limit=100');
  t.ok(
    list.body.data.items.every((book) => /^97[89]\d{10}$/.test(book.isbn)),
    'every listed ISBN is an ISBN-13',
  );
});

t.test('list: pagination, bounds, author filter and sort', async (t) => {
  const app = await booksApp(t);
  const author = `Paginated ${Date.now()}`;
  for (const [i, title] of ['Charlie', 'Alpha', 'Bravo'].entries()) {
    await createBook(app, { author, title, publishedYear: 2000 + i });
  }

  const page1 = await app.json<Envelope<BookPage>>(
    `/v1/books?author=${encodeURIComponent(author)}&limit=2&sort=title`,
  );
  t.equal(page1.status, 200);
  t.equal(page1.body.data.total, 3);
  t.same(
    page1.body.data.items.map((b) => b.title),
    ['Alpha', 'Bravo'],
  );
  t.match(page1.body.data, { limit: 2, offset: 0 }, 'the offset defaults to 0');

  const page2 = await app.json<Envelope<BookPage>>(
    `/v1/books?author=${encodeURIComponent(author)}&limit=2&offset=2&sort=title`,
  );
  t.same(
    page2.body.data.items.map((b) => b.title),
    ['Charlie'],
  );

  const byYearDesc = await app.json<Envelope<BookPage>>(
    `/v1/books?author=${encodeURIComponent(author)}&sort=-publishedYear`,
  );
  t.same(
    byYearDesc.body.data.items.map((b) => b.publishedYear),
    [2002, 2001, 2000],
  );

  const caseInsensitive = await app.json<Envelope<BookPage>>(
    `/v1/books?author=${encodeURIComponent(author.toUpperCase())}`,
  );
  t.equal(caseInsensitive.body.data.total, 3, 'author filter is case-insensitive');

  const wildcard = await app.json<Envelope<BookPage>>('/v1/books?author=%25');
  t.equal(wildcard.body.data.total, 0, 'LIKE wildcards in the filter are literal');

  const defaults = await app.json<Envelope<BookPage>>('/v1/books');
  t.equal(defaults.body.data.limit, DEFAULT_PAGE_SIZE);

  for (const query of [
    `limit=${MAX_PAGE_SIZE + 1}`,
    'limit=0',
    'offset=-1',
    'offset=10001',
    'sort=isbn',
    'limit=abc',
  ]) {
    const response = await app.json(`/v1/books?${query}`);
    t.equal(response.status, 400, query);
    t.equal(response.body.code, 8001, query);
  }
});

t.test('malformed ids are 400, unknown ids are 404', async (t) => {
  const app = await booksApp(t);
  const malformed = await app.json('/v1/books/not-a-uuid');
  t.equal(malformed.status, 400);
  t.same(malformed.body.errors, [{ field: 'params.id', message: 'id must be a valid GUID' }]);
  const unknown = await app.json('/v1/books/00000000-0000-4000-8000-000000000000');
  t.equal(unknown.status, 404);
  t.equal(unknown.body.code, 9001);
});

/** A server listening on 127.0.0.1, for races that must go through real sockets. */
async function listeningApp(t: Test): Promise<{ app: TestServer; origin: string }> {
  const app = await buildServer(t, {
    DATABASE_URL: db.url,
    DATABASE_POOL_MAX: '10',
    PORT: '0',
    HOST: '127.0.0.1',
  });
  await app.server.start();
  return { app, origin: app.server.info.uri };
}

/** Two sessions of the test's own: `locker` holds locks; `watcher` reads pg_stat_activity outside it. */
async function lockSessions(t: Test): Promise<{ locker: pg.Client; watcher: pg.Client }> {
  const [locker, watcher] = [new pg.Client(db.url), new pg.Client(db.url)];
  for (const client of [locker, watcher]) {
    await client.connect();
    t.teardown(() => client.end());
  }
  return { locker, watcher };
}

/** Waits (5 s at most) until another session is blocked on a lock running a statement like `statement`. */
async function untilBlocked(watcher: pg.Client, statement: string, failure: string): Promise<void> {
  for (let waited = 0; ; waited += 20) {
    // Not the locker: inside a transaction pg_stat_activity is a snapshot that never changes.
    const { rows } = await watcher.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query ilike $1 and pid <> pg_backend_pid()`,
      [statement],
    );
    if (rows[0]?.n === 1) return;
    if (waited > 5000) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

t.test('20 simultaneous DELETEs of one book: exactly one answers 200, the others 404', async (t) => {
  const { app, origin } = await listeningApp(t);
  for (let round = 0; round < 3; round++) {
    const book = await createBook(app);
    const answers = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${origin}/v1/books/${book.id}`, { method: 'DELETE' });
        return { status: response.status, body: (await response.json()) as Envelope };
      }),
    );
    t.equal(answers.filter((a) => a.status === 200).length, 1, `round ${round}: one DELETE deleted it`);
    t.same(
      answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.body.code}`),
      Array.from({ length: 19 }, () => '404 9001'),
      'the others find no live book',
    );
  }
});

t.test('a PATCH whose row is deleted while it waits never updates the deleted book', async (t) => {
  const { app, origin } = await listeningApp(t);
  const book = await createBook(app);
  // A separate session locks the row, so the PATCH's UPDATE waits; the session then deletes the book and
  // commits: the interleaving "PATCH saw a live book, DELETE committed, PATCH writes", made deterministic.
  const { locker, watcher } = await lockSessions(t);
  await locker.query('begin');
  await locker.query('select id from books where id = $1 for update', [book.id]);
  const patch = fetch(`${origin}/v1/books/${book.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Written after the delete?' }),
  });
  await untilBlocked(watcher, 'update%books%', 'the PATCH never reached its UPDATE');
  await locker.query('update books set deleted_at = now() where id = $1', [book.id]);
  await locker.query('commit');
  const response = await patch;
  const body = (await response.json()) as Envelope;
  t.equal(`${response.status} ${body.code}`, '404 9001', 'the book is gone: 404, not 200');
  const { rows } = await locker.query<{ title: string }>('select title from books where id = $1', [book.id]);
  t.equal(rows[0]?.title, book.title, 'the deleted row is untouched');
});

t.test('a cover upload whose book is deleted while it waits never stores a cover for it', async (t) => {
  const { app, origin } = await listeningApp(t);
  const book = await createBook(app);
  // As for PATCH: the upload saw a live book, then the DELETE commits before the upload writes.
  const { locker, watcher } = await lockSessions(t);
  await locker.query('begin');
  await locker.query('select id from books where id = $1 for update', [book.id]);
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(32, 7)]);
  const upload = fetch(`${origin}/v1/books/${book.id}/cover`, {
    method: 'PUT',
    headers: { 'content-type': 'image/png' },
    body: png,
  });
  await untilBlocked(watcher, 'insert%book_covers%', 'the upload never reached its INSERT');
  await locker.query('update books set deleted_at = now() where id = $1', [book.id]);
  await locker.query('commit');
  const response = await upload;
  const body = (await response.json()) as Envelope;
  t.equal(`${response.status} ${body.code}`, '404 9001', 'the book is gone: 404, not 200');
  const { rows } = await locker.query('select 1 from book_covers where book_id = $1', [book.id]);
  t.equal(rows.length, 0, 'no cover was stored for the deleted book');
});

t.test('a cover delete whose book is deleted while it waits leaves the deleted book its cover', async (t) => {
  const { app, origin } = await listeningApp(t);
  const book = await createBook(app);
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(32, 7)]);
  const put = await fetch(`${origin}/v1/books/${book.id}/cover`, {
    method: 'PUT',
    headers: { 'content-type': 'image/png' },
    body: png,
  });
  t.equal(put.status, 200);
  // The delete saw a live book; the book's DELETE commits before the cover's delete runs.
  const { locker, watcher } = await lockSessions(t);
  await locker.query('begin');
  await locker.query('lock table book_covers in access exclusive mode');
  const removal = fetch(`${origin}/v1/books/${book.id}/cover`, { method: 'DELETE' });
  await untilBlocked(watcher, '%delete from%book_covers%', 'the cover delete never reached its DELETE');
  await locker.query('update books set deleted_at = now() where id = $1', [book.id]);
  await locker.query('commit');
  const response = await removal;
  t.equal(response.status, 404, 'the book is gone: 404, not 200');
  const { rows } = await locker.query('select 1 from book_covers where book_id = $1', [book.id]);
  t.equal(rows.length, 1, 'the deleted book keeps its cover until the purge');
});
