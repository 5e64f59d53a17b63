// The dev stack (Pulumi.dev.yaml, external database URL from secret config).
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon } from './fixtures/assertions.ts';
import { runProgram, secretPlaintext } from './fixtures/program.ts';
import { DEV_DATABASE_URL as DATABASE_URL, SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.dev;
const run = await runProgram(stack, config, [...secretKeys]);

await assertCommon(t, run, {
  prefix: 'hapi-lambda-dev',
  architecture: 'arm64',
  platform: 'linux/arm64',
  memorySize: 512,
  timeout: 15,
  reservedConcurrency: -1,
  logRetentionDays: 14,
  rateLimit: 20,
  burstLimit: 40,
  corsOrigins: ['http://localhost:3000'],
  alarms: {
    periods: 3,
    thresholds: { errors: 10, throttles: 1, 'duration-p99': 12_000, 'api-5xx': 5, 'api-latency-p99': 5000 },
  },
  imageTag: 'git-0123456789ab',
  cacheFrom: ['hapi-lambda-dev'],
  maintenanceSchedule: 'rate(1 day)',
  secrets: [DATABASE_URL, 's3cr3t-pa55'],
});

t.test('external database: the URL goes to Secrets Manager only; no VPC', async (t) => {
  const version = run.one('aws:secretsmanager/secretVersion:SecretVersion');
  t.equal(secretPlaintext(version.inputs.secretString), DATABASE_URL, 'stored, and marked secret in state');
  t.equal(run.ofType('awsx:ec2:Vpc').length, 0);
  t.equal(run.ofType('aws:rds/cluster:Cluster').length, 0);
  const fn = run.one('aws:lambda/function:Function').inputs;
  t.equal(fn.vpcConfig, undefined);
  t.match(fn.environment, {
    variables: { APP_ENV: 'dev', LOG_LEVEL: 'debug', DATABASE_SSL: 'true', DATABASE_POOL_MAX: '2' },
  });
  t.match(run.one('aws:secretsmanager/secret:Secret').inputs, { recoveryWindowInDays: 7 });
});

t.test('no alarm e-mail, no custom domain: execute-api URL', async (t) => {
  t.equal(run.ofType('aws:sns/topicSubscription:TopicSubscription').length, 0);
  t.equal(run.ofType('aws:acm/certificate:Certificate').length, 0);
  t.equal(run.outputs.apiUrl, 'https://api0123.execute-api.us-east-1.amazonaws.com/');
  t.equal(run.outputs.functionName, 'hapi-lambda-dev-api');
});

assertEngineGraph(t, run, 'dev');
