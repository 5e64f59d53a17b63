// A pull-request preview stack with no stack file: Pulumi.yaml defaults, x86_64, and a managed database
// that asks for deletion protection — which a disposable stack overrides.
import t from 'tap';
import { DEFAULTS } from '../config/defaults.ts';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon } from './fixtures/assertions.ts';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const run = await runProgram(SCENARIOS['preview-stack'].stack, SCENARIOS['preview-stack'].config);

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
    periods: DEFAULTS.alarmEvaluationPeriods,
    thresholds: {
      errors: DEFAULTS.alarmErrorsThreshold,
      throttles: DEFAULTS.alarmThrottlesThreshold,
      'duration-p99': (DEFAULTS.timeout * 1000 * DEFAULTS.alarmDurationP99Percent) / 100,
      'api-5xx': DEFAULTS.alarm5xxThreshold,
      'api-latency-p99': DEFAULTS.alarmLatencyP99Ms,
    },
  },
  imageTag: 'pr-42',
  cacheFrom: ['hapi-lambda-preview-feature-login', 'hapi-lambda-prod'],
  maintenanceSchedule: 'rate(1 day)',
  secrets: [],
});

t.test('disposable: nothing survives destroy; the idle cluster pauses', async (t) => {
  t.match(run.one('aws:secretsmanager/secret:Secret').inputs, { recoveryWindowInDays: 0 });
  t.match(run.one('aws:rds/cluster:Cluster').inputs, {
    deletionProtection: false,
    skipFinalSnapshot: true,
    backupRetentionPeriod: 1,
    serverlessv2ScalingConfiguration: { minCapacity: 0, secondsUntilAutoPause: 300 },
  });
  t.equal(run.one('aws:rds/cluster:Cluster').inputs.finalSnapshotIdentifier, undefined);
  t.match(run.one('aws:lambda/function:Function').inputs, {
    environment: { variables: { APP_ENV: 'dev', LOG_LEVEL: 'info' } },
  });
});

assertEngineGraph(t, run, 'preview-stack');
