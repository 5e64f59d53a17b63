// The prod stack with databaseProxy on: an RDS Proxy between the function and Aurora, reading the
// RDS-managed secret, requiring TLS, its pool within the connection budget; the function reaches only it.
/* eslint-disable @typescript-eslint/no-unsafe-member-access -- mock inputs are untyped JSON */
import t from 'tap';
import { proxyMaxConnectionsPercent } from '../config/connection-budget.ts';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { runProgram, secretPlaintext } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const run = await runProgram(SCENARIOS['prod-proxy'].stack, SCENARIOS['prod-proxy'].config);
assertEngineGraph(t, run, 'prod-proxy');

t.test('the proxy: TLS required, the managed secret, the cluster as its target', async (t) => {
  const cluster = run.one('aws:rds/cluster:Cluster');
  const secretArn = (cluster.state.masterUserSecrets as { secretArn: string }[])[0]?.secretArn;
  t.match(secretArn, /:secret:rds!cluster-/);
  const proxy = run.one('aws:rds/proxy:Proxy');
  t.match(proxy.inputs, {
    engineFamily: 'POSTGRESQL',
    requireTls: true,
    auths: [{ authScheme: 'SECRETS', secretArn, iamAuth: 'DISABLED' }],
    vpcSubnetIds: ['subnet-a', 'subnet-b'],
  });
  const role = run.ofType('aws:iam/role:Role').find((r) => r.name.endsWith('-db-proxy'));
  t.equal(proxy.inputs.roleArn, role?.state.arn);
  t.match(JSON.parse(String(role?.inputs.assumeRolePolicy)), {
    Statement: [{ Principal: { Service: 'rds.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  t.type(role?.inputs.permissionsBoundary, 'string', 'created under the workload boundary');
  const policy = run.ofType('aws:iam/rolePolicy:RolePolicy').find((p) => p.name.endsWith('-proxy-policy'));
  t.same(JSON.parse(String(policy?.inputs.policy)).Statement, [
    {
      Sid: 'ReadDatabaseSecret',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: [secretArn],
    },
  ]);

  const group = run.one('aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup');
  t.match(group.inputs, {
    dbProxyName: proxy.state.name,
    connectionPoolConfig: {
      maxConnectionsPercent: proxyMaxConnectionsPercent(823),
      connectionBorrowTimeout: 5,
    },
  });
  t.equal(proxyMaxConnectionsPercent(823), 89);
  const target = run.one('aws:rds/proxyTarget:ProxyTarget');
  t.match(target.inputs, {
    dbClusterIdentifier: cluster.state.clusterIdentifier,
    targetGroupName: 'default',
  });
  for (const instance of run.ofType('aws:rds/clusterInstance:ClusterInstance')) {
    t.ok(run.waitsFor(target, instance), `the target waits for ${instance.name}`);
  }
});

t.test(
  "the function connects to the proxy's endpoint, and reaches nothing else of the database",
  async (t) => {
    const proxy = run.one('aws:rds/proxy:Proxy');
    const version = run
      .ofType('aws:secretsmanager/secretVersion:SecretVersion')
      .find((v) => v.name.endsWith('-credentials'));
    const secret = JSON.parse(String(secretPlaintext(version?.inputs.secretString))) as { host: string };
    t.equal(secret.host, proxy.state.endpoint);
    t.match(secret.host, /\.proxy-abc\.us-east-1\.rds\.amazonaws\.com$/);
    t.ok(version !== undefined && run.waitsFor(version, run.one('aws:rds/proxyTarget:ProxyTarget')));

    const groups = Object.fromEntries(
      run
        .ofType('aws:ec2/securityGroup:SecurityGroup')
        .map((group) => [group.name.replace('hapi-lambda-prod-db-', ''), group.id]),
    );
    t.same(proxy.inputs.vpcSecurityGroupIds, [groups['proxy-sg']]);
    const pairs = (type: string) =>
      run.ofType(type).map(({ inputs }) => {
        const [from, to] = type.includes('Egress')
          ? [inputs.securityGroupId, inputs.referencedSecurityGroupId]
          : [inputs.referencedSecurityGroupId, inputs.securityGroupId];
        const name = (id: unknown) => Object.keys(groups).find((key) => groups[key] === id);
        return `${name(from)} -> ${name(to)}:${String(inputs.toPort)}`;
      });
    const expected = [
      'function-sg -> proxy-sg:5432',
      'proxy-sg -> db-sg:5432',
      'proxy-sg -> endpoint-sg:443',
      'function-sg -> endpoint-sg:443',
    ].sort();
    t.same(pairs('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').sort(), expected);
    t.same(pairs('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').sort(), expected);
    t.match(run.one('aws:lambda/function:Function').inputs.environment, {
      variables: { DATABASE_SSL: 'true' },
    });
  },
);

t.test('with the proxy bounding the connections, -1 leaves the function unreserved', async (t) => {
  t.equal(run.one('aws:lambda/function:Function').inputs.reservedConcurrentExecutions, -1);
});

t.test('the connections alarm sits above what the proxy may open by design', async (t) => {
  // The proxy fills up to its MaxConnectionsPercent under load and queues clients: that alone is no
  // alarm (on a shifting stack it would roll a healthy deployment back); more than it means another client.
  const group = run.one('aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup');
  const percent = (group.inputs.connectionPoolConfig as { maxConnectionsPercent: number })
    .maxConnectionsPercent;
  const proxyCeiling = Math.floor((823 * percent) / 100);
  const alarm = run
    .ofType('aws:cloudwatch/metricAlarm:MetricAlarm')
    .find((a) => a.name.endsWith('-db-connections'));
  t.ok(alarm, 'the stack alarms on the writer connections');
  t.ok(
    Number(alarm?.inputs.threshold) >= proxyCeiling,
    `threshold ${String(alarm?.inputs.threshold)} ≥ ${proxyCeiling}`,
  );
  t.ok(Number(alarm?.inputs.threshold) < 823, 'and still below max_connections');
});
