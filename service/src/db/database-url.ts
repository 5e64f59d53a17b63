// Resolves the database URL: DATABASE_URL directly, or the Secrets Manager secret named by
// DATABASE_SECRET_ARN (read once per process). The secret holds either a postgres:// URL or the
// RDS-style JSON document Aurora generates ({ username, password, host, port, dbname }).
import type { DatabaseConfig } from '../config.ts';

export class DatabaseSecretError extends Error {
  override readonly name = 'DatabaseSecretError';
}

interface RdsSecret {
  username: string;
  password: string;
  host: string;
  port?: number | string;
  dbname?: string;
}

export async function resolveDatabaseUrl(database: DatabaseConfig): Promise<string> {
  if (database.url !== undefined) return database.url;
  if (database.secretArn === undefined)
    throw new DatabaseSecretError('no DATABASE_URL or DATABASE_SECRET_ARN');
  // Loaded only when a secret is configured: local runs and tests never load the AWS SDK.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: database.secretArn }));
    if (SecretString === undefined) throw new DatabaseSecretError('the database secret has no SecretString');
    return databaseUrlFromSecret(SecretString);
  } finally {
    client.destroy();
  }
}

export function databaseUrlFromSecret(secret: string): string {
  const trimmed = secret.trim();
  if (/^postgres(ql)?:\/\//.test(trimmed)) return trimmed;
  let parsed: Partial<RdsSecret>;
  try {
    parsed = JSON.parse(trimmed) as Partial<RdsSecret>;
  } catch {
    // Never echo the secret: it may be a password.
    throw new DatabaseSecretError('the database secret is neither a postgres:// URL nor JSON');
  }
  const { username, password, host, port = 5432, dbname = 'postgres' } = parsed;
  if (typeof username !== 'string' || typeof password !== 'string' || typeof host !== 'string') {
    throw new DatabaseSecretError('the database secret JSON needs username, password and host');
  }
  const url = new URL(`postgres://${host}`);
  url.username = username;
  url.password = password;
  url.port = String(port);
  url.pathname = `/${dbname}`;
  return url.toString();
}
