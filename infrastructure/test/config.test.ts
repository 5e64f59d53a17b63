// config.ts: each reader returns its component's settings from the config the engine hands over (the
// stack's values over Pulumi.yaml's defaults), and bad values name the key (stack files: settings-agree).
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import t from 'tap';
import { parse } from 'yaml';
import { loadConfig, readStackConfig, type ConfigContext } from '../config.ts';
import { checkDatabaseUrl } from '../config/database.ts';
import { resolveImageTag } from '../config/image.ts';
import { engineConfig } from './fixtures/program.ts';

const root = new URL('../../', import.meta.url);
const project = parse(readFileSync(new URL('Pulumi.yaml', root), 'utf8')) as {
  name: string;
  main: string;
  runtime: { name: string; options: Record<string, unknown> };
  config: Record<string, { default?: unknown; value?: unknown }>;
};

const context = (overrides: Partial<ConfigContext> = {}): ConfigContext => ({
  project: 'hapi-lambda',
  stack: 'dev',
  region: 'us-east-1',
  env: {},
  gitHead: () => ({ sha: 'a'.repeat(40), dirty: false }),
  now: () => new Date('2026-11-22T10:11:12.345Z'),
  ...overrides,
});
/** Bare keys as the program asks for them, over what the engine adds from Pulumi.yaml. */
const source = (values: Record<string, string>, { projectDefaults = true } = {}) => {
  const prefixed = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [`${project.name}:${key}`, value]),
  );
  const config = projectDefaults ? engineConfig(prefixed) : prefixed;
  const get = (key: string) => config[`${project.name}:${key}`];
  return {
    get,
    getSecret: (key: string) => (get(key) === undefined ? undefined : pulumi.secret(get(key) ?? '')),
  };
};
const read = (values: Record<string, string>, overrides: Partial<ConfigContext> = {}) =>
  readStackConfig(source({ databaseUrl: 'postgres://u:p@h/db', ...values }), context(overrides));
/** Pulumi.yaml's default of a project setting. */
const declared = (key: string) => project.config[key]?.default;

t.test('Pulumi.yaml: ESM program run by Node type stripping', async (t) => {
  t.equal(project.name, 'hapi-lambda');
  t.equal(project.main, 'infrastructure/');
  t.match(project.runtime, { name: 'nodejs', options: { typescript: false } });
});

t.test("each component's settings, from Pulumi.yaml's defaults", async (t) => {
  const config = read({});
  t.match(config, {
    prefix: 'hapi-lambda-dev',
    ephemeral: false,
    tags: { project: 'hapi-lambda', stack: 'dev', 'managed-by': 'pulumi' },
    image: {
      platform: 'linux/arm64',
      tag: `git-${'a'.repeat(12)}`,
      untaggedExpiryDays: declared('imageUntaggedExpiryDays'),
      sharedCacheRepository: undefined,
    },
    function: {
      architecture: declared('architecture'),
      memorySize: declared('memorySize'),
      timeout: declared('timeout'),
      logRetentionDays: declared('logRetentionDays'),
      environment: { APP_ENV: declared('appEnv'), LOG_LEVEL: declared('logLevel'), CORS_ORIGINS: '' },
    },
    api: {
      throttle: { rateLimit: declared('throttleRateLimit'), burstLimit: declared('throttleBurstLimit') },
      logRetentionDays: declared('logRetentionDays'),
    },
    database: { mode: 'external', ssl: declared('databaseSsl'), poolMax: declared('databasePoolMax') },
    maintenance: { scheduleExpression: declared('maintenanceSchedule') },
  });
  t.equal(declared('reservedConcurrency'), -1, 'unreserved by default');
  t.equal(config.function.reservedConcurrency, undefined, '-1 leaves the function unreserved');
  t.equal(config.api.domain, undefined);
  t.equal(config.alarms.email, undefined, "'' mails no one");
  t.equal(
    config.alarms.thresholds['duration-p99'],
    (Number(declared('timeout')) * 1000 * Number(declared('alarmDurationP99Percent'))) / 100,
    'a percentage of the timeout, in ms',
  );
  t.equal(read({ reservedConcurrency: '25' }).function.reservedConcurrency, 25);
  t.equal(read({}, { stack: 'preview-x', project: 'My_Proj' }).prefix, 'my-proj-preview-x');
  t.match(read({}, { stack: 'preview-x' }), {
    ephemeral: true,
    image: { sharedCacheRepository: 'hapi-lambda-prod' },
  });
  t.match(read({ architecture: 'x86_64' }), {
    function: { architecture: 'x86_64' },
    image: { platform: 'linux/amd64' },
  });
  t.equal(
    read({ corsOrigins: '["https://a.example.com","http://localhost:3000"]' }).function.environment
      .CORS_ORIGINS,
    'https://a.example.com,http://localhost:3000',
  );
  t.same(read({ domainName: 'api.example.com', hostedZoneId: 'Z1' }).api.domain, {
    name: 'api.example.com',
    hostedZoneId: 'Z1',
  });
  t.match(
    read({
      databaseMode: 'managed',
      databaseMinCapacity: '0',
      databaseMaxCapacity: '8',
      databaseDeletionProtection: 'true',
    }).database,
    {
      mode: 'managed',
      minCapacity: 0,
      maxCapacity: 8,
      autoPauseSeconds: 300,
      engineVersion: declared('databaseEngineVersion'),
      deletionProtection: true,
      readerInstances: 0,
    },
  );
  t.match(read({ databaseMode: 'managed', databaseReaderInstances: '1' }).database, { readerInstances: 1 });
  // 0.5–4 ACU: 823 connections; the proxy may open 89 % (732), so its alarm starts above that, not at 80 % (658).
  t.match(read({ databaseMode: 'managed', databaseMaxCapacity: '4' }).alarms.databaseThresholds, {
    'db-connections': 658,
  });
  t.match(
    read({ databaseMode: 'managed', databaseMaxCapacity: '4', databaseProxy: 'true' }).alarms
      .databaseThresholds,
    {
      'db-connections': 733,
    },
  );
  for (const schedule of ['rate(1 hour)', 'rate(12 hours)', 'cron(0 3 * * ? *)']) {
    t.same(read({ maintenanceSchedule: schedule }).maintenance, { scheduleExpression: schedule });
  }
  t.equal(read({ maintenanceSchedule: 'off' }).maintenance, undefined, 'off turns it off');
});

t.test('a setting without a value fails naming it: Pulumi.yaml is the only home of defaults', async (t) => {
  t.throws(() => readStackConfig(source({}, { projectDefaults: false }), context()), {
    name: 'ConfigError',
    message:
      /^Invalid stack configuration "hapi-lambda:\w+": is not set \(Pulumi.yaml declares its default\)$/,
  });
  t.throws(() => read({ memorySize: ' ' }), { message: /"hapi-lambda:memorySize": is not set/ }, 'blank');
});

t.test('the database URL is validated without being printed', async (t) => {
  t.equal(checkDatabaseUrl(' postgresql://u:p@h/db ', 'k'), 'postgresql://u:p@h/db');
  const failure = t.throws(() => checkDatabaseUrl('mysql://u:hunter2@h/db', 'hapi-lambda:databaseUrl'));
  t.match(String(failure), /hapi-lambda:databaseUrl.*postgres/);
  t.notMatch(String(failure), /hunter2/);
});

t.test('a wrong value fails with a message naming the key', async (t) => {
  const cases: [Record<string, string>, Partial<ConfigContext>, RegExp][] = [
    [
      { databaseMode: 'managed', databaseMinCapacity: 'half' },
      {},
      /"hapi-lambda:databaseMinCapacity": "half" is not a number/,
    ],
    [{}, { region: undefined }, /"aws:region": is required/],
    [{}, { region: ' ' }, /"aws:region"/],
    [{ architecture: 'arm' }, {}, /"hapi-lambda:architecture": "arm" is not one of arm64, x86_64/],
    [{ memorySize: 'lots' }, {}, /"hapi-lambda:memorySize": "lots" is not an integer/],
    [{ memorySize: '64' }, {}, /"hapi-lambda:memorySize": 64 is outside 128..10240/],
    [{ timeout: '1.5' }, {}, /"hapi-lambda:timeout".*integer/],
    [{ logRetentionDays: '10' }, {}, /"hapi-lambda:logRetentionDays": 10 is not a CloudWatch retention/],
    [{ throttleRateLimit: '1000', throttleBurstLimit: '10' }, {}, /"hapi-lambda:throttleBurstLimit"/],
    [{ corsOrigins: 'https://a.com' }, {}, /"hapi-lambda:corsOrigins": must be a list/],
    [{ corsOrigins: '[1]' }, {}, /"hapi-lambda:corsOrigins": must be a list of origin strings/],
    [{ corsOrigins: '["https://a.com/"]' }, {}, /"hapi-lambda:corsOrigins": "https:\/\/a.com\/"/],
    [{ alarmEmail: 'ops' }, {}, /"hapi-lambda:alarmEmail"/],
    [{ domainName: 'API.example.com', hostedZoneId: 'Z' }, {}, /"hapi-lambda:domainName"/],
    [{ domainName: 'api.example.com' }, {}, /"hapi-lambda:hostedZoneId": domainName and hostedZoneId/],
    [{ hostedZoneId: 'Z1' }, {}, /"hapi-lambda:domainName": domainName and hostedZoneId/],
    [{ databaseMode: 'sqlite' }, {}, /"hapi-lambda:databaseMode"/],
    [{ databaseSsl: 'yes' }, {}, /"hapi-lambda:databaseSsl": "yes" is not true or false/],
    [
      { databaseMode: 'managed', databaseMinCapacity: '0.7' },
      {},
      /"hapi-lambda:databaseMinCapacity".*0.5 ACU/,
    ],
    [
      { databaseMode: 'managed', databaseMinCapacity: '4', databaseMaxCapacity: '2' },
      {},
      /"hapi-lambda:databaseMaxCapacity"/,
    ],
    [{ databaseMode: 'managed', databaseEngineVersion: '16' }, {}, /"hapi-lambda:databaseEngineVersion"/],
    [
      { databaseMode: 'managed', databaseMinCapacity: '0', databaseProxy: 'true' },
      {},
      /"hapi-lambda:databaseProxy": needs databaseMinCapacity 0\.5 or more: a proxy keeps connections open to the writer/,
    ],
    [
      { databaseMode: 'managed', databaseReaderInstances: '16' },
      {},
      /"hapi-lambda:databaseReaderInstances": 16 is outside 0..15/,
    ],
    [{ maintenanceSchedule: 'daily' }, {}, /"hapi-lambda:maintenanceSchedule": "daily" is not rate/],
    [{ maintenanceSchedule: 'rate(0 days)' }, {}, /"hapi-lambda:maintenanceSchedule"/],
    [{ maintenanceSchedule: 'cron(0 3 * *)' }, {}, /"hapi-lambda:maintenanceSchedule"/],
    [{ imageTag: 'cache' }, {}, /"hapi-lambda:imageTag"/],
    [{ imageTag: 'bad tag' }, {}, /"hapi-lambda:imageTag"/],
  ];
  for (const [values, overrides, message] of cases) {
    t.throws(() => read(values, overrides), { name: 'ConfigError', message }, JSON.stringify(values));
  }
  t.throws(
    () => readStackConfig(source({}), context()),
    {
      message:
        /"hapi-lambda:databaseUrl": is required when databaseMode is external: run `pulumi config set --secret databaseUrl '<postgres URL>' -s dev` and commit Pulumi\.dev\.yaml/,
    },
    'external mode needs the secret URL',
  );
  t.match(
    readStackConfig(source({ databaseMode: 'managed' }), context()).database,
    { mode: 'managed', autoPauseSeconds: undefined },
    'managed mode does not',
  );
});

t.test('image tags: explicit, CI commit, local commit (dirty or not), timestamp', async (t) => {
  const tag = (configured: string | undefined, overrides: Partial<ConfigContext>) =>
    resolveImageTag(configured, 'hapi-lambda:imageTag', context(overrides));
  t.equal(tag('v1.2.3', {}), 'v1.2.3');
  t.equal(
    tag(undefined, { env: { GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567' } }),
    'git-0123456789ab',
  );
  t.equal(tag(undefined, { env: { GITHUB_SHA: 'not-a-sha' } }), `git-${'a'.repeat(12)}`);
  t.equal(
    tag(undefined, { gitHead: () => ({ sha: 'b'.repeat(40), dirty: true }) }),
    `git-${'b'.repeat(12)}-dirty-20261122101112`,
  );
  t.equal(tag(undefined, { gitHead: () => undefined }), 'local-20261122101112');
});

t.test('loadConfig reads the running stack through pulumi.Config', async (t) => {
  const refuse = () => {
    throw new Error('config tests create no resources');
  };
  await pulumi.runtime.setMocks({ newResource: refuse, call: refuse }, 'hapi-lambda', 'prod', false);
  pulumi.runtime.setAllConfig(
    engineConfig({
      'aws:region': 'eu-west-1',
      'hapi-lambda:databaseUrl': 'postgres://u:p@db.example.com/app',
    }),
  );
  // Without imageTag or GITHUB_SHA the tag comes from the local checkout (or a timestamp without git).
  const ciSha = process.env.GITHUB_SHA;
  delete process.env.GITHUB_SHA;
  t.teardown(() => {
    if (ciSha !== undefined) process.env.GITHUB_SHA = ciSha;
  });
  t.match(loadConfig(), {
    prefix: 'hapi-lambda-prod',
    region: 'eu-west-1',
    database: { mode: 'external', ssl: true },
    image: { tag: /^(git-[0-9a-f]{12}(-dirty-\d{14})?|local-\d{14})$/ },
  });
});
