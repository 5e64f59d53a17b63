// DATABASE_SECRET_ARN: the URL comes from Secrets Manager (here a loopback stand-in that speaks the
// same JSON protocol), never from plaintext configuration.
import { createServer, type IncomingMessage } from 'node:http';
import t from 'tap';
import { databaseUrlFromSecret, resolveDatabaseUrl } from '../src/db/database-url.ts';
import { startTestDatabase } from './helpers/database.ts';
import { setEnv } from './helpers/env.ts';
import { buildServer } from './helpers/server.ts';

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
  const requests: { target: string | undefined; body: string }[] = [];
  const secretsManager = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({ target: request.headers['x-amz-target'] as string | undefined, body });
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(JSON.stringify({ ARN, Name: 'app-db', SecretString: db.url }));
    });
  });
  await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
  t.teardown(() => secretsManager.close());
  const address = secretsManager.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  // The AWS SDK reads its endpoint, region and credentials from process.env itself.
  setEnv(t, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${address.port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });

  t.equal(await resolveDatabaseUrl({ url: undefined, secretArn: ARN } as never), db.url);
  t.equal(requests[0]?.target, 'secretsmanager.GetSecretValue');
  t.match(JSON.parse(requests[0]?.body ?? '{}'), { SecretId: ARN });

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
