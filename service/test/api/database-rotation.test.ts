// The password RDS rotates: a warm server whose password changed picks up the new one from the
// credentials secret on the next authentication failure (28P01), without a restart.
import t from 'tap';
import {
  databaseUrlFromSecrets,
  resolveDatabaseUrl,
  withRotatingPassword,
} from '../../src/db/database-url.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { rotatingDatabaseSecrets } from '../helpers/fake-secrets-manager.ts';
import {
  addFixtureModule,
  ATTACHMENT_TYPE,
  createFixtureTable,
  FIXTURE_PATH,
} from '../helpers/fixture-module.ts';
import { buildServer, type Envelope } from '../helpers/server.ts';

t.test('a rotated password is read again after one failed authentication', async (t) => {
  const db = await startTestDatabase(t);
  const secrets = await rotatingDatabaseSecrets(t, db.url, 'app_rotating');
  const reads = () => secrets.requests.map(({ secretId }) => secretId);
  const both = [secrets.connectionArn, secrets.credentialsArn];

  const app = await buildServer(t, { DATABASE_SECRET_ARN: secrets.connectionArn, DATABASE_SSL: 'false' });
  t.equal(
    (await app.json('/health/ready')).status,
    200,
    'connects with the password of the credentials secret',
  );
  t.same(reads(), both);

  // The server's connections go away on rotation, as a warm instance's idle connections do.
  await secrets.rotate('second-password');
  secrets.requests.length = 0;

  t.equal((await app.json('/health/ready')).status, 200, 'the next request succeeds');
  t.same(reads(), both, 'after one refused password, the secrets are read once more');
  t.equal((await app.json('/health/ready')).status, 200);
  t.equal(secrets.requests.length, 2, 'and not again while the password works');
});

// Binary downloads read through the same pool hook as every other query.
t.test('the first binary download after a rotation succeeds', async (t) => {
  const db = await startTestDatabase(t);
  await createFixtureTable(db.url);
  const secrets = await rotatingDatabaseSecrets(t, db.url, 'app_download_reader');
  const app = await buildServer(t, { DATABASE_SECRET_ARN: secrets.connectionArn, DATABASE_SSL: 'false' });
  await addFixtureModule(app.server);
  const created = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: FIXTURE_PATH,
    payload: { title: 'Rotated' },
  });
  t.equal(created.status, 201);
  const url = `${FIXTURE_PATH}/${created.body.data.id}/attachment`;
  const bytes = Buffer.alloc(40, 7);
  const put = await app.inject({
    method: 'PUT',
    url,
    headers: { 'content-type': ATTACHMENT_TYPE },
    payload: bytes,
  });
  t.equal(put.statusCode, 200);

  await secrets.rotate('second-password');
  const download = await app.inject(url);
  t.equal(download.statusCode, 200, 'the download is served with the new password');
  t.same(download.rawPayload, bytes, 'byte for byte');
});

t.test('the rotation hook, piece by piece', async (t) => {
  const store: Record<string, string> = {
    conn: JSON.stringify({ host: 'db.internal', credentialsSecretArn: 'creds' }),
    creds: JSON.stringify({ username: 'u', password: 'one' }),
  };
  let failRead = false;
  const read = (id: string) =>
    failRead ? Promise.reject(new Error('secrets unreachable')) : Promise.resolve(store[id] ?? '');
  const url = await resolveDatabaseUrl({ url: undefined, secretArn: 'conn' } as never, read);
  t.equal(url, 'postgres://u:one@db.internal:5432/postgres');

  t.same(
    withRotatingPassword({ driverOptions: 1 }, 'postgres://other'),
    { driverOptions: 1 },
    'a URL not from a secret is left alone',
  );
  const { driverOptions } = withRotatingPassword({ driverOptions: { keep: true } }, url) as {
    driverOptions: { keep: boolean; password: () => Promise<string>; onPoolCreated: (pool: object) => void };
  };
  t.equal(driverOptions.keep, true, 'the other driver options stay');
  t.equal(await driverOptions.password(), 'one');

  const outcomes: unknown[] = [];
  let calls = 0;
  const pool = {
    connect: (...args: unknown[]) => {
      calls++;
      if (args.length > 0) return 'callback form';
      const next = outcomes.shift();
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
  driverOptions.onPoolCreated(pool);
  t.equal(
    pool.connect(() => undefined),
    'callback form',
    'the callback form passes through',
  );

  const refused = Object.assign(new Error('password authentication failed'), { code: '28P01' });
  store.creds = JSON.stringify({ username: 'u', password: 'two' });
  outcomes.push(refused, 'client');
  calls = 0;
  t.equal(await pool.connect(), 'client', 'retried once after 28P01');
  t.equal(calls, 2);
  t.equal(await driverOptions.password(), 'two', 'with the password read again');

  outcomes.push(Object.assign(new Error('too many connections'), { code: '53300' }));
  await t.rejects(pool.connect() as Promise<unknown>, { code: '53300' }, 'other errors are not retried');

  outcomes.push(refused, refused);
  failRead = true;
  await t.rejects(pool.connect() as Promise<unknown>, { code: '28P01' }, 'a second refusal is the caller’s');
  await t.rejects(driverOptions.password(), /secrets unreachable/, 'a failed read is reported');
  failRead = false;
  t.equal(await driverOptions.password(), 'two', 'and tried again on the next connection');
});

t.test('a credentials secret must be JSON', async (t) => {
  await t.rejects(
    databaseUrlFromSecrets(JSON.stringify({ host: 'h', credentialsSecretArn: 'c' }), () =>
      Promise.resolve('postgres://u:p@h/d'),
    ),
    { name: 'DatabaseSecretError', message: /credentials secret is not JSON/ },
  );
});
