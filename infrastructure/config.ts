// Reads the stack configuration once into a typed, validated object; nothing else in the program reads
// Pulumi config or the environment. Each reader in config/ returns its component's settings as they are.
import { execFileSync } from 'node:child_process';
import * as pulumi from '@pulumi/pulumi';
import { BRANCH_STACKS, isPreviewStack } from './branch-stack.ts';
import { PLATFORMS } from './platforms.ts';
import { readAlarmSettings, type AlarmSettings } from './config/alarms.ts';
import { budgetedReservedConcurrency, readDatabaseConfig, type DatabaseConfig } from './config/database.ts';
import { readDeploymentSettings, type DeploymentSettings } from './config/deployment.ts';
import { readFunctionSettings, type FunctionSettings } from './config/function.ts';
import { readHttpApiSettings, type HttpApiSettings } from './config/http-api.ts';
import { readImageSettings, type ImageSettings, type TagSources } from './config/image.ts';
import { readMaintenanceSettings, type MaintenanceSettings } from './config/maintenance.ts';
import { ConfigError, readSettings, type ConfigSource } from './config/settings.ts';
import { readSnapStart } from './config/snapstart.ts';

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
  /** Each component's settings as its Args take them; no maintenance schedule when it is `off`. */
  image: ImageSettings;
  function: FunctionSettings;
  api: HttpApiSettings;
  database: DatabaseConfig;
  maintenance: MaintenanceSettings | undefined;
  alarms: AlarmSettings;
  /** How `live` moves to a new version, its provisioned concurrency, the versions kept. */
  deployment: DeploymentSettings;
  /** SnapStart on published versions (config/snapstart.ts). */
  snapStart: boolean;
}

export interface ConfigContext extends TagSources {
  project: string;
  stack: string;
  region: string | undefined;
}

/** Reads config through `source`; pure apart from the callbacks in `context`. */
export function readStackConfig(source: ConfigSource, context: ConfigContext): StackConfig {
  const { project, stack } = context;
  const region = context.region?.trim();
  if (region === undefined || region === '') {
    throw new ConfigError('aws:region', 'is required (pulumi config set aws:region <region>)');
  }
  const settings = readSettings(source, project);
  const database = readDatabaseConfig(settings, stack);
  const unbudgeted = readFunctionSettings(settings);
  const fn = {
    ...unbudgeted,
    reservedConcurrency: budgetedReservedConcurrency(
      settings,
      database,
      unbudgeted.reservedConcurrency,
      isPreviewStack(stack),
    ),
  };
  const ephemeral = isPreviewStack(stack);
  const deployment = readDeploymentSettings(settings, fn.reservedConcurrency);
  return {
    project,
    stack,
    prefix: stackPrefix(project, stack),
    region,
    tags: { project, stack, 'managed-by': 'pulumi' },
    ephemeral,
    image: readImageSettings(settings, context, {
      platform: PLATFORMS[fn.architecture],
      // Preview stacks start with an empty repository: prod's cache makes their first build fast.
      sharedCacheRepository: ephemeral ? stackPrefix(project, BRANCH_STACKS.main) : undefined,
    }),
    function: fn,
    api: readHttpApiSettings(settings, fn.logRetentionDays),
    database,
    maintenance: readMaintenanceSettings(settings),
    alarms: readAlarmSettings(settings, fn.timeout, database),
    deployment,
    snapStart: readSnapStart(settings, deployment),
  };
}

/** `${project}-${stack}`, lower-cased: the prefix of every physical name, so stacks never collide. */
function stackPrefix(project: string, stack: string): string {
  return `${project}-${stack}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
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
