// tools/with-orm.ts, the one way to use the database outside the server: migrates, hands over the ORM,
// closes it whatever happens, and prints nothing (the URL holds the password).
import pg from 'pg';
import t from 'tap';
import { migrations } from '../../src/db/migrations/index.ts';
import { migrateDatabase, withOrm, type OrmJob } from '../../tools/with-orm.ts';
import { startTestDatabase } from '../helpers/database.ts';

const db = await startTestDatabase(t, { migrate: false });
const env = { DATABASE_URL: db.url };

/** Connections to the database at `url` other than the observer's own. */
async function connectionsFromOthers(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      'select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    return Number(rows[0]?.count);
  } finally {
    await client.end();
  }
}

/**
 * Waits until the server has let go of every other connection. A closed pool's backends exit a moment
 * after their client hangs up; an ORM left open keeps its idle connection for the pool's 30 s.
 */
async function settledConnections(url = db.url): Promise<number> {
  let count = await connectionsFromOthers(url);
  for (let attempt = 0; count > 0 && attempt < 50; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    count = await connectionsFromOthers(url);
  }
  return count;
}

/** What the call writes to stdout and stderr, besides its result. */
async function printedBy<T>(
  call: () => Promise<T>,
): Promise<{ printed: string; result: PromiseSettledResult<T> }> {
  const printed: string[] = [];
  const streams = [process.stdout, process.stderr];
  // Kept as descriptors, so the streams end up exactly as they were (own property or not).
  const originals = streams.map((stream) => Object.getOwnPropertyDescriptor(stream, 'write'));
  for (const stream of streams) {
    stream.write = (chunk: string | Uint8Array): boolean => {
      printed.push(String(chunk));
      return true;
    };
  }
  try {
    const [result] = await Promise.allSettled([call()]);
    return { printed: printed.join(''), result };
  } finally {
    streams.forEach((stream, i) => {
      const original = originals[i];
      if (original === undefined) Reflect.deleteProperty(stream, 'write');
      else Object.defineProperty(stream, 'write', original);
    });
  }
}

t.test('migrateDatabase applies every committed migration once, printing nothing', async (t) => {
  const first = await printedBy(() => migrateDatabase(env));
  t.same(first.result, { status: 'fulfilled', value: migrations.map((m) => m.name) });
  t.equal(first.printed, '', 'nothing printed (the URL holds the password)');
  t.same(await migrateDatabase(env), [], 'nothing is pending the second time');
  t.equal(await settledConnections(), 0, 'and no connection stays open');
});

t.test('withOrm hands the work a working ORM and the configuration, and closes it after', async (t) => {
  let job: OrmJob | undefined;
  const answer = await withOrm(env, {}, async (given) => {
    job = given;
    const rows = await given.orm.em.getConnection().execute<{ answer: number }[]>('select 6 * 7 as answer');
    return rows[0]?.answer;
  });
  t.equal(answer, 42, "the work's result is the call's");
  t.equal(job?.config.database.url, db.url, 'the configuration read from the environment');
  t.same(job?.applied, [], 'nothing migrated unless asked');
  t.equal(await job?.orm.isConnected(), false, 'the ORM is closed');
});

t.test('withOrm closes the ORM when the work fails, and rejects with its error', async (t) => {
  let orm: OrmJob['orm'] | undefined;
  const failure = new Error('the work failed');
  await t.rejects(
    withOrm(env, {}, async (job) => {
      orm = job.orm;
      await job.orm.em.getConnection().execute('select 1');
      throw failure;
    }),
    failure,
  );
  t.equal(await orm?.isConnected(), false, 'the ORM is closed');
  t.equal(await settledConnections(), 0, 'no connection stays open');
});

t.test('withOrm closes the ORM when a migration fails', async (t) => {
  // Another database in the same cluster, with a table of the first migration's name already there:
  // its `create table` fails.
  await db.postgres.createDatabase('half_made');
  const url = Object.assign(new URL(db.url), { pathname: '/half_made' }).href;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('create table books (id int)');
  await client.end();
  let worked = false;
  const migrating = withOrm({ DATABASE_URL: url }, { migrate: true }, async () => {
    worked = true;
  });
  await t.rejects(migrating, /already exists/);
  t.notOk(worked, 'the work does not run on a schema that failed to migrate');
  t.equal(await settledConnections(url), 0, 'no connection stays open');
});

t.test('a refused password: the error and the output never show it', async (t) => {
  const wrong = new URL(db.url);
  wrong.password = 'not-the-password-4f1c';
  const { printed, result } = await printedBy(() =>
    withOrm({ DATABASE_URL: wrong.href }, { migrate: true }, async () => undefined),
  );
  t.equal(result.status, 'rejected');
  const reason: unknown = result.status === 'rejected' ? result.reason : undefined;
  t.match(String(reason), /password authentication failed/);
  const everything = `${printed}\n${String(reason)}\n${(reason as Error).stack ?? ''}\n${JSON.stringify(reason)}`;
  t.notOk(everything.includes(wrong.password), 'the password given appears nowhere');
});
