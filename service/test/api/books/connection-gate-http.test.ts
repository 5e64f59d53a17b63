// The connection gate over real sockets with ONE pooled connection (as in Lambda): a request holds its place
// as long as its database work, whatever ends its response; table locks force each interleaving.
import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { promisify } from 'node:util';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { ErrorCodes } from '../../../src/errors/error-codes.ts';
import { loopbackService, waitFor200 } from '../../../bench/loopback-service.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { spawnCollecting } from '../../helpers/spawned.ts';
import type { Teardown } from '../../helpers/teardown.ts';

const SERVICE_DIR = path.resolve(import.meta.dirname, '../../..');
// `SERVICE_ENTRY=dist/main.mjs` runs the same checks against the built bundle.
const ENTRY = process.env.SERVICE_ENTRY ?? 'src/index.ts';
const db = await startTestDatabase(t);

interface Answer {
  status: number;
  code?: number;
}

async function startService(t: Teardown, env: Record<string, string>) {
  const { origin, env: serviceEnv } = await loopbackService(db.url, {
    DATABASE_POOL_MAX: '1',
    DATABASE_CONNECT_TIMEOUT_MS: '100',
    ...env,
  });
  const service = spawnCollecting(t, process.execPath, [ENTRY], { cwd: SERVICE_DIR, env: serviceEnv });
  await waitFor200(`${origin}/health/ready`, () => service.output());
  const call = async (method: string, route: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${origin}${route}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const parsed = (await response.json()) as { code?: number; data?: { id?: string } };
    return { status: response.status, ...(parsed.code === undefined ? {} : { code: parsed.code }) };
  };
  const createBook = async (): Promise<string> => {
    const response = await fetch(`${origin}/v1/books`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Gate', author: 'A', isbn: uniqueIsbn() }),
    });
    return ((await response.json()) as { data: { id: string } }).data.id;
  };
  // Start-up may take more than one readiness probe on a busy machine: only later lines count.
  const readyAt = service.output().length;
  const outages = (): string[] =>
    service
      .output()
      .slice(readyAt)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { code?: number; msg?: string })
      .filter((line) => line.code === ErrorCodes.DATABASE_UNAVAILABLE.code)
      .map((line) => JSON.stringify(line));
  return { origin, call, createBook, outages };
}

/** A transaction holding ACCESS EXCLUSIVE on `tables` until `release()`: every query on them waits. */
async function lockTables(t: Teardown, ...tables: string[]) {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('begin');
  await client.query(`lock table ${tables.join(', ')} in access exclusive mode`);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await client.query('commit');
    await client.end();
  };
  t.teardown(release);
  return release;
}

/** How many of the service's statements wait for a lock now. */
async function lockWaiters(): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
    );
    return rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

/** Resolves once `count` of the service's statements wait for a lock. */
async function waitingOnLocks(count: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if ((await lockWaiters()) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never saw ${count} statement(s) waiting for a lock`);
}

t.test('a request cut off by the route timeout keeps its place until its query ends', async (t) => {
  // The queue timeout is capped at half of this: 300 ms.
  const app = await startService(t, { REQUEST_TIMEOUT_MS: '600' });
  const id = await app.createBook();
  const release = await lockTables(t, 'books');
  const timedOut = app.call('GET', `/v1/books/${id}`);
  await waitingOnLocks(1);
  t.match(await timedOut, { status: 503, code: ErrorCodes.TIMEOUT.code }, 'the route timeout answers');
  // Its query still waits for the lock on the only connection: the next request must queue, not find
  // an empty gate and a busy pool.
  t.match(
    await app.call('GET', `/v1/books/${id}`),
    { status: 503, code: ErrorCodes.OVERLOADED.code },
    'the next request is shed as overload, not reported as a database outage',
  );
  await release();
  t.match(await app.call('GET', `/v1/books/${id}`), { status: 200 }, 'the place is free again');
  t.same(app.outages(), [], 'nothing is logged as a database outage');
});

t.test('a client that leaves while queued does not run its queries outside the gate', async (t) => {
  const app = await startService(t, {});
  const id = await app.createBook();
  const releaseBooks = await lockTables(t, 'books');
  const releaseCovers = await lockTables(t, 'book_covers');
  // A holds the only connection, waiting for the books lock.
  const first = app.call('GET', `/v1/books/${id}`);
  await waitingOnLocks(1);
  // B queues for the gate, then its client goes away. Its query would wait for the covers lock.
  const leaving = httpRequest(`${app.origin}/v1/books/${id}/cover`);
  leaving.on('error', () => undefined);
  leaving.end();
  await new Promise((resolve) => setTimeout(resolve, 200));
  leaving.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  // C queues behind B.
  const third = app.call('GET', `/v1/books/${id}`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await releaseBooks();
  t.match(await first, { status: 200 });
  // C must not be handed a slot while B's abandoned query holds the connection.
  const covers = setTimeout(() => {
    void releaseCovers();
  }, 1000);
  t.teardown(() => {
    clearTimeout(covers);
  });
  t.match(await third, { status: 200 }, 'the request behind the one that left is served');
  t.equal(await lockWaiters(), 0, "C was not served beside B's abandoned query (the pool's spare hid it)");
  t.same(app.outages(), [], 'nothing is logged as a database outage');
});

t.test('listing a page uses one connection at a time (page, then count)', async (t) => {
  const app = await startService(t, {});
  await app.createBook();
  const release = await lockTables(t, 'books');
  const listing = app.call('GET', '/v1/books');
  await waitingOnLocks(1);
  // Held past the pool's 100 ms timeout: a second query of the same request waiting for the pool fails.
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.equal(await lockWaiters(), 1, 'one statement at a time: the total waits for the page');
  await release();
  t.match(await listing, { status: 200 }, 'the list answers once the lock is gone');
  t.same(app.outages(), [], 'nothing is logged as a database outage');
});

t.test(
  '1,000 requests of every kind, a random third cut off by their client: the gate ends empty',
  async (t) => {
    // Opening a connection may take over 100 ms while 50 requests run; a pool wait still fails before the
    // queue timeout, so a place handed out twice would show as 5031.
    const app = await startService(t, {
      DATABASE_POOL_MAX: '2',
      DATABASE_QUEUE_TIMEOUT_MS: '1500',
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
    });
    const ids = [await app.createBook(), await app.createBook()];
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64 * 1024, 1)]);
    const put = await fetch(`${app.origin}/v1/books/${ids[0]}/cover`, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    const { etag } = ((await put.json()) as { data: { etag: string } }).data;
    const kinds: { method: string; path: string; headers?: Record<string, string>; body?: string }[] = [
      { method: 'GET', path: `/v1/books/${ids[0]}` },
      { method: 'GET', path: '/v1/books?limit=5' },
      { method: 'GET', path: `/v1/books/${ids[0]}/cover` },
      { method: 'HEAD', path: `/v1/books/${ids[0]}/cover` },
      { method: 'GET', path: `/v1/books/${ids[0]}/cover`, headers: { 'if-none-match': `"${etag}"` } },
      { method: 'GET', path: `/v1/books/${ids[1]}/cover` },
      { method: 'GET', path: '/v1/books/00000000-0000-4000-8000-000000000000' },
      {
        method: 'PATCH',
        path: `/v1/books/${ids[1]}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Patched' }),
      },
      {
        method: 'PATCH',
        path: `/v1/books/${ids[1]}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ isbn: 'not an isbn' }),
      },
    ];
    let seed = 19;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const statuses: Record<string, number> = {};
    const one = (index: number) =>
      new Promise<void>((resolve) => {
        const kind = kinds[index % kinds.length];
        if (kind === undefined) throw new Error('no kind');
        const abortAfterMs = random() < 1 / 3 ? Math.floor(random() * 15) : undefined;
        const request = httpRequest(
          `${app.origin}${kind.path}`,
          { method: kind.method, headers: kind.headers, agent: false },
          (response) => {
            const key = String(response.statusCode);
            statuses[key] = (statuses[key] ?? 0) + 1;
            response.resume();
            response.on('end', resolve);
            response.on('error', () => {
              resolve();
            });
          },
        );
        request.on('error', () => {
          statuses.aborted = (statuses.aborted ?? 0) + 1;
          resolve();
        });
        if (abortAfterMs !== undefined) setTimeout(() => request.destroy(), abortAfterMs);
        request.end(kind.body);
      });
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => one(batch + i)));
    }
    t.comment(`answers: ${JSON.stringify(statuses)}`);
    t.notOk(statuses['500'], 'no 500');
    // Let requests whose client left finish their work.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Both places free: two requests hold both connections, a third is shed (not over-admitted).
    const release = await lockTables(t, 'books');
    const held = [app.call('GET', `/v1/books/${ids[0]}`), app.call('GET', `/v1/books/${ids[1]}`)];
    await waitingOnLocks(2);
    const started = performance.now();
    t.match(
      await app.call('GET', `/v1/books/${ids[0]}`),
      { status: 503, code: ErrorCodes.OVERLOADED.code },
      'a third request queues and is shed: no place was handed out twice',
    );
    t.ok(performance.now() - started >= 1000, 'it waited its queue time');
    await release();
    t.same(
      (await Promise.all(held)).map((answer) => answer.status),
      [200, 200],
      'both places were free: none was lost',
    );
    t.same(app.outages(), [], 'nothing is logged as a database outage');
  },
);

t.test('a request holds a place only while its database work runs, not while its body arrives', async (t) => {
  // With API keys on, the key is checked before the body is read: a client that trickles a cover upload
  // after its key was checked must not keep the only connection's place for the whole upload.
  const created = await promisify(execFile)(
    process.execPath,
    ['scripts/keys.ts', 'create', '--name', 'gate', '--quota', '1000', '--rate', '1000'],
    { cwd: SERVICE_DIR, env: { PATH: process.env.PATH, DATABASE_URL: db.url } },
  );
  const key = created.stdout.trim().split('\n').at(-1) ?? '';
  const app = await startService(t, { API_KEYS_REQUIRED: '1', DATABASE_QUEUE_TIMEOUT_MS: '500' });
  const book = await fetch(`${app.origin}/v1/books`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ title: 'Slow', author: 'A', isbn: uniqueIsbn() }),
  });
  t.equal(book.status, 201);
  const { id } = ((await book.json()) as { data: { id: string } }).data;

  const slow = httpRequest(`${app.origin}/v1/books/${id}/cover`, {
    method: 'PUT',
    headers: { 'content-type': 'image/png', 'content-length': '1024', 'x-api-key': key },
  });
  const slowAnswer = new Promise<number>((resolve) => {
    slow.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    slow.on('error', () => {
      resolve(0);
    });
  });
  slow.write(Buffer.from('89504e470d0a1a0a', 'hex'));
  // The key is checked by now; the rest of the body is still to come.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const answer = await fetch(`${app.origin}/v1/books/${id}`, { headers: { 'x-api-key': key } });
  t.equal(answer.status, 200, 'another request is served while the upload is in progress');
  slow.end(Buffer.alloc(1024 - 8, 1));
  t.equal(await slowAnswer, 200, 'the upload completes');
});

t.test('readiness answers while every place is taken: it never waits behind the gated work', async (t) => {
  // Time to open the spare connection on a busy machine; waiting in the pool instead ends at the
  // readiness bound (1 s) first.
  const app = await startService(t, { DATABASE_CONNECT_TIMEOUT_MS: '2000' });
  const id = await app.createBook();
  const release = await lockTables(t, 'books');
  const held = app.call('GET', `/v1/books/${id}`);
  await waitingOnLocks(1);
  t.match(await app.call('GET', '/health/ready'), { status: 200 }, 'ready: the database answers');
  await release();
  t.match(await held, { status: 200 });
  t.same(app.outages(), [], 'nothing is logged as a database outage');
});
