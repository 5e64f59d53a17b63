// Binary and text bodies come back intact: cover images round-trip byte for byte with their content
// type, and non-ASCII text survives the JSON envelope. Every test builds its own server.
import { createHash, randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { MAX_COVER_BYTES } from '../../../src/modules/books/cover-image.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { buildServer, type Envelope, type TestServer } from '../../helpers/server.ts';

const db = await startTestDatabase(t);

function coversApp(t: Test): Promise<TestServer> {
  // A pool of 10: enough connections for concurrent requests to interleave their queries.
  return buildServer(t, { DATABASE_URL: db.url, DATABASE_POOL_MAX: '10' });
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const png = (size: number) => Buffer.concat([PNG_SIGNATURE, randomBytes(size)]);

async function newBook(app: TestServer, title = 'Covered') {
  const { body } = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: '/v1/books',
    payload: { title, author: 'A', isbn: uniqueIsbn() },
  });
  return body.data.id;
}

/** Gives the book a small PNG cover. */
function putCover(app: TestServer, id: string) {
  return app.inject({
    method: 'PUT',
    url: `/v1/books/${id}/cover`,
    payload: png(10),
    headers: { 'content-type': 'image/png' },
  });
}

t.test('a cover round-trips byte for byte, with its content type and ETag', async (t) => {
  const app = await coversApp(t);
  const id = await newBook(app);
  const image = png(200_000);
  const put = await app.json<Envelope<{ contentType: string; size: number; etag: string }>>({
    method: 'PUT',
    url: `/v1/books/${id}/cover`,
    payload: image,
    headers: { 'content-type': 'image/png' },
  });
  t.equal(put.status, 200);
  const sha = createHash('sha256').update(image).digest('hex');
  t.match(put.body.data, { contentType: 'image/png', size: image.length, etag: sha });

  const get = await app.inject({ url: `/v1/books/${id}/cover` });
  t.equal(get.statusCode, 200);
  t.equal(get.headers['content-type'], 'image/png');
  t.ok(get.rawPayload.equals(image), 'identical bytes');
  t.equal(get.headers.etag, `"${sha}"`);

  const cached = await app.inject({ url: `/v1/books/${id}/cover`, headers: { 'if-none-match': `"${sha}"` } });
  t.equal(cached.statusCode, 304, 'conditional GET');

  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(1000)]);
  const replaced = await app.inject({
    method: 'PUT',
    url: `/v1/books/${id}/cover`,
    payload: jpeg,
    headers: { 'content-type': 'image/jpeg' },
  });
  t.equal(replaced.statusCode, 200);
  const again = await app.inject({ url: `/v1/books/${id}/cover` });
  t.equal(again.headers['content-type'], 'image/jpeg');
  t.ok(again.rawPayload.equals(jpeg), 'the replacement is served');

  const removed = await app.json({ method: 'DELETE', url: `/v1/books/${id}/cover` });
  t.equal(removed.status, 200);
  const gone = await app.json(`/v1/books/${id}/cover`);
  t.equal(gone.status, 404);
  t.equal(gone.body.code, 4041);
});

t.test('bad uploads are 4xx envelopes', async (t) => {
  const app = await coversApp(t);
  const id = await newBook(app);
  const cases: [string, Buffer, number, number][] = [
    ['text/plain', Buffer.from('not an image'), 415, 4150],
    ['image/png', Buffer.from('GIF89a pretending'), 415, 4150],
    ['image/svg+xml', Buffer.from('<svg/>'), 415, 4150],
    ['image/png', png(MAX_COVER_BYTES), 413, 4130],
  ];
  for (const [type, payload, status, code] of cases) {
    const response = await app.json({
      method: 'PUT',
      url: `/v1/books/${id}/cover`,
      payload,
      headers: { 'content-type': type },
    });
    t.equal(response.status, status, `${type} (${payload.length} bytes)`);
    t.equal(response.body.code, code);
  }
  const noBook = await app.json({
    method: 'PUT',
    url: '/v1/books/00000000-0000-4000-8000-000000000000/cover',
    payload: png(10),
    headers: { 'content-type': 'image/png' },
  });
  t.equal(noBook.status, 404);
  t.equal(noBook.body.code, 9001);
});

t.test('non-ASCII text survives the JSON envelope', async (t) => {
  const app = await coversApp(t);
  const title = 'Ça ira — 東京物語 🚀 "quoted" \\ back\\slash';
  const id = await newBook(app, title);
  const response = await app.inject(`/v1/books/${id}`);
  t.equal(response.headers['content-type'], 'application/json; charset=utf-8');
  t.equal((JSON.parse(response.payload) as Envelope<{ title: string }>).data.title, title);
});

t.test('purging a deleted book removes its cover too', async (t) => {
  const app = await coversApp(t);
  const id = await newBook(app);
  await putCover(app, id);
  await app.inject({ method: 'DELETE', url: `/v1/books/${id}` });
  const orm = await app.server.plugins.database.getOrm();
  await orm.em.getConnection().execute(`delete from books where id = ?`, [id]);
  const rows = await orm.em
    .getConnection()
    .execute<{ n: string }[]>(`select count(*) as n from book_covers where book_id = ?`, [id]);
  t.equal(Number(rows[0]?.n), 0);
});

t.test(
  'concurrent first uploads of a cover all succeed and leave one row (one upsert, no race)',
  async (t) => {
    const app = await coversApp(t);
    const id = await newBook(app);
    const images = Array.from({ length: 50 }, () => png(100));
    const responses = await Promise.all(
      images.map((image) =>
        app.json({
          method: 'PUT',
          url: `/v1/books/${id}/cover`,
          payload: image,
          headers: { 'content-type': 'image/png' },
        }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    t.same(
      statuses.filter((status) => status !== 200),
      [],
      'every PUT answers 200',
    );
    const orm = await app.server.plugins.database.getOrm();
    const rows = await orm.em
      .getConnection()
      .execute<{ sha256: string }[]>(`select sha256 from book_covers where book_id = ?`, [id]);
    t.equal(rows.length, 1, 'one cover row');
    const stored = await app.inject({ url: `/v1/books/${id}/cover` });
    t.ok(
      images.some((image) => image.equals(stored.rawPayload)),
      'the stored cover is one of the uploads, intact',
    );
    t.equal(stored.headers.etag, `"${rows[0]?.sha256}"`);
  },
);

t.test('a replaced cover gets a new updatedAt', async (t) => {
  const app = await coversApp(t);
  const id = await newBook(app);
  const put = () =>
    app.json<Envelope<{ updatedAt: string }>>({
      method: 'PUT',
      url: `/v1/books/${id}/cover`,
      payload: png(10),
      headers: { 'content-type': 'image/png' },
    });
  const first = await put();
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = await put();
  t.ok(
    Date.parse(second.body.data.updatedAt) > Date.parse(first.body.data.updatedAt),
    `${second.body.data.updatedAt} after ${first.body.data.updatedAt}`,
  );
});

t.test('concurrent DELETEs of a cover: exactly one deletes it, the others answer 404', async (t) => {
  const app = await coversApp(t);
  const id = await newBook(app);
  await putCover(app, id);
  const responses = await Promise.all(
    Array.from({ length: 20 }, () => app.json({ method: 'DELETE', url: `/v1/books/${id}/cover` })),
  );
  const deleted = responses.filter((response) => response.status === 200);
  const missing = responses.filter((response) => response.status === 404 && response.body.code === 4041);
  t.equal(deleted.length, 1, 'one DELETE reports the deletion');
  t.equal(missing.length, responses.length - 1, 'every other one is 404 NOT_FOUND');
  t.match(deleted[0]?.body, { success: true, message: 'Cover deleted' });
});
