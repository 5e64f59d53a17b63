// A loopback Secrets Manager speaking its JSON protocol, and the environment that points the AWS SDK at it
// for one test: every GetSecretValue is recorded and answered from `secretString(secretId)`.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { setEnv } from './env.ts';
import type { Teardown } from './teardown.ts';

export interface SecretsManagerRequest {
  target: string | undefined;
  secretId: string;
}

export async function startFakeSecretsManager(
  t: Teardown,
  secretString: (secretId: string) => string | undefined,
): Promise<SecretsManagerRequest[]> {
  const requests: SecretsManagerRequest[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      requests.push({ target: request.headers['x-amz-target'] as string | undefined, secretId: SecretId });
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(JSON.stringify({ ARN: SecretId, Name: 'db', SecretString: secretString(SecretId) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  // The AWS SDK reads its endpoint, region and credentials from process.env itself.
  setEnv(t, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  return requests;
}

/**
 * A login role whose password lives in an RDS-style pair of secrets (connection secret naming a
 * credentials secret), and `rotate()`, which changes it as RDS does and drops the role's connections.
 */
export async function rotatingDatabaseSecrets(t: Teardown, databaseUrl: string, role: string) {
  const connectionArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-db-AbCdEf';
  const credentialsArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-1-XyZ';
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  t.teardown(() => admin.end());
  let password = 'first-password';
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await admin.query(`GRANT pg_read_all_data, pg_write_all_data TO ${role}`);

  const target = new URL(databaseUrl);
  const secrets: Record<string, () => string> = {
    [connectionArn]: () =>
      JSON.stringify({
        engine: 'postgres',
        username: role,
        host: target.hostname,
        port: Number(target.port),
        dbname: target.pathname.slice(1),
        credentialsSecretArn: credentialsArn,
      }),
    [credentialsArn]: () => JSON.stringify({ username: role, password }),
  };
  const requests = await startFakeSecretsManager(t, (id) => secrets[id]?.());
  return {
    connectionArn,
    credentialsArn,
    requests,
    async rotate(next: string): Promise<void> {
      password = next;
      await admin.query(`ALTER ROLE ${role} PASSWORD '${next}'`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
  };
}
