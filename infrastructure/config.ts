// Reads the stack configuration once into a typed, validated object; nothing else in the program reads
// Pulumi config or the environment. A wrong value fails the run with a message naming the key.
import { execFileSync } from 'node:child_process';
import * as pulumi from '@pulumi/pulumi';
import { BRANCH_STACKS, isPreviewStack } from './branch-stack.ts';

/** Lambda architecture → the Docker platform its image must be built for (a mismatch is `exec format error`). */
export const PLATFORMS = { arm64: 'linux/arm64', x86_64: 'linux/amd64' } as const;
export type Architecture = keyof typeof PLATFORMS;
export type Platform = (typeof PLATFORMS)[Architecture];

/** The only retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const APP_ENVS = ['dev', 'prod'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DATABASE_MODES = ['external', 'managed'] as const;

/** Defaults for every project key; they mirror Pulumi.yaml (a test keeps the two in step). */
export const DEFAULTS = {
  appEnv: 'dev',
  logLevel: 'info',
  architecture: 'arm64',
  memorySize: 1024,
  timeout: 15,
  reservedConcurrency: -1,
  logRetentionDays: 14,
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  corsOrigins: [] as string[],
  alarmEmail: '',
  alarmEvaluationPeriods: 3,
  alarmErrorsThreshold: 5,
  alarmThrottlesThreshold: 1,
  alarmDurationP99Percent: 80,
  alarm5xxThreshold: 5,
  alarmLatencyP99Ms: 3000,
  domainName: '',
  hostedZoneId: '',
  databaseMode: 'external',
  databaseSsl: true,
  databasePoolMax: 2,
  databaseMinCapacity: '0.5',
  databaseMaxCapacity: '2',
  databaseEngineVersion: '16.8',
  databaseDeletionProtection: false,
  databaseReaderInstances: 0,
  imageUntaggedExpiryDays: 14,
  imageTag: '',
  maintenanceSchedule: 'rate(1 day)',
} as const;

export interface ExternalDatabaseConfig {
  mode: 'external';
  /** Secret: the postgres URL, stored only in Secrets Manager. */
  url: pulumi.Output<string>;
  ssl: boolean;
  poolMax: number;
}

export interface ManagedDatabaseConfig {
  mode: 'managed';
  minCapacity: number;
  maxCapacity: number;
  /** Set only with a 0 ACU minimum (the only case where Aurora pauses). */
  autoPauseSeconds: number | undefined;
  engineVersion: string;
  deletionProtection: boolean;
  /** Readers besides the writer: with one, Aurora fails the writer over to it (another AZ) in ~30 s. */
  readerInstances: number;
  poolMax: number;
}

export type DatabaseConfig = ExternalDatabaseConfig | ManagedDatabaseConfig;

export interface AlarmSettings {
  email: string | undefined;
  evaluationPeriods: number;
  errorsThreshold: number;
  throttlesThreshold: number;
  /** Duration p99 threshold in milliseconds, derived from the timeout. */
  durationP99Ms: number;
  api5xxThreshold: number;
  latencyP99Ms: number;
}

export interface StackConfig {
  project: string;
  stack: string;
  /** `${project}-${stack}`, lower-cased: the prefix of every physical name, so stacks never collide. */
  prefix: string;
  region: string;
  /** Tags applied to every taggable AWS resource (through the provider's default tags). */
  tags: Record<string, string>;
  /** Preview stacks (one per pull request) are disposable: nothing in them is kept on destroy. */
  ephemeral: boolean;
  /** The image repository of the stack `main` deploys (prod), whose build cache previews read. */
  sharedCacheRepository: string;
  appEnv: (typeof APP_ENVS)[number];
  logLevel: (typeof LOG_LEVELS)[number];
  architecture: Architecture;
  platform: Platform;
  memorySize: number;
  timeout: number;
  /** Undefined leaves the function unreserved. */
  reservedConcurrency: number | undefined;
  logRetentionDays: number;
  throttle: { rateLimit: number; burstLimit: number };
  corsOrigins: string[];
  alarms: AlarmSettings;
  domain: { name: string; hostedZoneId: string } | undefined;
  database: DatabaseConfig;
  image: { tag: string; untaggedExpiryDays: number };
  /** EventBridge schedule of the maintenance event; undefined when turned off (`off`). */
  maintenanceSchedule: string | undefined;
}

/** A configuration value is missing or malformed; the message names the full key. */
export class ConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`Invalid stack configuration "${key}": ${problem}`);
    this.name = 'ConfigError';
  }
}

/** The slice of `pulumi.Config` the reader needs, so tests can feed plain values. */
export interface ConfigSource {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
}

export interface ConfigContext {
  project: string;
  stack: string;
  region: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** `git rev-parse HEAD` plus whether the tree is dirty; undefined when git is unavailable. */
  gitHead: () => { sha: string; dirty: boolean } | undefined;
  now: () => Date;
}

/** Reads config through `source`; pure apart from the callbacks in `context`. */
export function readStackConfig(source: ConfigSource, context: ConfigContext): StackConfig {
  const { project, stack } = context;
  const key = (name: string) => `${project}:${name}`;
  const raw = (name: keyof typeof DEFAULTS): string | undefined => {
    const value = source.get(name);
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const oneOf = <T extends string>(name: keyof typeof DEFAULTS, allowed: readonly T[]): T => {
    const value = raw(name) ?? String(DEFAULTS[name]);
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(key(name), `"${value}" is not one of ${allowed.join(', ')}`);
    }
    return value as T;
  };
  const num = (name: keyof typeof DEFAULTS, min: number, max: number, integer = true): number => {
    const text = raw(name) ?? String(DEFAULTS[name]);
    const value = Number(text);
    if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new ConfigError(key(name), `"${text}" is not ${integer ? 'an integer' : 'a number'}`);
    }
    if (value < min || value > max) {
      throw new ConfigError(key(name), `${value} is outside ${min}..${max}`);
    }
    return value;
  };
  const bool = (name: keyof typeof DEFAULTS): boolean => {
    const text = raw(name) ?? String(DEFAULTS[name]);
    if (text !== 'true' && text !== 'false') {
      throw new ConfigError(key(name), `"${text}" is not true or false`);
    }
    return text === 'true';
  };

  const region = context.region?.trim();
  if (region === undefined || region === '') {
    throw new ConfigError('aws:region', 'is required (pulumi config set aws:region <region>)');
  }

  const architecture = oneOf('architecture', Object.keys(PLATFORMS) as Architecture[]);
  const timeout = num('timeout', 1, 900);

  const logRetentionDays = num('logRetentionDays', 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new ConfigError(
      key('logRetentionDays'),
      `${logRetentionDays} is not a CloudWatch retention (${LOG_RETENTION_DAYS.join(', ')})`,
    );
  }

  const reserved = num('reservedConcurrency', -1, 10_000);

  const rateLimit = num('throttleRateLimit', 1, 10_000);
  const burstLimit = num('throttleBurstLimit', 1, 5_000);
  if (burstLimit < rateLimit / 10) {
    // API Gateway accepts it, but a burst far below the rate throttles traffic the rate allows.
    throw new ConfigError(
      key('throttleBurstLimit'),
      `${burstLimit} is too small for a rate of ${rateLimit}/s`,
    );
  }

  const corsOrigins = readCorsOrigins(source.get('corsOrigins'), key('corsOrigins'));

  const email = raw('alarmEmail');
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw new ConfigError(key('alarmEmail'), `"${email}" is not an e-mail address`);
  }

  const durationPercent = num('alarmDurationP99Percent', 1, 100);

  const domainName = raw('domainName');
  const hostedZoneId = raw('hostedZoneId');
  if (domainName !== undefined && !/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/.test(domainName)) {
    throw new ConfigError(key('domainName'), `"${domainName}" is not a lower-case DNS name`);
  }
  if ((domainName === undefined) !== (hostedZoneId === undefined)) {
    throw new ConfigError(
      key(domainName === undefined ? 'domainName' : 'hostedZoneId'),
      'domainName and hostedZoneId must be set together',
    );
  }

  const mode = oneOf('databaseMode', DATABASE_MODES);
  const poolMax = num('databasePoolMax', 1, 20);
  let database: DatabaseConfig;
  if (mode === 'external') {
    const url = source.getSecret('databaseUrl');
    if (url === undefined) {
      throw new ConfigError(
        key('databaseUrl'),
        `is required when databaseMode is external: run \`pulumi config set --secret databaseUrl '<postgres URL>' -s ${stack}\` ` +
          `and commit Pulumi.${stack}.yaml, which then holds the encrypted value`,
      );
    }
    database = {
      mode,
      // Checked inside apply so the value is never printed; only the key is named.
      url: url.apply((value) => checkDatabaseUrl(value, key('databaseUrl'))),
      ssl: bool('databaseSsl'),
      poolMax,
    };
  } else {
    const minCapacity = num('databaseMinCapacity', 0, 256, false);
    const maxCapacity = num('databaseMaxCapacity', 1, 256, false);
    for (const [name, value] of [
      ['databaseMinCapacity', minCapacity],
      ['databaseMaxCapacity', maxCapacity],
    ] as const) {
      if (value * 2 !== Math.floor(value * 2)) {
        throw new ConfigError(key(name), `${value} is not a multiple of 0.5 ACU`);
      }
    }
    if (maxCapacity < minCapacity) {
      throw new ConfigError(key('databaseMaxCapacity'), `${maxCapacity} is below databaseMinCapacity`);
    }
    const engineVersion = raw('databaseEngineVersion') ?? DEFAULTS.databaseEngineVersion;
    if (!/^\d+\.\d+$/.test(engineVersion)) {
      throw new ConfigError(key('databaseEngineVersion'), `"${engineVersion}" is not <major>.<minor>`);
    }
    database = {
      mode,
      minCapacity,
      maxCapacity,
      autoPauseSeconds: minCapacity === 0 ? 300 : undefined,
      engineVersion,
      deletionProtection: bool('databaseDeletionProtection'),
      readerInstances: num('databaseReaderInstances', 0, 15),
      poolMax,
    };
  }

  const maintenanceSchedule = raw('maintenanceSchedule') ?? DEFAULTS.maintenanceSchedule;
  if (
    maintenanceSchedule !== 'off' &&
    !/^rate\(([1-9]\d*) (minute|hour|day)s?\)$/.test(maintenanceSchedule) &&
    !/^cron\(\S+( \S+){5}\)$/.test(maintenanceSchedule)
  ) {
    throw new ConfigError(
      key('maintenanceSchedule'),
      `"${maintenanceSchedule}" is not rate(<n> <minute|hour|day>[s]), cron(<6 fields>) or off`,
    );
  }

  const prefix = stackPrefix(project, stack);
  return {
    project,
    stack,
    prefix,
    sharedCacheRepository: stackPrefix(project, BRANCH_STACKS.main),
    region,
    tags: { project, stack, 'managed-by': 'pulumi' },
    ephemeral: isPreviewStack(stack),
    appEnv: oneOf('appEnv', APP_ENVS),
    logLevel: oneOf('logLevel', LOG_LEVELS),
    architecture,
    platform: PLATFORMS[architecture],
    memorySize: num('memorySize', 128, 10_240),
    timeout,
    reservedConcurrency: reserved === -1 ? undefined : reserved,
    logRetentionDays,
    throttle: { rateLimit, burstLimit },
    corsOrigins,
    alarms: {
      email,
      evaluationPeriods: num('alarmEvaluationPeriods', 1, 60),
      errorsThreshold: num('alarmErrorsThreshold', 1, 100_000),
      throttlesThreshold: num('alarmThrottlesThreshold', 1, 100_000),
      durationP99Ms: Math.round(timeout * 1000 * (durationPercent / 100)),
      api5xxThreshold: num('alarm5xxThreshold', 1, 100_000),
      latencyP99Ms: num('alarmLatencyP99Ms', 10, 30_000),
    },
    domain:
      domainName !== undefined && hostedZoneId !== undefined ? { name: domainName, hostedZoneId } : undefined,
    database,
    image: {
      tag: resolveImageTag(raw('imageTag'), key('imageTag'), context),
      untaggedExpiryDays: num('imageUntaggedExpiryDays', 1, 3650),
    },
    maintenanceSchedule: maintenanceSchedule === 'off' ? undefined : maintenanceSchedule,
  };
}

/** `${project}-${stack}`, lower-cased: the prefix of every physical name, so stacks never collide. */
function stackPrefix(project: string, stack: string): string {
  return `${project}-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

/** Returns the trimmed URL, or fails naming the key — never echoing the value, which holds a password. */
export function checkDatabaseUrl(value: string, fullKey: string): string {
  if (!/^postgres(ql)?:\/\/\S+$/.test(value.trim())) {
    throw new ConfigError(fullKey, 'must be a postgres:// or postgresql:// URL');
  }
  return value.trim();
}

function readCorsOrigins(text: string | undefined, fullKey: string): string[] {
  if (text === undefined || text.trim() === '') return [...DEFAULTS.corsOrigins];
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

const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Every pushed image gets a tag that is never moved (the repository makes tags immutable), so the
 * lifecycle policy — which only expires untagged images — can never remove a digest a function uses.
 * Order: explicit `imageTag` config, the CI commit (GITHUB_SHA), the local git commit, a timestamp.
 */
export function resolveImageTag(
  configured: string | undefined,
  fullKey: string,
  context: ConfigContext,
): string {
  if (configured !== undefined) {
    if (!TAG_PATTERN.test(configured) || configured.startsWith('cache')) {
      throw new ConfigError(fullKey, `"${configured}" is not a valid image tag (and "cache…" is reserved)`);
    }
    return configured;
  }
  const ciSha = context.env.GITHUB_SHA?.trim();
  if (ciSha !== undefined && /^[0-9a-f]{40}$/.test(ciSha)) return `git-${ciSha.slice(0, 12)}`;
  const stamp = context
    .now()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  const head = context.gitHead();
  if (head === undefined) return `local-${stamp}`;
  // A dirty tree's content differs from the commit, so it must not claim the commit's tag.
  return head.dirty ? `git-${head.sha.slice(0, 12)}-dirty-${stamp}` : `git-${head.sha.slice(0, 12)}`;
}

/* c8 ignore start */
// A thin adapter over git; the tag logic it feeds is tested through resolveImageTag.
function gitHead(): { sha: string; dirty: boolean } | undefined {
  try {
    const run = (args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: 'pipe' }).trim();
    return { sha: run(['rev-parse', 'HEAD']), dirty: run(['status', '--porcelain']) !== '' };
  } catch {
    return undefined;
  }
}
/* c8 ignore stop */

/** Loads the current stack's configuration (call once, from index.ts). */
export function loadConfig(): StackConfig {
  const config = new pulumi.Config();
  return readStackConfig(
    { get: (name) => config.get(name), getSecret: (name) => config.getSecret(name) },
    {
      project: pulumi.getProject(),
      stack: pulumi.getStack(),
      region: new pulumi.Config('aws').get('region'),
      env: process.env,
      gitHead,
      now: () => new Date(),
    },
  );
}
