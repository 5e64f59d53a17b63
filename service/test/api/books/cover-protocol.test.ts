// Protocol answers on the covers' binary routes: If-None-Match: * revalidates, and a cover declared over
// the limit is refused before 100 Continue.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { loadConfig } from '../../../src/config.ts';
import { createServer } from '../../../src/server.ts';
import { checkNotModified } from '../../helpers/conditional-get.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { rawExchange } from '../../helpers/raw-http.ts';
import { buildServer, type Envelope } from '../../helpers/server.ts';

const db = await startTestDatabase(t);
const app = await buildServer(t, { DATABASE_URL: db.url });

t.test('If-None-Match: * on a cover that exists is a 304, as for its own ETag', async (t) => {
  const { body: created } = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: '/v1/books',
    payload: { title: 'Conditional', author: 'A', isbn: uniqueIsbn() },
  });
  const url = `/v1/books/${created.data.id}/cover`;
  const none = await app.inject({ url, headers: { 'if-none-match': '*' } });
  t.equal(none.statusCode, 404, 'no cover: no current representation, so no 304');
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(16)]);
  await app.inject({ method: 'PUT', url, payload: png, headers: { 'content-type': 'image/png' } });
  const current = await app.inject(url);
  t.equal(current.statusCode, 200);
  await checkNotModified(t, app, url, current.headers.etag as string, 'the cover');
});

t.test('a cover declared over the limit, sent only after 100 Continue: 413 at once', async (t) => {
  const server = await createServer(
    loadConfig({ APP_ENV: 'test', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', DATABASE_URL: db.url }),
  );
  await server.start();
  t.teardown(() => server.stop());
  const started = Date.now();
  const answer = await rawExchange(
    Number(server.info.port),
    `PUT /v1/books/00000000-0000-4000-8000-000000000000/cover HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: ${String(1024 * 1024 + 1)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  t.notMatch(answer, /^HTTP\/1\.1 100/, 'the client is not told to send it');
  t.match(answer, /^HTTP\/1\.1 413 /);
  t.match(answer, /"code":4130/);
  t.ok(Date.now() - started < 4000, 'answered without waiting for the body');
});
