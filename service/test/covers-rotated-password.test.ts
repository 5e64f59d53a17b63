// A cover download is the first request after RDS rotated the password: it must pick up the new one
// like every other query (the rotation hook wraps the pool's connect), not fail on the old one.
// Secrets Manager is a loopback stand-in speaking its JSON protocol.
import { createServer, type IncomingMessage } from 'node:http';
import pg from 'pg';
import t from 'tap';
import { startTestDatabase } from './helpers/database.ts';
import { setEnv } from './helpers/env.ts';
import { uniqueIsbn } from './helpers/isbn.ts';
import { buildServer, type Envelope } from './helpers/server.ts';

const CONNECTION_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-db-AbCdEf';
const CREDENTIALS_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-1-XyZ';
const ROLE = 'app_cover_reader';

t.test('the first cover download after a password rotation succeeds', async (t) => {
  const db = await startTestDatabase(t);
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  t.teardown(() => admin.end());
  await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'first-password'`);
  await admin.query(`GRANT pg_read_all_data, pg_write_all_data TO ${ROLE}`);

  const target = new URL(db.url);
  let password = 'first-password';
  const secrets: Record<string, () => string> = {
    [CONNECTION_ARN]: () =>
      JSON.stringify({
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
  const created = await app.json<Envelope<{ id: string }>>({
    method: 'POST',
    url: '/v1/books',
    payload: { title: 'Rotated', author: 'A', isbn: uniqueIsbn() },
  });
  t.equal(created.status, 201);
  const id = created.body.data.id;
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(32, 7)]);
  const put = await app.inject({
    method: 'PUT',
    url: `/v1/books/${id}/cover`,
    headers: { 'content-type': 'image/png' },
    payload: png,
  });
  t.equal(put.statusCode, 200);

  // The rotation: a new password for the role and in the secret; the server's connections go away.
  password = 'second-password';
  await admin.query(`ALTER ROLE ${ROLE} PASSWORD 'second-password'`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [ROLE]);
  await new Promise((resolve) => setTimeout(resolve, 200));

  const cover = await app.inject(`/v1/books/${id}/cover`);
  t.equal(cover.statusCode, 200, 'the cover is served with the new password');
  t.same(cover.rawPayload, png, 'byte for byte');
});
