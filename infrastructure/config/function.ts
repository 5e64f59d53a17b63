// The function's settings, shaped as ServiceFunction's args: what the service runs as (APP_ENV,
// LOG_LEVEL, CORS_ORIGINS), on which architecture, its size, timeout, concurrency and log retention.
import type * as pulumi from '@pulumi/pulumi';
import { PLATFORMS, type Architecture } from '../platforms.ts';
import { ConfigError, type Settings } from './settings.ts';

/** The only retention values CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The service's APP_ENV values a stack may deploy (the service also knows local and test). */
export const APP_ENVS = ['dev', 'prod'] as const;
/** The service's LOG_LEVEL values (a test proves the service accepts exactly these). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface FunctionSettings {
  /** Must match the platform the image was built for (arm64 is cheaper per GB-second). */
  architecture: Architecture;
  memorySize: number;
  timeout: number;
  /** Undefined leaves the function unreserved. */
  reservedConcurrency: number | undefined;
  /** Of the function's log group (the HTTP API's access logs keep the same). */
  logRetentionDays: number;
  /** Plain service settings (APP_ENV, LOG_LEVEL, …); never a secret value — secrets go by ARN. */
  environment: Record<string, pulumi.Input<string>>;
}

export function readFunctionSettings(settings: Settings): FunctionSettings {
  const reserved = settings.num('reservedConcurrency', -1, 10_000);
  return {
    architecture: settings.oneOf('architecture', Object.keys(PLATFORMS) as Architecture[]),
    memorySize: settings.num('memorySize', 128, 10_240),
    timeout: settings.num('timeout', 1, 900),
    reservedConcurrency: reserved === -1 ? undefined : reserved,
    logRetentionDays: readLogRetentionDays(settings),
    environment: {
      APP_ENV: settings.oneOf('appEnv', APP_ENVS),
      LOG_LEVEL: settings.oneOf('logLevel', LOG_LEVELS),
      CORS_ORIGINS: readCorsOrigins(settings).join(','),
    },
  };
}

function readLogRetentionDays(settings: Settings): number {
  const days = settings.num('logRetentionDays', 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new ConfigError(
      settings.key('logRetentionDays'),
      `${days} is not a CloudWatch retention (${LOG_RETENTION_DAYS.join(', ')})`,
    );
  }
  return days;
}

/** The browser origins the service answers CORS for (API Gateway does none: see HttpApi). */
function readCorsOrigins(settings: Settings): string[] {
  const fullKey = settings.key('corsOrigins');
  const text = settings.text('corsOrigins');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(fullKey, 'must be a list of origins (a YAML list, or a JSON array)');
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new ConfigError(fullKey, 'must be a list of origin strings');
  }
  for (const origin of parsed) {
    // Browsers send the bare origin; a path, a trailing slash or a wildcard never matches it.
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(origin) && !/^http:\/\/localhost(:\d+)?$/.test(origin)) {
      throw new ConfigError(fullKey, `"${origin}" is not https://host[:port] or http://localhost[:port]`);
    }
  }
  return parsed;
}
