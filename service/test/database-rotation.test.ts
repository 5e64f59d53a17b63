// The password RDS rotates: the connection secret names the credentials secret, and a warm server whose
// password was changed (ALTER ROLE) picks up the new one on the next authentication failure (28P01),
// without a restart. Secrets Manager is a loopback stand-in speaking its JSON protocol.
import { createServer, type IncomingMessage } from 'node:http';
import pg from 'pg';
import t from 'tap';
import { databaseUrlFromSecrets, resolveDatabaseUrl, withRotatingPassword } from '../src/db/database-url.ts';
import { startTestDatabase } from './helpers/database.ts';
import { setEnv } from './helpers/env.ts';
import { buildServer } from './helpers/server.ts';

const CONNECTION_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-db-AbCdEf';
const CREDENTIALS_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-1-XyZ';
const ROLE = 'app_rotating';

t.test('a rotated password is read again after one failed authentication', async (t) => {
  const db = await startTestDatabase(t);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  t.teardown(() => admin.end());
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'first-password'`);
  await admin.query(`GRANT pg_read_all_data, pg_write_all_data TO ${ROLE}`);

  const target = new URL(db.url);
  let password = 'first-password';
  const reads: string[] = [];
  const secrets: Record<string, () => string> = {
    [CONNECTION_ARN]: () =>
      JSON.stringify({
        engine: 'postgres',
        username: ROLE,
        host: target.hostname,
        port: Number(target.port),
        dbname: target.pathname.slice(1),
        credentialsSecretArn: CREDENTIALS_ARN,
      }),
    [CREDENTIALS_ARN]: () => JSON.stringify({ username: ROLE, password }),
  };
  const secretsManager = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      reads.push(SecretId);
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(JSON.stringify({ ARN: SecretId, Name: 'db', SecretString: secrets[SecretId]?.() }));
    });
  });
  await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
  t.teardown(() => secretsManager.close());
  const address = secretsManager.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  setEnv(t, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${address.port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });

  const app = await buildServer(t, { DATABASE_SECRET_ARN: CONNECTION_ARN, DATABASE_SSL: 'false' });
  t.equal(
    (await app.json('/health/ready')).status,
    200,
    'connects with the password of the credentials secret',
  );
  t.same(reads, [CONNECTION_ARN, CREDENTIALS_ARN]);

  // The rotation: a new password for the role and in the secret; the server's connections go away, as
  // a warm instance's idle connections do.
  password = 'second-password';
  await admin.query(`ALTER ROLE ${ROLE} PASSWORD 'second-password'`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [ROLE]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  reads.length = 0;

  t.equal((await app.json('/health/ready')).status, 200, 'the next request succeeds');
  t.same(
    reads,
    [CONNECTION_ARN, CREDENTIALS_ARN],
    'after one refused password, the secrets are read once more',
  );
  t.equal((await app.json('/health/ready')).status, 200);
  t.equal(reads.length, 2, 'and not again while the password works');
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
