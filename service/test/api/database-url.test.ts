// DATABASE_SECRET_ARN: the URL comes from Secrets Manager (here a loopback stand-in that speaks the
// same JSON protocol), never from plaintext configuration.
import t from 'tap';
import { databaseUrlFromSecret, resolveDatabaseUrl } from '../../src/db/database-url.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { startFakeSecretsManager } from '../helpers/fake-secrets-manager.ts';
import { buildServer } from '../helpers/server.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-db-AbCdEf';

t.test('secret formats', async (t) => {
  t.equal(databaseUrlFromSecret(' postgres://u:p@h:5432/d '), 'postgres://u:p@h:5432/d');
  t.equal(
    databaseUrlFromSecret(
      JSON.stringify({
        username: 'admin',
        password: 'p@ss/word',
        host: 'db.internal',
        port: 5433,
        dbname: 'books',
      }),
    ),
    'postgres://admin:p%40ss%2Fword@db.internal:5433/books',
    'RDS-style JSON, with the password escaped',
  );
  t.equal(
    databaseUrlFromSecret(JSON.stringify({ username: 'a', password: 'b', host: 'h' })),
    'postgres://a:b@h:5432/postgres',
    'defaults port and database',
  );
  t.throws(() => databaseUrlFromSecret('hunter2'), { name: 'DatabaseSecretError', message: /neither/ });
  t.notMatch(
    String(t.throws(() => databaseUrlFromSecret('hunter2'))),
    /hunter2/,
    'the secret is never echoed',
  );
  t.throws(() => databaseUrlFromSecret('{"username":"a"}'), /needs username, password and host/);
});

t.test('the URL is read from Secrets Manager, once per server', async (t) => {
  const db = await startTestDatabase(t);
  const requests = await startFakeSecretsManager(t, () => db.url);

  t.equal(await resolveDatabaseUrl({ url: undefined, secretArn: ARN } as never), db.url);
  t.equal(requests[0]?.target, 'secretsmanager.GetSecretValue');
  t.equal(requests[0]?.secretId, ARN);

  const app = await buildServer(t, { DATABASE_SECRET_ARN: ARN });
  requests.length = 0;
  for (let i = 0; i < 3; i++) {
    const { status } = await app.json('/health/ready');
    t.equal(status, 200);
  }
  t.equal(requests.length, 1, 'the secret is fetched once and cached for the process');
});

t.test('no URL and no secret is a configuration error caught at the edge', async (t) => {
  await t.rejects(resolveDatabaseUrl({ url: undefined, secretArn: undefined } as never), {
    name: 'DatabaseSecretError',
  });
});
