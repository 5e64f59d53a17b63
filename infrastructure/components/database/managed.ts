// The `managed` database setup: Aurora PostgreSQL Serverless v2 in its own network. RDS keeps the master
// password in its own rotated secret, which ours only names, so no password is ever in Pulumi's state.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { ManagedDatabaseConfig } from '../../config/database.ts';
import { databaseNetwork } from './network.ts';
import { databaseProxy } from './proxy.ts';
import type { DatabaseSetup } from './setup.ts';

const ENGINE = 'aurora-postgresql';
const PORT = 5432;
const DATABASE_NAME = 'app';
const MASTER_USERNAME = 'app_admin';

export interface ManagedDatabaseArgs {
  config: ManagedDatabaseConfig;
  region: string;
  /** Disposable stacks skip the final snapshot and deletion protection regardless of config. */
  ephemeral: boolean;
  secret: aws.secretsmanager.Secret;
}

export function managedDatabase(
  name: string,
  args: ManagedDatabaseArgs,
  parent: pulumi.Resource,
): DatabaseSetup {
  const { config } = args;
  const network = databaseNetwork(
    name,
    { region: args.region, databasePort: PORT, proxy: config.proxy !== undefined },
    parent,
  );
  const subnetGroup = new aws.rds.SubnetGroup(
    `${name}-subnets`,
    { subnetIds: network.subnetIds },
    { parent },
  );

  const protect = config.deletionProtection && !args.ephemeral;
  // Only disposable stacks lose their data on destroy: turning protection off to tear down keeps both.
  const keep = !args.ephemeral;
  // A fixed name would collide the second time a stack of the same name is destroyed.
  const snapshotSuffix = keep
    ? new random.RandomId(`${name}-final-snapshot-id`, { byteLength: 4 }, { parent })
    : undefined;
  const cluster = new aws.rds.Cluster(
    `${name}-cluster`,
    {
      engine: ENGINE,
      engineMode: 'provisioned',
      engineVersion: offeredEngineVersion(config.engineVersion, args.region, parent),
      databaseName: DATABASE_NAME,
      masterUsername: MASTER_USERNAME,
      // RDS generates the password into a Secrets Manager secret and rotates it (every 7 days); the
      // service re-reads it when authentication fails.
      manageMasterUserPassword: true,
      port: PORT,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [network.databaseSecurityGroup.id],
      storageEncrypted: true,
      serverlessv2ScalingConfiguration: {
        minCapacity: config.minCapacity,
        maxCapacity: config.maxCapacity,
        secondsUntilAutoPause: config.autoPauseSeconds,
      },
      backupRetentionPeriod: keep ? 14 : 1,
      deletionProtection: protect,
      skipFinalSnapshot: !keep,
      finalSnapshotIdentifier:
        snapshotSuffix === undefined ? undefined : pulumi.interpolate`${name}-final-${snapshotSuffix.hex}`,
      copyTagsToSnapshot: true,
      // Disposable stacks apply changes now; protected ones wait for the maintenance window.
      applyImmediately: !protect,
    },
    // AWS applies minor upgrades itself; without this Pulumi would try to "downgrade" to the
    // configured version after each one. Major upgrades are a deliberate, reviewed change anyway.
    { parent, ignoreChanges: ['engineVersion'] },
  );

  const instance = (key: string, promotionTier: number) =>
    new aws.rds.ClusterInstance(
      `${name}-${key}`,
      {
        clusterIdentifier: cluster.id,
        instanceClass: 'db.serverless',
        engine: ENGINE,
        dbSubnetGroupName: subnetGroup.name,
        publiclyAccessible: false,
        promotionTier,
      },
      { parent },
    );
  const writer = instance('writer', 0);
  // Readers are failover targets: Aurora places them in the subnet group's other AZ when it can and
  // promotes one (tier 1 before any later) if the writer's instance or AZ fails.
  const readers: aws.rds.ClusterInstance[] = [];
  for (let index = 1; index <= config.readerInstances; index++) readers.push(instance(`reader-${index}`, 1));

  const credentialsSecretArn = cluster.masterUserSecrets.apply((secrets) => {
    const [secret] = secrets;
    /* c8 ignore next -- RDS returns the secret whenever it manages the password; this guards the type only */
    if (secret === undefined) throw new Error(`${name}: RDS returned no master user secret`);
    return secret.secretArn;
  });
  const proxy =
    config.proxy === undefined || network.proxySecurityGroup === undefined
      ? undefined
      : databaseProxy(
          name,
          {
            cluster,
            credentialsSecretArn,
            subnetIds: network.subnetIds,
            securityGroupId: network.proxySecurityGroup.id,
            maxConnectionsPercent: config.proxy.maxConnectionsPercent,
            instances: [writer, ...readers],
          },
          parent,
        );

  // RDS-style JSON without the password; written after the writer (or the proxy's target) exists so the
  // first (migration) invoke finds a database that accepts connections. The proxy takes the same login.
  const credentials = new aws.secretsmanager.SecretVersion(
    `${name}-credentials`,
    {
      secretId: args.secret.id,
      secretString: pulumi.jsonStringify({
        engine: 'postgres',
        username: MASTER_USERNAME,
        host: proxy === undefined ? cluster.endpoint : proxy.proxy.endpoint,
        port: PORT,
        dbname: DATABASE_NAME,
        credentialsSecretArn,
      }),
    },
    { parent, dependsOn: proxy === undefined ? [writer] : [writer, proxy.target] },
  );

  return {
    // Aurora always gets TLS.
    ssl: true,
    credentials,
    credentialsSecretArn,
    networkReady: network.ready,
    functionVpc: { subnetIds: network.subnetIds, securityGroupIds: [network.functionSecurityGroup.id] },
    vpc: network.vpc,
    cluster,
    proxy: proxy?.proxy,
  };
}

/**
 * The configured version, once the region confirms it still offers it for new clusters. Aurora retires
 * minors after about a year; without this check `pulumi up` would fail half-way through with an RDS
 * error. The data source (like `aws rds describe-db-engine-versions`) lists only `available` versions.
 * Only a create needs it: an existing cluster (found by the stack's tags) ignores engineVersion.
 */
function offeredEngineVersion(
  version: string,
  region: string,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const existing = aws.resourcegroupstaggingapi.getResources(
    {
      resourceTypeFilters: ['rds:cluster'],
      tagFilters: [
        { key: 'project', values: [pulumi.getProject()] },
        { key: 'stack', values: [pulumi.getStack()] },
      ],
    },
    { parent },
  );
  return pulumi.output(
    existing.then(({ resourceTagMappingLists }) =>
      resourceTagMappingLists.length > 0 ? version : checkOffered(version, region, parent),
    ),
  );
}

function checkOffered(version: string, region: string, parent: pulumi.Resource): Promise<string> {
  const listCommand = `aws rds describe-db-engine-versions --engine ${ENGINE} --region ${region} --query "DBEngineVersions[].EngineVersion"`;
  return aws.rds
    .getEngineVersion(
      { engine: ENGINE, version, filters: [{ name: 'engine-mode', values: ['provisioned'] }] },
      { parent },
    )
    .then(
      () => version,
      (error: unknown) => {
        // The SDK rejects a failed invoke with an Error carrying the engine's message (runtime/invoke.js).
        throw new pulumi.RunError(
          `databaseEngineVersion ${version} is not offered for new Aurora PostgreSQL clusters in ${region} ` +
            `(${(error as Error).message}). List the versions the region offers with ` +
            `\`${listCommand}\`, then \`pulumi config set databaseEngineVersion <version>\` (prefer a long-term-support minor).`,
        );
      },
    );
}
