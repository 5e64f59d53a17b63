// RDS Proxy in front of the managed cluster (databaseProxy): it authenticates with the RDS-managed master
// secret, requires TLS, and its pool opens at most the budget's share of max_connections.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import boundary from '../../permissions-boundary.json' with { type: 'json' };

export interface DatabaseProxyArgs {
  cluster: aws.rds.Cluster;
  /** The RDS-managed secret (`rds!cluster-…`) holding the rotated username and password. */
  credentialsSecretArn: pulumi.Output<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  maxConnectionsPercent: number;
  /** The cluster's instances: the proxy can only register a cluster that has them. */
  instances: pulumi.Resource[];
}

export interface DatabaseProxy {
  proxy: aws.rds.Proxy;
  /** Registered: the endpoint answers only once the cluster is its target. */
  target: aws.rds.ProxyTarget;
}

export function databaseProxy(name: string, args: DatabaseProxyArgs, parent: pulumi.Resource): DatabaseProxy {
  // Roles are created under the deploy roles' boundary (.github/iam/workload-boundary.json), which lets
  // them read their own stack's RDS-managed secret and nothing else.
  const { accountId } = aws.getCallerIdentityOutput({}, { parent });
  const role = new aws.iam.Role(
    `${name}-proxy`,
    {
      permissionsBoundary: pulumi.interpolate`arn:aws:iam::${accountId}:policy/${boundary.policyName}`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'rds.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    },
    { parent },
  );
  // The secret is encrypted with the account's aws/secretsmanager key, usable through Secrets Manager.
  const policy = new aws.iam.RolePolicy(
    `${name}-proxy-policy`,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ReadDatabaseSecret',
            Effect: 'Allow',
            Action: ['secretsmanager:GetSecretValue'],
            Resource: [args.credentialsSecretArn],
          },
        ],
      }),
    },
    { parent },
  );

  const proxy = new aws.rds.Proxy(
    `${name}-proxy`,
    {
      engineFamily: 'POSTGRESQL',
      roleArn: role.arn,
      vpcSubnetIds: args.subnetIds,
      vpcSecurityGroupIds: [args.securityGroupId],
      // Clients must use TLS; the proxy's certificate chains to Amazon Root CA (docs/database.md).
      requireTls: true,
      auths: [
        {
          authScheme: 'SECRETS',
          secretArn: args.credentialsSecretArn,
          iamAuth: 'DISABLED',
          clientPasswordAuthType: 'POSTGRES_SCRAM_SHA_256',
        },
      ],
      debugLogging: false,
    },
    { parent, dependsOn: [policy] },
  );

  const targetGroup = new aws.rds.ProxyDefaultTargetGroup(
    `${name}-proxy-targets`,
    {
      dbProxyName: proxy.name,
      connectionPoolConfig: {
        maxConnectionsPercent: args.maxConnectionsPercent,
        // A borrower waits this long at most (the default is 120 s, longer than any request may take).
        connectionBorrowTimeout: 5,
      },
    },
    { parent },
  );
  const target = new aws.rds.ProxyTarget(
    `${name}-proxy-target`,
    {
      dbProxyName: proxy.name,
      targetGroupName: targetGroup.name,
      dbClusterIdentifier: args.cluster.clusterIdentifier,
    },
    { parent, dependsOn: args.instances },
  );
  return { proxy, target };
}
