// Swagger UI's "Try it out" sends the document's example: after the README's quick-start request it must
// still create a book (201), not collide with the README's ISBN (409).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { BookDto } from '../../../src/modules/books/book.dto.ts';
import { isValidIsbn, normalizeIsbn, toIsbn13 } from '../../../src/modules/books/isbn.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { buildServer, type Envelope } from '../../helpers/server.ts';

const readme = await readFile(path.resolve(import.meta.dirname, '../../../../README.md'), 'utf8');
const db = await startTestDatabase(t);

t.test("the POST example's ISBN is not the README's and is created after it", async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url });
  const spec = JSON.parse((await app.inject('/openapi.json')).payload) as {
    paths: Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { example?: unknown }> } }>
    >;
  };
  const example = spec.paths['/v1/books']?.post?.requestBody?.content['application/json']?.example as {
    isbn: string;
  };
  t.match(example.isbn, /^97[89]\d{10}$/, 'written as it is answered: ISBN-13, digits only');
  t.ok(isValidIsbn(example.isbn), 'a valid check digit');

  const readmeIsbns = [...readme.matchAll(/"isbn"\s*:\s*"([^"]+)"/g)].map((match) =>
    toIsbn13(normalizeIsbn(match[1] ?? '')),
  );
  t.ok(readmeIsbns.length > 0, 'the README creates a book');
  t.notOk(
    readmeIsbns.includes(example.isbn),
    `${example.isbn} is not among the README's ${readmeIsbns.join(', ')}`,
  );

  // The README's quick-start request first, then Swagger UI's example, on a fresh database.
  const quickStart = /-d '(\{"title".*?\})'/.exec(readme)?.[1] ?? '{}';
  const first = await app.json<Envelope<BookDto>>({
    method: 'POST',
    url: '/v1/books',
    headers: { 'content-type': 'application/json' },
    payload: quickStart,
  });
  t.equal(first.status, 201, `the README's book: ${first.body.message}`);
  const second = await app.json<Envelope<BookDto>>({ method: 'POST', url: '/v1/books', payload: example });
  t.equal(second.status, 201, `the example's book: ${second.body.message}`);
});
