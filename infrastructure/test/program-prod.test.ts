// The prod stack (Pulumi.prod.yaml: managed Aurora, alarm e-mail) plus a custom domain.
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon, PROD_EXPECTED, settingOf } from './fixtures/assertions.ts';
import { runProgram, secretPlaintext } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const run = await runProgram(SCENARIOS.prod.stack, SCENARIOS.prod.config);
const setting = settingOf(SCENARIOS.prod.config);

await assertCommon(t, run, { ...PROD_EXPECTED, secrets: [] });

t.test('managed database: Aurora Serverless v2 in isolated subnets, function in the VPC', async (t) => {
  const vpc = run.one('awsx:ec2:Vpc');
  t.match(vpc.inputs, { natGateways: { strategy: 'None' }, subnetSpecs: [{ type: 'Isolated' }] });

  const groups = Object.fromEntries(
    run
      .ofType('aws:ec2/securityGroup:SecurityGroup')
      .map((group) => [group.name.replace('hapi-lambda-prod-db-', ''), group]),
  );
  t.same(Object.keys(groups).sort(), ['db-sg', 'endpoint-sg', 'function-sg']);
  const functionSg = groups['function-sg']?.id;
  const dbSg = groups['db-sg']?.id;

  const fn = run.one('aws:lambda/function:Function').inputs;
  t.same(fn.vpcConfig, { subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: [functionSg] });
  t.match(fn.environment, { variables: { DATABASE_SSL: 'true' } }, 'Aurora always gets TLS');

  const ingress = run
    .ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')
    .map((rule) => rule.inputs);
  t.same(
    ingress.find((rule) => rule.securityGroupId === dbSg),
    {
      securityGroupId: dbSg,
      referencedSecurityGroupId: functionSg,
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
    },
    'PostgreSQL only from the function',
  );
  t.equal(ingress.length, 2, 'nothing else can reach the database or the endpoint');

  t.match(run.one('aws:ec2/vpcEndpoint:VpcEndpoint').inputs, {
    serviceName: 'com.amazonaws.us-east-1.secretsmanager',
    privateDnsEnabled: true,
  });

  const cluster = run.one('aws:rds/cluster:Cluster').inputs;
  t.match(cluster.finalSnapshotIdentifier, /^hapi-lambda-prod-db-final-[0-9a-f]{8}$/, 'unique per cluster');
  t.match(cluster, {
    engine: 'aurora-postgresql',
    engineMode: 'provisioned',
    storageEncrypted: true,
    vpcSecurityGroupIds: [dbSg],
    serverlessv2ScalingConfiguration: {
      minCapacity: Number(setting('databaseMinCapacity')),
      maxCapacity: Number(setting('databaseMaxCapacity')),
    },
    deletionProtection: setting('databaseDeletionProtection') === 'true',
    skipFinalSnapshot: false,
  });
  const instances = run.ofType('aws:rds/clusterInstance:ClusterInstance');
  t.same(
    instances.map((instance) => [instance.name, instance.inputs.promotionTier]),
    [
      ['hapi-lambda-prod-db-writer', 0],
      ...Array.from({ length: Number(setting('databaseReaderInstances')) }, (_, index) => [
        `hapi-lambda-prod-db-reader-${index + 1}`,
        1,
      ]),
    ],
    'the writer, then the readers Pulumi.prod.yaml asks for',
  );
  t.ok(instances.length > 1, 'prod has a reader to fail over to');
  for (const instance of instances) {
    t.match(instance.inputs, { instanceClass: 'db.serverless', publiclyAccessible: false });
  }

  const policy = JSON.parse(
    String(
      run.ofType('aws:iam/rolePolicy:RolePolicy').find((p) => p.name === 'hapi-lambda-prod-api-policy')
        ?.inputs.policy,
    ),
  ) as {
    Statement: { Sid: string }[];
  };
  t.ok(policy.Statement.some((statement) => statement.Sid === 'VpcNetworkInterfaces'));
});

t.test('no database password in state: RDS manages and rotates it in its own secret', async (t) => {
  t.same(run.ofType('random:index/randomPassword:RandomPassword'), [], 'no generated password');
  const cluster = run.one('aws:rds/cluster:Cluster');
  t.equal(cluster.inputs.manageMasterUserPassword, true);
  t.equal(cluster.inputs.masterPassword, undefined);
  const masterSecretArn = (cluster.state.masterUserSecrets as { secretArn: string }[])[0]?.secretArn;
  const connection = JSON.parse(
    String(
      secretPlaintext(run.one('aws:secretsmanager/secretVersion:SecretVersion').inputs.secretString) ??
        run.one('aws:secretsmanager/secretVersion:SecretVersion').inputs.secretString,
    ),
  ) as Record<string, unknown>;
  t.same(
    connection,
    {
      engine: 'postgres',
      username: 'app_admin',
      host: 'hapi-lambda-prod-db-cluster.cluster-abc.us-east-1.rds.amazonaws.com',
      port: 5432,
      dbname: 'app',
      credentialsSecretArn: masterSecretArn,
    },
    'where to connect and which secret holds the rotated password; no password',
  );
  const policy = JSON.parse(
    String(
      run.ofType('aws:iam/rolePolicy:RolePolicy').find((p) => p.name === 'hapi-lambda-prod-api-policy')
        ?.inputs.policy,
    ),
  ) as {
    Statement: { Sid: string; Resource: unknown }[];
  };
  const read = policy.Statement.find((statement) => statement.Sid === 'ReadDatabaseSecret');
  t.same(
    read?.Resource,
    [String(run.one('aws:secretsmanager/secret:Secret').state.arn), masterSecretArn],
    'the function may read both secrets, nothing else',
  );
});

t.test(
  'the migration invoke waits for the network path to the database and to Secrets Manager',
  async (t) => {
    const invocation = run.one('aws:lambda/invocation:Invocation');
    const path = [
      ...run.ofType('aws:ec2/vpcEndpoint:VpcEndpoint'),
      ...run.ofType('aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule'),
      ...run.ofType('aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule'),
    ];
    t.equal(path.length, 5, 'the endpoint and two rule pairs');
    for (const resource of path) t.ok(run.waitsFor(invocation, resource), `waits for ${resource.name}`);
  },
);

t.test('alarm e-mail subscription and custom domain', async (t) => {
  t.match(run.one('aws:sns/topicSubscription:TopicSubscription').inputs, {
    protocol: 'email',
    endpoint: setting('alarmEmail'),
    topic: run.one('aws:sns/topic:Topic').state.arn,
  });
  t.match(run.one('aws:acm/certificate:Certificate').inputs, {
    domainName: 'api.example.com',
    validationMethod: 'DNS',
  });
  t.match(run.one('aws:apigatewayv2/domainName:DomainName').inputs, {
    domainName: 'api.example.com',
    domainNameConfiguration: { endpointType: 'REGIONAL', securityPolicy: 'TLS_1_2' },
  });
  t.equal(
    (
      run.one('aws:apigatewayv2/domainName:DomainName').inputs.domainNameConfiguration as Record<
        string,
        unknown
      >
    ).ipAddressType,
    'dualstack',
    'the AAAA record needs a domain that answers over IPv6 (the default is IPv4 only)',
  );
  t.match(run.one('aws:apigatewayv2/apiMapping:ApiMapping').inputs, {
    domainName: 'hapi-lambda-prod-http-domain-id',
  });
  const records = run.ofType('aws:route53/record:Record').map((record) => record.inputs);
  t.match(records, [
    { zoneId: 'Z0123456789EXAMPLE', type: 'CNAME', records: ['_y.acm-validations.aws.'] },
    {
      zoneId: 'Z0123456789EXAMPLE',
      name: 'api.example.com',
      type: 'A',
      aliases: [{ zoneId: 'Z1UJRXOUMOOFQ8' }],
    },
    {
      zoneId: 'Z0123456789EXAMPLE',
      name: 'api.example.com',
      type: 'AAAA',
      aliases: [{ zoneId: 'Z1UJRXOUMOOFQ8' }],
    },
  ]);
  t.equal(records.length, 3, 'validation, A and AAAA');
  t.equal(
    run.one('aws:apigatewayv2/api:Api').inputs.disableExecuteApiEndpoint,
    true,
    'clients reach the API only through the custom domain',
  );
  t.equal(run.outputs.apiUrl, 'https://api.example.com/');
});

assertEngineGraph(t, run, 'prod');
