// The function's settings: what the service runs as (APP_ENV, LOG_LEVEL), on which architecture, its
// size, timeout and concurrency, and how long its logs (and the API's access logs) are kept.
import { PLATFORMS, type Architecture, type Platform } from '../platforms.ts';
import { ConfigError, type Settings } from './settings.ts';

/** The only retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The service's APP_ENV values a stack may deploy (the service also knows local and test). */
export const APP_ENVS = ['dev', 'prod'] as const;
/** The service's LOG_LEVEL values (a test proves the service accepts exactly these). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface FunctionConfig {
  appEnv: (typeof APP_ENVS)[number];
  logLevel: (typeof LOG_LEVELS)[number];
  architecture: Architecture;
  platform: Platform;
  memorySize: number;
  timeout: number;
  /** Undefined leaves the function unreserved. */
  reservedConcurrency: number | undefined;
  logRetentionDays: number;
}

export function readFunctionConfig(settings: Settings): FunctionConfig {
  const architecture = settings.oneOf('architecture', Object.keys(PLATFORMS) as Architecture[]);
  const timeout = settings.num('timeout', 1, 900);

  const logRetentionDays = settings.num('logRetentionDays', 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new ConfigError(
      settings.key('logRetentionDays'),
      `${logRetentionDays} is not a CloudWatch retention (${LOG_RETENTION_DAYS.join(', ')})`,
    );
  }

  const reserved = settings.num('reservedConcurrency', -1, 10_000);
  return {
    appEnv: settings.oneOf('appEnv', APP_ENVS),
    logLevel: settings.oneOf('logLevel', LOG_LEVELS),
    architecture,
    platform: PLATFORMS[architecture],
    memorySize: settings.num('memorySize', 128, 10_240),
    timeout,
    reservedConcurrency: reserved === -1 ? undefined : reserved,
    logRetentionDays,
  };
}
