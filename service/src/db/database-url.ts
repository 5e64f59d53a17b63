// Resolves the database URL: DATABASE_URL, or the Secrets Manager secret DATABASE_SECRET_ARN names (a URL
// or RDS-style JSON; the formats are in docs/configuration.md).
import type { DatabaseConfig } from '../config.ts';

class DatabaseSecretError extends Error {
  override readonly name = 'DatabaseSecretError';
}

/** Returns a secret's SecretString. */
export type SecretReader = (secretId: string) => Promise<string>;

interface RdsSecret {
  username: string;
  password: string;
  host: string;
  port?: number | string;
  dbname?: string;
  credentialsSecretArn?: string;
}

/** PostgreSQL's invalid_password: the password we sent is not (or no longer) the role's. */
const INVALID_PASSWORD = '28P01';

/** The password of each URL resolved from a secret, re-readable (see withRotatingPassword). */
const rotating = new Map<string, RotatingPassword>();

class RotatingPassword {
  #current: Promise<string> | undefined;
  readonly #read: () => Promise<string>;

  constructor(read: () => Promise<string>, initial: string) {
    this.#read = read;
    this.#current = Promise.resolve(initial);
  }

  /** The password for the next connection: the last one read, or a fresh read after invalidate(). */
  get(): Promise<string> {
    this.#current ??= this.#read().catch((error: unknown) => {
      this.#current = undefined;
      throw error;
    });
    return this.#current;
  }

  invalidate(): void {
    this.#current = undefined;
  }
}

export async function resolveDatabaseUrl(
  database: DatabaseConfig,
  readSecret: SecretReader = readFromSecretsManager,
): Promise<string> {
  if (database.url !== undefined) return database.url;
  const { secretArn } = database;
  if (secretArn === undefined) throw new DatabaseSecretError('no DATABASE_URL or DATABASE_SECRET_ARN');
  const resolve = async () => databaseUrlFromSecrets(await readSecret(secretArn), readSecret);
  const url = await resolve();
  rotating.set(url, new RotatingPassword(async () => passwordOf(await resolve()), passwordOf(url)));
  return url;
}

/** The secret's URL; a JSON secret naming a credentials secret is completed from that one. */
export async function databaseUrlFromSecrets(secret: string, readSecret: SecretReader): Promise<string> {
  const parsed = parseSecret(secret);
  if (typeof parsed === 'string') return parsed;
  if (typeof parsed.credentialsSecretArn !== 'string') return urlFromJson(parsed);
  const credentials = parseSecret(await readSecret(parsed.credentialsSecretArn));
  if (typeof credentials === 'string') {
    throw new DatabaseSecretError('the credentials secret is not JSON with username and password');
  }
  return urlFromJson({ ...parsed, username: credentials.username, password: credentials.password });
}

export function databaseUrlFromSecret(secret: string): string {
  const parsed = parseSecret(secret);
  return typeof parsed === 'string' ? parsed : urlFromJson(parsed);
}

/**
 * The ORM configuration with the password read per connection: when PostgreSQL refuses it, the secret
 * is read again and the connection retried once (SQLSTATE 28P01), so a warm instance follows a rotation.
 * Unchanged for a URL that did not come from a secret.
 */
export function withRotatingPassword<T extends { driverOptions?: unknown }>(config: T, url: string): T {
  const password = rotating.get(url);
  if (password === undefined) return config;
  return {
    ...config,
    driverOptions: {
      ...(config.driverOptions as Record<string, unknown>),
      // pg asks for the password on every new connection when it is a function.
      password: () => password.get(),
      onPoolCreated(pool: ConnectingPool) {
        const connect = pool.connect.bind(pool);
        pool.connect = (...args: unknown[]) =>
          args.length > 0
            ? connect(...args)
            : (connect() as Promise<unknown>).catch((error: unknown) => {
                if ((error as { code?: unknown } | null)?.code !== INVALID_PASSWORD) throw error;
                password.invalidate();
                return connect();
              });
      },
    },
  };
}

/** pg's Pool as far as it is wrapped here (Kysely calls `connect()` without a callback). */
interface ConnectingPool {
  connect: (...args: unknown[]) => unknown;
}

function parseSecret(secret: string): string | Partial<RdsSecret> {
  const trimmed = secret.trim();
  if (/^postgres(ql)?:\/\//.test(trimmed)) return trimmed;
  try {
    return JSON.parse(trimmed) as Partial<RdsSecret>;
  } catch {
    // Never echo the secret: it may be a password.
    throw new DatabaseSecretError('the database secret is neither a postgres:// URL nor JSON');
  }
}

function urlFromJson(parsed: Partial<RdsSecret>): string {
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

function passwordOf(url: string): string {
  return decodeURIComponent(new URL(url).password);
}

/** Loads the Secrets Manager client's code when the URL comes from a secret; creates no client, reads nothing. */
export async function loadSecretReader(database: DatabaseConfig): Promise<void> {
  if (database.url === undefined && database.secretArn !== undefined) {
    await import('@aws-sdk/client-secrets-manager');
  }
}

async function readFromSecretsManager(secretId: string): Promise<string> {
  // Loaded only when a secret is configured: local runs and tests never load the AWS SDK.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (SecretString === undefined) throw new DatabaseSecretError('the database secret has no SecretString');
    return SecretString;
  } finally {
    client.destroy();
  }
}
