// rollout.mjs and prune-versions.mjs as the deploy workflow runs them, with the real AWS SDK pointed at a
// loopback stand-in of Lambda, CodeDeploy and CloudWatch: exit status and what the user reads.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { runScript } from '../fixtures/run-script.ts';
import { fakeAws, type FakeAwsOptions } from './fixtures/fake-aws.ts';
import type { WorkflowStep } from './fixtures/workflow-step.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const FUNCTION = 'hapi-lambda-prod-api';
const ERRORS_ALARM = 'hapi-lambda-prod-api-errors';
const LATENCY_ALARM = 'hapi-lambda-prod-api-latency';

async function start(t: Test, options: Partial<FakeAwsOptions> = {}) {
  const aws = await fakeAws({
    functionName: FUNCTION,
    versions: ['$LATEST', '5', '6', '7', '8'],
    aliases: { live: { FunctionVersion: '7' } },
    ...options,
  });
  t.teardown(aws.close);
  return aws;
}

function run(script: string, url: string, env: Record<string, string> = {}) {
  return runScript(
    `.github/scripts/${script}`,
    [],
    {
      AWS_ENDPOINT_URL: url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_EC2_METADATA_DISABLED: 'true',
      ROLLOUT_FUNCTION: FUNCTION,
      ROLLOUT_TARGET_VERSION: '8',
      ...env,
    },
    ROOT,
  );
}

const CANARY = 'CodeDeployDefault.LambdaCanary10Percent5Minutes';
const LINEAR = 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes';
const CONFIGS = {
  [CANARY]: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
  [LINEAR]: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 10 } },
};
const SHIFTING = {
  ROLLOUT_APPLICATION: 'hapi-lambda-prod-deploy',
  ROLLOUT_DEPLOYMENT_GROUP: 'hapi-lambda-prod-deploy-live',
  ROLLOUT_ALARMS: JSON.stringify([ERRORS_ALARM, LATENCY_ALARM]),
  ROLLOUT_POLL_SECONDS: '0.02',
  SMOKE_API_KEY: 'k-123',
};

void t.test('success: smoke-checks the new version, then CodeDeploy shifts live to it', async (t) => {
  const aws = await start(t, {
    steps: [
      { status: 'InProgress', weight: 0.1 },
      { status: 'InProgress', weight: 0.1 },
      { status: 'Succeeded' },
    ],
    deploymentConfigs: CONFIGS,
  });
  const result = await run('rollout.mjs', aws.url, { ...SHIFTING, ROLLOUT_DEPLOYMENT_CONFIG: CANARY });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'rollout: hapi-lambda-prod-api:live is on version 7; new version 8');
  t.match(result.stdout, '✓ version 8: GET /health → 200');
  t.match(result.stdout, '✓ version 8: GET /v1/books?limit=1 → 200');
  t.match(result.stdout, 'deployment d-TEST00001: version 7 → 8, watched for up to 15 min');
  t.match(result.stdout, 'InProgress, live on version 7 with 10 % on version 8');
  t.match(result.stdout, 'deployment d-TEST00001 Succeeded: live is on version 8');
  // The version is invoked directly, before any traffic moves; the read carries the key.
  t.same(aws.calls.slice(0, 6), [
    'Lambda GET /2015-03-31/functions/hapi-lambda-prod-api/aliases/live',
    'Invoke 8 /health',
    'Invoke 8 /v1/books?limit=1 (key)',
    'ListDeployments',
    'GetDeploymentConfig',
    'CreateDeployment',
  ]);
  const [spec] = aws.appSpecs;
  t.same(JSON.parse(spec?.content ?? '{}'), {
    version: 0,
    Resources: [
      {
        service: {
          Type: 'AWS::Lambda::Function',
          Properties: { Name: FUNCTION, Alias: 'live', CurrentVersion: '7', TargetVersion: '8' },
        },
      },
    ],
  });
  t.equal(
    spec?.sha256,
    createHash('sha256')
      .update(spec?.content ?? '')
      .digest('hex'),
  );
  t.same(aws.aliases.live, { FunctionVersion: '8' });
});

void t.test('a new version that fails its smoke check never gets traffic', async (t) => {
  const aws = await start(t, {
    answer: (version, path) =>
      path === '/health'
        ? undefined
        : { statusCode: 503, body: JSON.stringify({ success: false, traceId: 't-9', data: null }) },
  });
  const result = await run('rollout.mjs', aws.url, SHIFTING);
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    'rollout: FAILED: version 8: GET /v1/books?limit=1: expected statusCode 200, got 503',
  );
  t.notOk(aws.calls.includes('CreateDeployment'), 'no deployment started');
  t.same(aws.aliases.live, { FunctionVersion: '7' });
});

void t.test('rollback on alarm: the job fails naming the alarm that fired and where live is', async (t) => {
  const aws = await start(t, {
    steps: [
      { status: 'InProgress', weight: 0.1 },
      {
        status: 'Stopped',
        errorInformation: {
          code: 'ALARM_ACTIVE',
          message: `One or more alarms have been activated: ${ERRORS_ALARM}`,
        },
        rollbackDeploymentId: 'd-TEST00002',
      },
    ],
    alarms: {
      [ERRORS_ALARM]: {
        state: 'ALARM',
        reason: 'Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (0.0).',
        firedAfter: 90,
      },
      [LATENCY_ALARM]: { state: 'OK' },
    },
  });
  const result = await run('rollout.mjs', aws.url, { ...SHIFTING, GITHUB_ACTIONS: 'true' });
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    /rollout: FAILED: deployment d-TEST00001 Stopped: alarm hapi-lambda-prod-api-errors fired at \d{4}-\d\d-\d\dT[\d:.]+Z \(Threshold Crossed: 1 datapoint \[3\.0\] was greater than the threshold \(0\.0\)\.\)\. CodeDeploy rolled back \(rollback deployment d-TEST00002 Succeeded\)\. live is on version 7 \(was 7, target 8\)\./,
  );
  t.notMatch(result.stderr, LATENCY_ALARM, 'only the alarm that fired is named');
  t.match(
    result.stdout,
    /^::error title=Rollout failed::deployment d-TEST00001 Stopped: alarm hapi-lambda-prod-api-errors/m,
  );
  t.ok(aws.calls.includes('DescribeAlarmHistory'));
});

void t.test(
  'rollback on alarm: the job waits for the rollback deployment, so live and the state agree',
  async (t) => {
    const aws = await start(t, {
      steps: [
        { status: 'InProgress', weight: 0.1 },
        {
          status: 'Stopped',
          errorInformation: { code: 'ALARM_ACTIVE', message: `alarms activated: ${ERRORS_ALARM}` },
          rollbackDeploymentId: 'd-TEST00002',
        },
      ],
      alarms: { [ERRORS_ALARM]: { state: 'ALARM', reason: '3 errors', firedAfter: 60 } },
      rollbackPolls: 2,
    });
    const result = await run('rollout.mjs', aws.url, SHIFTING);
    t.equal(result.code, 1);
    t.match(result.stderr, 'CodeDeploy rolled back (rollback deployment d-TEST00002 Succeeded).');
    t.match(result.stderr, 'live is on version 7 (was 7, target 8).');
    t.same(aws.aliases.live, { FunctionVersion: '7' });
  },
);

void t.test('a rollback that does not finish in time: the job says live is still split', async (t) => {
  const aws = await start(t, {
    steps: [
      { status: 'InProgress', weight: 0.1 },
      {
        status: 'Failed',
        errorInformation: { code: 'ALARM_ACTIVE', message: 'alarms activated' },
        rollbackDeploymentId: 'd-TEST00002',
      },
    ],
    rollbackPolls: 1_000_000,
  });
  const result = await run('rollout.mjs', aws.url, { ...SHIFTING, ROLLOUT_ROLLBACK_WAIT_SECONDS: '0.1' });
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    '(rollback deployment d-TEST00002 InProgress). live is on version 7 with 10 % on version 8 after 0.1 s of waiting for the rollback',
  );
});

void t.test('an alarm back to OK by the time the job looks is still named from its history', async (t) => {
  const aws = await start(t, {
    steps: [{ status: 'Failed', errorInformation: { code: 'ALARM_ACTIVE', message: 'alarms activated' } }],
    alarms: {
      [ERRORS_ALARM]: { state: 'OK' },
      [LATENCY_ALARM]: { state: 'OK', reason: 'p99 over 3 s', firedAfter: 30 },
    },
  });
  const result = await run('rollout.mjs', aws.url, SHIFTING);
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    /deployment d-TEST00001 Failed: alarm hapi-lambda-prod-api-latency fired at \S+ \(p99 over 3 s\)/,
  );
});

void t.test('an alarm already in ALARM before the deployment started is named by its state', async (t) => {
  const aws = await start(t, {
    steps: [{ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE', message: 'alarms activated' } }],
    alarms: { [ERRORS_ALARM]: { state: 'ALARM', reason: '7 errors' }, [LATENCY_ALARM]: { state: 'OK' } },
  });
  const result = await run('rollout.mjs', aws.url, SHIFTING);
  t.equal(result.code, 1);
  t.match(result.stderr, 'Stopped: alarm hapi-lambda-prod-api-errors fired (in ALARM now: 7 errors).');
  t.ok(aws.calls.includes('DescribeAlarms'));
});

void t.test('stopped by hand: no alarm fired, the job says what CodeDeploy said', async (t) => {
  const aws = await start(t, {
    steps: [
      { status: 'InProgress', weight: 0.1 },
      {
        status: 'Stopped',
        errorInformation: { code: 'MANUAL_STOP', message: 'The deployment was stopped by a user.' },
        rollbackDeploymentId: 'd-TEST00003',
      },
    ],
    alarms: { [ERRORS_ALARM]: { state: 'OK' }, [LATENCY_ALARM]: { state: 'OK' } },
  });
  const result = await run('rollout.mjs', aws.url, SHIFTING);
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    'rollout: FAILED: deployment d-TEST00001 Stopped: no alarm of the deployment group fired; CodeDeploy says MANUAL_STOP: The deployment was stopped by a user.. CodeDeploy rolled back (rollback deployment d-TEST00003 Succeeded). live is on version 7',
  );
});

void t.test('timeout: the job stops the deployment with rollback and says so', async (t) => {
  const aws = await start(t, { steps: [{ status: 'InProgress', weight: 0.1 }] });
  const result = await run('rollout.mjs', aws.url, { ...SHIFTING, ROLLOUT_TIMEOUT_MINUTES: '0.005' });
  t.equal(result.code, 1);
  t.same(aws.stops, [{ deploymentId: 'd-TEST00001', autoRollbackEnabled: true }]);
  t.match(
    result.stderr,
    'rollout: FAILED: deployment d-TEST00001 did not finish within 0.005 min (still InProgress); stopped it with automatic rollback (Pending: Stopping the deployment and rolling back). live is on version 7 (was 7, target 8).',
  );
});

void t.test('a shift longer than the job waits is refused before it starts', async (t) => {
  const aws = await start(t, { deploymentConfigs: CONFIGS });
  const env = { ...SHIFTING, ROLLOUT_DEPLOYMENT_CONFIG: LINEAR, ROLLOUT_MAX_MINUTES: '60' };
  const result = await run('rollout.mjs', aws.url, env);
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    `rollout: FAILED: a shift with ${LINEAR} takes up to 110 min, more than this job waits (ROLLOUT_MAX_MINUTES 60)`,
  );
  t.notOk(aws.calls.includes('CreateDeployment'));
});

void t.test('all-at-once: only the version smoke check, no CodeDeploy call', async (t) => {
  const aws = await start(t, { aliases: { live: { FunctionVersion: '8' } } });
  const result = await run('rollout.mjs', aws.url, {
    SMOKE_API_KEY: '',
    ROLLOUT_TRAFFIC_SHIFT: 'all-at-once',
  });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'rollout: all-at-once stack: pulumi up moved live itself; no traffic shift');
  t.same(aws.calls, [
    'Lambda GET /2015-03-31/functions/hapi-lambda-prod-api/aliases/live',
    'Invoke 8 /health',
    'Invoke 8 /health/ready',
  ]);
});

void t.test('live still split by an earlier deployment: refused before starting another', async (t) => {
  const aws = await start(t, {
    aliases: { live: { FunctionVersion: '6', RoutingConfig: { AdditionalVersionWeights: { '7': 0.1 } } } },
  });
  const result = await run('rollout.mjs', aws.url, SHIFTING);
  t.equal(result.code, 1);
  t.match(result.stderr, 'live still splits traffic (version 6 with 10 % on version 7)');
  t.notOk(aws.calls.includes('CreateDeployment'));
});

// A re-run of the deploy job after a rollback publishes nothing new: the same version would get traffic again.
const ROLLED_BACK = {
  deploymentId: 'd-EARLIER08',
  status: 'Stopped',
  description: 'Deploy run 41 (abc123): version 7 → 8',
  rollbackDeploymentId: 'd-ROLLBACK8',
  errorInformation: {
    code: 'ALARM_ACTIVE',
    message: `One or more alarms have been activated: ${ERRORS_ALARM}`,
  },
};
const OTHER_FAILURES = [
  {
    deploymentId: 'd-OTHER0001',
    status: 'Failed',
    description: 'version 6 → 7',
    rollbackDeploymentId: 'd-R1',
  },
  { deploymentId: 'd-OTHER0002', status: 'Failed', description: 'version 7 → 8' },
];

void t.test('a version CodeDeploy rolled back is not shifted to again', async (t) => {
  const aws = await start(t, { history: [...OTHER_FAILURES, ROLLED_BACK], deploymentConfigs: CONFIGS });
  const result = await run('rollout.mjs', aws.url, { ...SHIFTING, ROLLOUT_DEPLOYMENT_CONFIG: CANARY });
  t.equal(result.code, 1);
  t.match(
    result.stderr,
    `rollout: FAILED: version 8 was rolled back by deployment d-EARLIER08 at 2023-11-14T22:13:20.000Z ` +
      `(One or more alarms have been activated: ${ERRORS_ALARM}): shifting to it again would repeat the failure`,
  );
  t.match(result.stderr, 'ROLLOUT_RETRY_ROLLED_BACK=true');
  t.notOk(aws.calls.includes('CreateDeployment'));
  // Paged through: the match is on the second page.
  t.equal(aws.calls.filter((call) => call === 'ListDeployments').length, 2);
});

void t.test('rolled back, and asked to retry: shifts again, saying so', async (t) => {
  const aws = await start(t, { history: [ROLLED_BACK], deploymentConfigs: CONFIGS });
  const result = await run('rollout.mjs', aws.url, {
    ...SHIFTING,
    ROLLOUT_DEPLOYMENT_CONFIG: CANARY,
    ROLLOUT_RETRY_ROLLED_BACK: 'true',
  });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'version 8 was rolled back by deployment d-EARLIER08');
  t.match(result.stdout, 'shifting to it again as ROLLOUT_RETRY_ROLLED_BACK asks');
  t.ok(aws.calls.includes('CreateDeployment'));
});

void t.test('failures without a rollback, or of other versions, do not refuse', async (t) => {
  const aws = await start(t, { history: OTHER_FAILURES, deploymentConfigs: CONFIGS });
  const result = await run('rollout.mjs', aws.url, {
    ...SHIFTING,
    ROLLOUT_DEPLOYMENT_CONFIG: CANARY,
    ROLLOUT_DESCRIPTION: 'Deploy run 42 (def456)',
  });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'deployment d-TEST00001: version 7 → 8');
  // What the next run reads back to recognise this deployment's target.
  t.same(aws.descriptions, ['Deploy run 42 (def456): version 7 → 8']);
});

void t.test('bad settings are named', async (t) => {
  const aws = await start(t);
  const half = await run('rollout.mjs', aws.url, { ROLLOUT_APPLICATION: 'app' });
  t.equal(half.code, 1);
  t.match(half.stderr, 'ROLLOUT_APPLICATION and ROLLOUT_DEPLOYMENT_GROUP are set together or not at all');
  const version = await run('rollout.mjs', aws.url, { ROLLOUT_TARGET_VERSION: '$LATEST' });
  t.match(version.stderr, 'ROLLOUT_TARGET_VERSION must be a version number, got "$LATEST"');
  const missing = await run('rollout.mjs', aws.url, { ROLLOUT_FUNCTION: 'hapi-lambda-prod-other' });
  t.match(
    missing.stderr,
    'rollout: FAILED: GetAlias hapi-lambda-prod-other:live failed: ResourceNotFoundException',
  );
  t.same(
    aws.calls.filter((c) => c.startsWith('Invoke')),
    [],
  );
  const canaryWithout = await run('rollout.mjs', aws.url, { ROLLOUT_TRAFFIC_SHIFT: 'canary' });
  t.match(canaryWithout.stderr, 'the stack shifts traffic "canary" but exports no CodeDeploy application');
  const allWith = await run('rollout.mjs', aws.url, { ...SHIFTING, ROLLOUT_TRAFFIC_SHIFT: 'all-at-once' });
  t.match(allWith.stderr, 'the stack shifts traffic "all-at-once" but also exports a CodeDeploy application');
  // All-at-once: pulumi up moves live; finding it elsewhere is a failed deploy, not a pass.
  const notMoved = await run('rollout.mjs', aws.url, { ROLLOUT_TRAFFIC_SHIFT: 'all-at-once' });
  t.equal(notMoved.code, 1);
  t.match(notMoved.stderr, 'all-at-once stack, but live is on version 7, not the new version 8');
});

void t.test('first deploy of a shifting stack: the alias was created on the new version', async (t) => {
  const aws = await start(t, { aliases: { live: { FunctionVersion: '8' } } });
  const result = await run('rollout.mjs', aws.url, { ...SHIFTING, ROLLOUT_TRAFFIC_SHIFT: 'canary' });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'rollout: live already runs version 8; nothing to shift');
  t.notOk(aws.calls.includes('CreateDeployment'));
});

// ---- pruning ---------------------------------------------------------------------------------------

const MANY = ['$LATEST', ...Array.from({ length: 14 }, (_, i) => String(i + 1))];

void t.test('prune: keeps the newest N, live, its split, other aliases and the target', async (t) => {
  const aws = await start(t, {
    versions: MANY,
    aliases: {
      live: { FunctionVersion: '4', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } },
      pinned: { FunctionVersion: '1' },
    },
  });
  // The target (6) is not among the newest three here; it stays all the same.
  const result = await run('prune-versions.mjs', aws.url, { PRUNE_KEEP: '3', ROLLOUT_TARGET_VERSION: '6' });
  t.equal(result.code, 0, result.stderr);
  t.same(aws.versions, ['$LATEST', '1', '2', '4', '6', '12', '13', '14']);
  t.match(
    result.stdout,
    'prune: hapi-lambda-prod-api: 14 published version(s), keeping the newest 3 and 1, 2, 4, 6 (aliases, traffic split, this deploy); deleting 7',
  );
  t.match(result.stdout, '✓ deleted version 11');
  // Never even asked: Lambda would refuse the alias-held ones, but not the target.
  t.same(
    aws.calls.filter((call) => call.includes('DELETE')).map((call) => call.replace(/.*Qualifier=/, '')),
    ['11', '10', '9', '8', '7', '5', '3'],
  );
});

void t.test(
  'prune: a version Lambda refuses to delete stays, with a warning, and the job passes',
  async (t) => {
    const aws = await start(t, {
      versions: MANY,
      aliases: { live: { FunctionVersion: '14' } },
      inUse: ['3'],
    });
    const result = await run('prune-versions.mjs', aws.url, {
      PRUNE_KEEP: '5',
      ROLLOUT_TARGET_VERSION: '14',
      GITHUB_ACTIONS: 'true',
    });
    t.equal(result.code, 0, result.stderr);
    t.same(aws.versions, ['$LATEST', '3', '10', '11', '12', '13', '14']);
    t.match(
      result.stdout,
      '! kept version 3: DeleteFunction hapi-lambda-prod-api:3 failed: ResourceConflictException',
    );
    t.match(result.stdout, '::warning title=Version pruning::1 old version(s) could not be deleted');
  },
);

void t.test('prune: a rollback window under one version is refused before any call', async (t) => {
  const aws = await start(t, { versions: MANY });
  const result = await run('prune-versions.mjs', aws.url, { PRUNE_KEEP: '0' });
  t.equal(result.code, 1);
  t.match(result.stderr, 'prune: FAILED: PRUNE_KEEP must be a whole number of versions ≥ 1, got "0"');
  t.same(aws.calls, []);
  t.equal(aws.versions.length, MANY.length);
});

// ---- the deploy workflow runs them -----------------------------------------------------------------

const deploySource = readFileSync(resolve(ROOT, '.github/workflows/deploy.yml'), 'utf8');
const deploySteps = (parse(deploySource) as { jobs: { deploy: { steps: WorkflowStep[] } } }).jobs.deploy
  .steps;

void t.test('deploy.yml: up, rollout, state refresh, full smoke test, pruning, in that order', (t) => {
  const at = (match: (step: WorkflowStep) => boolean, label: string) => {
    const index = deploySteps.findIndex(match);
    t.ok(index >= 0, label);
    return index;
  };
  const order = [
    at((s) => s.id === 'up', 'pulumi up'),
    at((s) => s.run?.includes('.github/scripts/rollout.mjs') === true, 'rollout'),
    at((s) => s.with?.command === 'refresh', 'refresh'),
    at((s) => s.run?.includes('.github/scripts/smoke.mjs') === true, 'smoke test'),
    at((s) => s.run?.includes('.github/scripts/prune-versions.mjs') === true, 'prune'),
  ];
  t.same(
    [...order].sort((a, b) => a - b),
    order,
  );
  const refresh = deploySteps[order[2] ?? -1];
  // After a rollback too: the state must say which version live serves.
  t.match(refresh?.if, /always\(\) && steps\.up\.outcome == 'success'/);
  t.equal(refresh?.with?.target, '${{ steps.up.outputs.aliasUrn }}');
  t.equal(deploySteps[order[1] ?? -1]?.if, undefined, 'the rollout runs only after a successful up');
  t.end();
});

void t.test('deploy.yml reads only outputs the program exports', (t) => {
  const program = readFileSync(resolve(ROOT, 'infrastructure/index.ts'), 'utf8');
  const exported = new Set([...program.matchAll(/^export const (\w+)/gm)].map((m) => m[1]));
  const used = new Set([...deploySource.matchAll(/steps\.up\.outputs\.(\w+)/g)].map((m) => m[1]));
  t.ok(used.size >= 10, `${used.size} outputs used`);
  for (const name of used) t.ok(exported.has(name), `stack output ${name ?? ''}`);
  t.end();
});
