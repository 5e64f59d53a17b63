// Prod's defaults fit their connection budget: the function's reserved concurrency is derived from it, no
// proxy exists, and the writer's connections and capacity are alarmed on and on the dashboard.
import t from 'tap';
import { settingOf } from './fixtures/assertions.ts';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const run = await runProgram(SCENARIOS.prod.stack, SCENARIOS.prod.config);
const setting = settingOf(SCENARIOS.prod.config);

t.test("prod's defaults: reserved concurrency derived from the budget, no proxy", async (t) => {
  // 0.5–4 ACU: 823 connections, 737 usable; each instance holds its pool, and two versions may overlap.
  const perInstance = Number(setting('databasePoolMax'));
  t.equal(setting('reservedConcurrency'), '-1');
  t.equal(
    run.one('aws:lambda/function:Function').inputs.reservedConcurrentExecutions,
    Math.floor(737 / (perInstance * 2)),
  );
  t.same(run.ofType('aws:rds/proxy:Proxy'), []);
  t.same(run.ofType('aws:rds/proxyTarget:ProxyTarget'), []);
});

t.test('database alarms: connections at a share of max_connections, capacity near the maximum', async (t) => {
  const cluster = run.one('aws:rds/cluster:Cluster');
  const alarms = Object.fromEntries(
    run
      .ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
      .filter((alarm) => alarm.inputs.namespace === 'AWS/RDS')
      .map((alarm) => [alarm.inputs.metricName, alarm.inputs]),
  ) as Record<string, Record<string, unknown>>;
  const topicArn = run.one('aws:sns/topic:Topic').state.arn;
  const common = {
    dimensions: { DBClusterIdentifier: cluster.state.clusterIdentifier, Role: 'WRITER' },
    statistic: 'Maximum',
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    alarmActions: [topicArn],
    okActions: [topicArn],
  };
  t.same(Object.keys(alarms).sort(), ['DatabaseConnections', 'ServerlessDatabaseCapacity']);
  t.match(alarms.DatabaseConnections, {
    ...common,
    name: 'hapi-lambda-prod-alarms-db-connections',
    threshold: Math.floor((823 * Number(setting('alarmDatabaseConnectionsPercent'))) / 100),
  });
  t.match(alarms.ServerlessDatabaseCapacity, {
    ...common,
    name: 'hapi-lambda-prod-alarms-db-capacity',
    threshold: (4 * Number(setting('alarmDatabaseCapacityPercent'))) / 100,
  });

  const body = JSON.parse(String(run.one('aws:cloudwatch/dashboard:Dashboard').inputs.dashboardBody)) as {
    widgets: { properties: { title: string; metrics?: unknown[][]; alarms?: string[] } }[];
  };
  const byTitle = Object.fromEntries(body.widgets.map((w) => [w.properties.title, w.properties]));
  t.same(byTitle['Database connections']?.metrics, [
    [
      'AWS/RDS',
      'DatabaseConnections',
      'DBClusterIdentifier',
      cluster.state.clusterIdentifier,
      'Role',
      'WRITER',
      { stat: 'Maximum' },
    ],
  ]);
  t.match(byTitle['Database capacity (ACU)']?.metrics, [['AWS/RDS', 'ServerlessDatabaseCapacity']]);
  const alarmArns = run
    .ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
    .filter((alarm) => alarm.inputs.namespace === 'AWS/RDS')
    .map((alarm) => alarm.state.arn);
  for (const arn of alarmArns)
    t.ok(byTitle.Alarms?.alarms?.includes(arn as string), `${String(arn)} on the dashboard`);
});
