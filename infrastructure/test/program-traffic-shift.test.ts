// The prod stack (Pulumi.prod.yaml: canary): CodeDeploy shifts `live`, watched by the stack's alarms and
// the new version's own; Pulumi publishes and migrates but leaves the alias to CodeDeploy.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import t from 'tap';
import { loadConfig as loadServiceConfig } from '../../service/src/config.ts';
// The service's hapi augmentations, for its server module's types.
import type {} from '../../service/src/types/hapi.d.ts';
import { createServer } from '../../service/src/server.ts';
import { settingOf } from './fixtures/assertions.ts';
import { ACCOUNT, FUNCTION_VERSION, runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.prod;
const run = await runProgram(stack, config, [...secretKeys]);
const setting = settingOf(config);
const prefix = `hapi-lambda-${stack}`;
const fn = run.one('aws:lambda/function:Function');
const alias = run.one('aws:lambda/alias:Alias');
const group = run.one('aws:codedeploy/deploymentGroup:DeploymentGroup');
const stackAlarms = run
  .ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
  .filter((alarm) => alarm.name.startsWith(`${prefix}-alarms-`));

t.test('prod shifts by canary, 10 % for 5 minutes: CodeDeploy’s own configuration', async (t) => {
  t.equal(setting('trafficShift'), 'canary');
  t.match(run.one('aws:codedeploy/application:Application').inputs, {
    name: `${prefix}-deploy`,
    computePlatform: 'Lambda',
  });
  t.equal(
    run.ofType('aws:codedeploy/deploymentConfig:DeploymentConfig').length,
    0,
    'predefined, none created',
  );
  t.match(group.inputs, {
    appName: `${prefix}-deploy`,
    deploymentGroupName: `${prefix}-deploy-live`,
    deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    deploymentStyle: { deploymentOption: 'WITH_TRAFFIC_CONTROL', deploymentType: 'BLUE_GREEN' },
    autoRollbackConfiguration: { enabled: true },
    alarmConfiguration: { enabled: true },
  });
  t.same([...(group.inputs.autoRollbackConfiguration as { events: string[] }).events].sort(), [
    'DEPLOYMENT_FAILURE',
    'DEPLOYMENT_STOP_ON_ALARM',
  ]);
});

t.test('the group watches every stack alarm and the new version’s errors through live', async (t) => {
  const version = run
    .ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
    .find((alarm) => alarm.name === `${prefix}-deploy-version-errors`);
  t.ok(version, 'a new-version alarm');
  t.match(version?.inputs, {
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    // Lambda's per-version metric of an alias invocation (Lambda guide, "Types of metrics": dimensions).
    dimensions: {
      FunctionName: fn.inputs.name,
      Resource: `${String(fn.inputs.name)}:live`,
      ExecutedVersion: FUNCTION_VERSION,
    },
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    alarmActions: [run.one('aws:sns/topic:Topic').state.arn],
  });
  const watched = (group.inputs.alarmConfiguration as { alarms: string[] }).alarms;
  t.ok(stackAlarms.length > 0);
  t.same(
    [...watched].sort(),
    [
      ...stackAlarms.map((alarm) => String(alarm.inputs.name)),
      `${prefix}-deploy-version-errors`,
      `${prefix}-deploy-version-5xx`,
    ].sort(),
  );
  // CodeDeploy accepts at most 10 alarms per deployment group (CodeDeploy quotas).
  t.ok(watched.length <= 10);
  t.same(run.outputs.deploymentAlarmNames, watched);
});

/** The request-complete line the service writes for a 5xx answer, as version 7 in Lambda. */
async function serviceFiveHundredLine(): Promise<Record<string, unknown>> {
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  // A database nobody listens on: the readiness route (every project keeps it) answers 503 and logs it.
  const config = loadServiceConfig({
    APP_ENV: 'test',
    DATABASE_URL: 'postgres://user:password@127.0.0.1:1/db',
    DATABASE_CONNECT_TIMEOUT_MS: '100',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    AWS_LAMBDA_FUNCTION_VERSION: FUNCTION_VERSION,
  });
  const server = await createServer(config, { logStream });
  await server.initialize();
  try {
    const { statusCode, result } = await server.inject<{ traceId: string }>('/health/ready');
    if (statusCode !== 503) throw new Error(`expected a 503, got ${statusCode}`);
    const lines = chunks
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const line = lines.find((l) => l.traceId === result?.traceId && 'responseTime' in l);
    if (line === undefined) throw new Error('no request-complete line');
    return line;
  } finally {
    await server.stop();
  }
}

/** CloudWatch Logs JSON filter terms (`{ $.a.b >= 500 && ... }`) with numeric comparisons, on a parsed line. */
function jsonPatternMatches(pattern: string, event: Record<string, unknown>): boolean {
  const body = /^\{\s*(.+?)\s*\}$/.exec(pattern)?.[1];
  if (body === undefined) throw new Error(`not a JSON filter pattern: ${pattern}`);
  return body.split('&&').every((term) => {
    const match = /^\s*\$\.([\w.]+)\s*(>=|<=|!=|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(term);
    if (match === null) throw new Error(`unsupported term: ${term}`);
    const [, path = '', op, number] = match;
    const value = jsonField(event, path);
    if (typeof value !== 'number') return false;
    const limit = Number(number);
    return {
      '>=': value >= limit,
      '<=': value <= limit,
      '!=': value !== limit,
      '=': value === limit,
      '>': value > limit,
      '<': value < limit,
    }[op as '>='];
  });
}

function jsonField(event: Record<string, unknown>, path: string): unknown {
  let value: unknown = event;
  for (const key of path.split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

t.test('the new version’s own 5xx answers, counted from its log lines, roll the shift back', async (t) => {
  const filter = run.one('aws:cloudwatch/logMetricFilter:LogMetricFilter');
  const logging = fn.inputs.loggingConfig as { logFormat: string; logGroup: string };
  t.equal(filter.inputs.logGroupName, logging.logGroup, 'the function’s own log group');
  // Lambda does not re-encode a line that already is JSON (Lambda guide, "JSON and plain text log formats").
  t.equal(logging.logFormat, 'JSON');
  const transformation = filter.inputs.metricTransformation as {
    name: string;
    namespace: string;
    value: string;
    dimensions: Record<string, string>;
  };
  const pattern = String(filter.inputs.pattern);

  const line = await serviceFiveHundredLine();
  t.ok(jsonPatternMatches(pattern, line), `${pattern} matches the service's 503 line`);
  for (const status of [200, 404, 499]) {
    t.notOk(jsonPatternMatches(pattern, { ...line, res: { statusCode: status } }), `not ${status}`);
  }
  t.notOk(jsonPatternMatches(pattern, { ...line, res: undefined }), 'not a line without a response');
  t.equal(transformation.value, '1');
  const [dimension, field] = Object.entries(transformation.dimensions)[0] ?? [];
  t.equal(Object.keys(transformation.dimensions).length, 1);
  t.equal(jsonField(line, String(field).replace(/^\$\./, '')), FUNCTION_VERSION, 'the version from the line');

  const alarm = run
    .ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
    .find((a) => a.name === `${prefix}-deploy-version-5xx`);
  t.match(alarm?.inputs, {
    namespace: transformation.namespace,
    metricName: transformation.name,
    dimensions: { [String(dimension)]: FUNCTION_VERSION },
    statistic: 'Sum',
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [run.one('aws:sns/topic:Topic').state.arn],
  });
  t.ok(
    (group.inputs.alarmConfiguration as { alarms: string[] }).alarms.includes(`${prefix}-deploy-version-5xx`),
  );
});

t.test('the deploy guide says which failures of the new version its alarms count', async (t) => {
  // The adapter turns only these statuses into invocation errors; a 500 answer is a successful invocation.
  const codes = String(
    (fn.inputs.environment as { variables: Record<string, string> }).variables.AWS_LWA_ERROR_STATUS_CODES,
  ).split(',');
  const guide = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
  const section = guide.slice(
    guide.indexOf('## Shifting traffic'),
    guide.indexOf('## Rollout in the deploy job'),
  );
  for (const code of codes) t.match(section, `status ${code}`);
  t.match(section, /HTTP 500 the service answers is a successful invocation/);
  t.match(
    section,
    '`<project>-<stack>-deploy-version-5xx`',
    'names the alarm on the new version’s 5xx answers',
  );
  t.match(section, '{ $.res.statusCode >= 500 }');
});

t.test('its service role: CodeDeploy only, moves this alias only, inside the boundary', async (t) => {
  const role = run.ofType('aws:iam/role:Role').find((r) => r.name === `${prefix}-deploy-role`);
  t.ok(role);
  t.match(JSON.parse(String(role?.inputs.assumeRolePolicy)), {
    Statement: [{ Principal: { Service: 'codedeploy.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  t.equal(role?.inputs.permissionsBoundary, `arn:aws:iam::${ACCOUNT}:policy/hapi-lambda-workload-boundary`);
  const policy = run
    .ofType('aws:iam/rolePolicy:RolePolicy')
    .find((p) => p.name === `${prefix}-deploy-policy`);
  const document = JSON.parse(String(policy?.inputs.policy)) as {
    Statement: { Action: string[]; Resource: string }[];
  };
  t.same(
    document.Statement.map((s) => [s.Action, s.Resource]),
    [
      [['lambda:GetAlias', 'lambda:UpdateAlias'], fn.state.arn],
      [['lambda:GetProvisionedConcurrencyConfig'], `${String(fn.state.arn)}:live`],
      [['cloudwatch:DescribeAlarms'], '*'],
    ],
  );
  t.equal(group.inputs.serviceRoleArn, role?.state.arn);
  t.ok(policy !== undefined && run.waitsFor(group, policy), 'the group waits for its permissions');
});

t.test('Pulumi publishes and migrates, CodeDeploy moves live', async (t) => {
  t.same([...alias.ignoreChanges].sort(), ['functionVersion', 'routingConfig']);
  const invoke = run.one('aws:lambda/invocation:Invocation');
  t.equal(invoke.inputs.qualifier, FUNCTION_VERSION, 'migrations run on the new version itself');
  t.ok(run.waitsFor(alias, invoke), 'a first deploy creates the alias only after migrating');
  t.equal(run.ofType('aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig').length, 0);
});

t.test('outputs the deploy workflow reads', async (t) => {
  t.match(run.outputs, {
    functionName: fn.inputs.name,
    aliasName: 'live',
    aliasUrn: alias.urn,
    functionVersion: FUNCTION_VERSION,
    trafficShift: 'canary',
    codedeployApplicationName: `${prefix}-deploy`,
    codedeployDeploymentGroupName: `${prefix}-deploy-live`,
    codedeployDeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    retainedVersions: Number(setting('retainedVersions')),
    provisionedConcurrency: 0,
  });
  t.match(String(run.outputs.aliasUrn), /::hapi-lambda-prod-api-alias$/);
});
