// A pull-request preview stack with no stack file: Pulumi.yaml defaults, x86_64, disposable resources.
import t from 'tap';
import { DEFAULTS } from '../config.ts';
import { assertCommon } from './fixtures/assertions.ts';
import { runProgram } from './fixtures/program.ts';

const DATABASE_URL = 'postgresql://preview:pr3view-pw@db.example.com/app?sslmode=require';
const run = await runProgram(
  'preview-feature-login',
  {
    'hapi-lambda:databaseUrl': DATABASE_URL,
    'hapi-lambda:architecture': 'x86_64',
    'hapi-lambda:imageTag': 'pr-42',
  },
  ['hapi-lambda:databaseUrl'],
);

await assertCommon(t, run, {
  prefix: 'hapi-lambda-preview-feature-login',
  architecture: 'x86_64',
  platform: 'linux/amd64',
  memorySize: DEFAULTS.memorySize,
  timeout: DEFAULTS.timeout,
  reservedConcurrency: -1,
  logRetentionDays: DEFAULTS.logRetentionDays,
  rateLimit: DEFAULTS.throttleRateLimit,
  burstLimit: DEFAULTS.throttleBurstLimit,
  corsOrigins: [],
  alarms: {
    errors: DEFAULTS.alarmErrorsThreshold,
    throttles: DEFAULTS.alarmThrottlesThreshold,
    durationP99Ms: (DEFAULTS.timeout * 1000 * DEFAULTS.alarmDurationP99Percent) / 100,
    api5xx: DEFAULTS.alarm5xxThreshold,
    latencyP99Ms: DEFAULTS.alarmLatencyP99Ms,
    periods: DEFAULTS.alarmEvaluationPeriods,
  },
  imageTag: 'pr-42',
  secrets: [DATABASE_URL, 'pr3view-pw'],
});

t.test('disposable: the secret is deleted without a recovery window', async (t) => {
  t.match(run.one('aws:secretsmanager/secret:Secret').inputs, { recoveryWindowInDays: 0 });
  t.match(run.one('aws:lambda/function:Function').inputs, {
    environment: { variables: { APP_ENV: 'dev', LOG_LEVEL: 'info' } },
  });
});
