// The service's settings: one joi schema over the environment; nothing else reads process.env.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Joi from 'joi';
import { hostname, postgresUrl } from './config-rules.ts';

export const APP_ENVS = ['local', 'test', 'dev', 'prod'] as const;
type AppEnv = (typeof APP_ENVS)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export interface DatabaseConfig {
  // Absent when Secrets Manager holds it (`secretArn`).
  readonly url: string | undefined;
  // The URL, or RDS-style JSON credentials.
  readonly secretArn: string | undefined;
  readonly ssl: boolean;
  readonly privateCa: string | undefined;
  readonly poolMax: number;
  readonly connectTimeoutMs: number;
  readonly queueTimeoutMs: number;
  // Client side; the server's bound: docs/database.md#the-server-side-statement-bound
  readonly queryTimeoutMs: number;
  // Checked before use: a thaw, NAT or failover may have killed it.
  readonly idleCheckAfterMs: number;
  readonly idleCheckTimeoutMs: number;
}

interface ApiKeysConfig {
  // Open routes (health, docs, events) never need one.
  readonly required: boolean;
  readonly defaultDailyQuota: number;
  readonly defaultRatePerMinute: number;
  readonly usageRetentionDays: number;
}

export interface Config {
  readonly appEnv: AppEnv;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  readonly corsOrigins: readonly string[];
  // Above the Web Adapter's 4 s idle pool: it never reuses a closed socket.
  readonly keepAliveTimeoutMs: number;
  readonly headersTimeoutMs: number;
  // Only then are the events route served and the adapter's x-amzn-* headers trusted.
  readonly inLambda: boolean;
  // Where the Web Adapter POSTs around a SnapStart snapshot; unset: no hook.
  readonly snapStartHooks: {
    readonly beforeCheckpointPath: string | undefined;
    readonly afterRestorePath: string | undefined;
  };
  // In Lambda the runtime gets at most 300 ms (docs/configuration.md).
  readonly shutdownTimeoutMs: number;
  readonly payloadMaxBytes: number;
  readonly requestTimeoutMs: number;
  readonly deletedRetentionDays: number;
  readonly database: DatabaseConfig;
  readonly apiKeys: ApiKeysConfig;
  readonly version: string;
  // The published Lambda version (or $LATEST) serving this instance; unset outside Lambda.
  readonly functionVersion: string | undefined;
}

// Exported for the test that compares it with docs/configuration.md.
export const environmentSchema = Joi.object({
  APP_ENV: Joi.string()
    .valid(...APP_ENVS)
    .default('local'),
  HOST: hostname.default('0.0.0.0'),
  PORT: Joi.number().integer().min(0).max(65535).default(8080),
  LOG_LEVEL: Joi.string()
    .valid(...LOG_LEVELS)
    .default('info'),
  LOG_PRETTY: Joi.boolean().truthy('1').falsy('0'),
  CORS_ORIGINS: Joi.string()
    // joi does not run custom() on defaults, so the default is already the parsed shape.
    .default([])
    .custom((value: string, helpers) => {
      const origins = value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
          return helpers.message({
            custom: `"CORS_ORIGINS" entry "${origin}" must be * or scheme://host[:port]`,
          });
        }
      }
      return origins;
    }),
  DATABASE_URL: postgresUrl,
  DATABASE_SECRET_ARN: Joi.string().pattern(/^arn:aws[\w-]*:secretsmanager:/, 'Secrets Manager ARN'),
  DATABASE_SSL: Joi.boolean()
    .truthy('1')
    .falsy('0')
    .default(false)
    // A CA file without TLS would be silently ignored: say so instead.
    .when('DATABASE_CA_FILE', {
      is: Joi.exist(),
      then: Joi.valid(true).required().messages({
        'any.only': '"DATABASE_CA_FILE" needs "DATABASE_SSL" to be 1 (the CA is only used over TLS)',
        'any.required': '"DATABASE_CA_FILE" needs "DATABASE_SSL" to be 1 (the CA is only used over TLS)',
      }),
    }),
  // Read and parsed here, so a missing or wrong file fails at boot rather than at the first query.
  DATABASE_CA_FILE: Joi.string().custom((file: string, helpers) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      return helpers.message({ custom: `"DATABASE_CA_FILE" ${file} cannot be read (${reason})` });
    }
    const certificates = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    if (certificates.length === 0) {
      return helpers.message({ custom: `"DATABASE_CA_FILE" ${file} holds no PEM certificate` });
    }
    for (const pem of certificates) {
      try {
        new X509Certificate(pem);
      } catch {
        return helpers.message({
          custom: `"DATABASE_CA_FILE" ${file} holds a certificate that does not parse`,
        });
      }
    }
    return certificates.join('\n');
  }),
  // Unset: 1 inside Lambda (an instance serves one request at a time), 5 elsewhere (loadConfig).
  DATABASE_POOL_MAX: Joi.number().integer().min(1).max(100),
  DATABASE_CONNECT_TIMEOUT_MS: Joi.number().integer().min(100).max(60_000).default(3000),
  // Capped at half of REQUEST_TIMEOUT_MS in loadConfig: the other half is left for the work itself.
  DATABASE_QUEUE_TIMEOUT_MS: Joi.number().integer().min(0).max(120_000).default(5000),
  DATABASE_QUERY_TIMEOUT_MS: Joi.number().integer().min(100).max(300_000).default(5000),
  DATABASE_IDLE_CHECK_AFTER_MS: Joi.number().integer().min(0).max(3_600_000).default(1000),
  DATABASE_IDLE_CHECK_TIMEOUT_MS: Joi.number().integer().min(50).max(30_000).default(1000),
  KEEP_ALIVE_TIMEOUT_MS: Joi.number().integer().min(5000).max(600_000).default(65_000),
  HEADERS_TIMEOUT_MS: Joi.number().integer().min(100).max(120_000).default(10_000),
  // Set by Lambda for the runtime (reserved: a function's configuration cannot set it), never by us.
  AWS_LAMBDA_RUNTIME_API: Joi.string().max(256),
  // Set by Lambda too: the version's deploy alarm counts its 5xx lines by it (docs/deploy.md).
  AWS_LAMBDA_FUNCTION_VERSION: Joi.string().pattern(/^(\$LATEST|[1-9][0-9]*)$/, 'Lambda version'),
  // The adapter's own settings, read by both; it refuses anything but a plain path.
  AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH: Joi.string()
    .pattern(/^(\/[\w.-]+)+$/)
    .max(256),
  AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH: Joi.string()
    .pattern(/^(\/[\w.-]+)+$/)
    .max(256),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(0).max(30_000).default(1500),
  PAYLOAD_MAX_BYTES: Joi.number()
    .integer()
    .min(1024)
    .max(6 * 1024 * 1024)
    .default(1024 * 1024),
  SERVICE_VERSION: Joi.string().max(64).default('0.1.0'),
  DELETED_RETENTION_DAYS: Joi.number().integer().min(0).max(3650).default(30),
  // Below API Gateway's 30 s integration limit and the function's timeout, so clients get an envelope.
  REQUEST_TIMEOUT_MS: Joi.number().integer().min(50).max(120_000).default(10_000),
  // Unset: on in dev and prod, off in local and test.
  API_KEYS_REQUIRED: Joi.boolean().truthy('1').falsy('0'),
  API_KEY_DEFAULT_DAILY_QUOTA: Joi.number().integer().min(1).max(1_000_000_000).default(10_000),
  API_KEY_DEFAULT_RATE_PER_MINUTE: Joi.number().integer().min(1).max(1_000_000).default(60),
  API_KEY_USAGE_RETENTION_DAYS: Joi.number().integer().min(1).max(3650).default(90),
})
  // The environment holds much more than our variables; validate ours and ignore the rest.
  .unknown(true)
  .xor('DATABASE_URL', 'DATABASE_SECRET_ARN');

interface ValidatedEnv {
  APP_ENV: AppEnv;
  HOST: string;
  PORT: number;
  LOG_LEVEL: LogLevel;
  LOG_PRETTY?: boolean;
  CORS_ORIGINS: string[];
  DATABASE_URL?: string;
  DATABASE_SECRET_ARN?: string;
  DATABASE_SSL: boolean;
  /** The certificates of the file, not its path. */
  DATABASE_CA_FILE?: string;
  DATABASE_POOL_MAX?: number;
  DATABASE_CONNECT_TIMEOUT_MS: number;
  DATABASE_QUEUE_TIMEOUT_MS: number;
  DATABASE_QUERY_TIMEOUT_MS: number;
  DATABASE_IDLE_CHECK_AFTER_MS: number;
  DATABASE_IDLE_CHECK_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  HEADERS_TIMEOUT_MS: number;
  AWS_LAMBDA_RUNTIME_API?: string;
  AWS_LAMBDA_FUNCTION_VERSION?: string;
  AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH?: string;
  AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH?: string;
  SHUTDOWN_TIMEOUT_MS: number;
  PAYLOAD_MAX_BYTES: number;
  SERVICE_VERSION: string;
  DELETED_RETENTION_DAYS: number;
  REQUEST_TIMEOUT_MS: number;
  API_KEYS_REQUIRED?: boolean;
  API_KEY_DEFAULT_DAILY_QUOTA: number;
  API_KEY_DEFAULT_RATE_PER_MINUTE: number;
  API_KEY_USAGE_RETENTION_DAYS: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" (a common shape of `FOO= npm run dev`).
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = environmentSchema.validate(present, { abortEarly: false, convert: true });
  if (result.error) {
    throw new ConfigError(`Invalid configuration: ${result.error.details.map((d) => d.message).join('; ')}`);
  }
  const v = result.value as ValidatedEnv;
  return deepFreeze({
    appEnv: v.APP_ENV,
    host: v.HOST,
    port: v.PORT,
    logLevel: v.LOG_LEVEL,
    logPretty: v.LOG_PRETTY ?? false,
    corsOrigins: v.CORS_ORIGINS,
    keepAliveTimeoutMs: v.KEEP_ALIVE_TIMEOUT_MS,
    headersTimeoutMs: v.HEADERS_TIMEOUT_MS,
    inLambda: v.AWS_LAMBDA_RUNTIME_API !== undefined,
    snapStartHooks: {
      beforeCheckpointPath: v.AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH,
      afterRestorePath: v.AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH,
    },
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    payloadMaxBytes: v.PAYLOAD_MAX_BYTES,
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    deletedRetentionDays: v.DELETED_RETENTION_DAYS,
    version: v.SERVICE_VERSION,
    functionVersion: v.AWS_LAMBDA_FUNCTION_VERSION,
    database: {
      url: v.DATABASE_URL,
      secretArn: v.DATABASE_SECRET_ARN,
      ssl: v.DATABASE_SSL,
      privateCa: v.DATABASE_CA_FILE,
      poolMax: v.DATABASE_POOL_MAX ?? (v.AWS_LAMBDA_RUNTIME_API === undefined ? 5 : 1),
      connectTimeoutMs: v.DATABASE_CONNECT_TIMEOUT_MS,
      queueTimeoutMs: Math.min(v.DATABASE_QUEUE_TIMEOUT_MS, Math.floor(v.REQUEST_TIMEOUT_MS / 2)),
      queryTimeoutMs: v.DATABASE_QUERY_TIMEOUT_MS,
      idleCheckAfterMs: v.DATABASE_IDLE_CHECK_AFTER_MS,
      idleCheckTimeoutMs: v.DATABASE_IDLE_CHECK_TIMEOUT_MS,
    },
    apiKeys: {
      required: v.API_KEYS_REQUIRED ?? (v.APP_ENV === 'dev' || v.APP_ENV === 'prod'),
      defaultDailyQuota: v.API_KEY_DEFAULT_DAILY_QUOTA,
      defaultRatePerMinute: v.API_KEY_DEFAULT_RATE_PER_MINUTE,
      usageRetentionDays: v.API_KEY_USAGE_RETENTION_DAYS,
    },
  });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  }
  return Object.freeze(value);
}
