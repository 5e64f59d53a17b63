// The embedded PostgreSQL every test, `npm run dev` and the bench start: a port that another process
// takes between choosing it and binding it is chosen again; a port the caller asked for is not.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { startEmbeddedPostgres } from '../../tools/embedded-postgres.ts';
import { freePort } from '../../tools/free-port.ts';

const squatter = createServer();
squatter.listen(0, '127.0.0.1');
await once(squatter, 'listening');
const address = squatter.address();
const takenPort = typeof address === 'object' && address !== null ? address.port : 0;
t.teardown(() => squatter.close());

async function tempDataDir(t: Test): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'embedded-postgres-test-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return path.join(root, 'pgdata');
}

t.test('a chosen port that is already taken is replaced by another', async (t) => {
  const offered: number[] = [];
  const db = await startEmbeddedPostgres({
    dataDir: await tempDataDir(t),
    persistent: false,
    fast: true,
    // The first pick loses the race (someone listens there already); the second is free.
    choosePort: async () => {
      const port = offered.length === 0 ? takenPort : await freePort();
      offered.push(port);
      return port;
    },
  });
  t.teardown(() => db.stop());
  t.equal(offered.length, 2, 'chose twice');
  t.equal(db.port, offered[1], 'runs on the second port');
  t.not(db.port, takenPort);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ answer: number }>('select 6 * 7 as answer');
  await client.end();
  t.equal(rows[0]?.answer, 42, 'the database answers on the new port');
});

t.test('a port the caller asked for is never swapped: a clear error names it', async (t) => {
  await t.rejects(
    startEmbeddedPostgres({ dataDir: await tempDataDir(t), persistent: false, fast: true, port: takenPort }),
    { message: new RegExp(`failed to start on port ${String(takenPort)}[\\s\\S]*Address already in use`) },
  );
});

t.test('a second start on a running cluster shares it, and its stop leaves it to its owner', async (t) => {
  const dataDir = await tempDataDir(t);
  // As `npm run db:migrate` does while `npm run dev` serves the same data directory.
  const owner = await startEmbeddedPostgres({ dataDir, persistent: true, fast: true });
  t.teardown(() => owner.stop());
  const guest = await startEmbeddedPostgres({ dataDir, persistent: true, fast: true });
  t.equal(guest.port, owner.port, 'the same server');
  await guest.stop();
  const client = new pg.Client({ connectionString: owner.url });
  await client.connect();
  const { rows } = await client.query<{ answer: number }>('select 6 * 7 as answer');
  await client.end();
  t.equal(rows[0]?.answer, 42, 'still serving after the guest stopped');
});
