// The benchmark's floor: a bare node:http server with the service's /health and /v1/books/{id} (one raw
// `pg` query, pool created lazily like the ORM). Plain JavaScript, no framework: what Node itself costs.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const BOOK_PATH = /^\/v1\/books\/([0-9a-f-]{36})$/;
const SELECT_BOOK =
  'select id, title, author, isbn, published_year, created_at, updated_at from books where id = $1 and deleted_at is null';

/** @type {Promise<import('pg').Pool> | undefined} */
let pool;
function getPool() {
  pool ??= import('pg').then(
    ({ default: pg }) => new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 5 }),
  );
  return pool;
}

/** @param {import('node:http').ServerResponse} res @param {number} status @param {unknown} body */
function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}

async function book(id) {
  const { rows } = await (await getPool()).query(SELECT_BOOK, [id]);
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    id: row.id,
    title: row.title,
    author: row.author,
    isbn: row.isbn,
    publishedYear: row.published_year,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    send(res, 200, { success: true, data: { status: 'ok', uptimeSeconds: Math.round(process.uptime()) } });
    return;
  }
  const match = req.method === 'GET' ? BOOK_PATH.exec(req.url ?? '') : null;
  if (match) {
    book(match[1]).then(
      (data) => send(res, data ? 200 : 404, data ? { success: true, data } : { success: false }),
      () => send(res, 503, { success: false }),
    );
    return;
  }
  send(res, 404, { success: false });
});
server.keepAliveTimeout = 65_000;
server.listen(port, host);

const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool?.then((p) => p.end());
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
