// Database: where the service's PostgreSQL credentials come from. `external` stores a URL given as
// secret config in Secrets Manager; `managed` creates Aurora PostgreSQL Serverless v2 in a private VPC
// and stores generated credentials. Either way the function only ever sees the secret's ARN.
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { DatabaseConfig } from '../config/database.ts';
import { typeToken } from './type-token.ts';

export interface DatabaseArgs {
  config: DatabaseConfig;
  region: string;
  /** Disposable stacks skip the final snapshot and deletion protection regardless of config. */
  ephemeral: boolean;
}

const ENGINE = 'aurora-postgresql';
const PORT = 5432;
const DATABASE_NAME = 'app';
const MASTER_USERNAME = 'app_admin';

/**
 * The configured version, once the region confirms it still offers it for new clusters. Aurora retires
 * minors after about a year; without this check `pulumi up` would fail half-way through with an RDS
 * error. The data source (like `aws rds describe-db-engine-versions`) lists only `available` versions.
 */
function offeredEngineVersion(
  version: string,
  region: string,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const listCommand = `aws rds describe-db-engine-versions --engine ${ENGINE} --region ${region} --query "DBEngineVersions[].EngineVersion"`;
  return pulumi.output(
    aws.rds
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
      ),
  );
}

export class Database extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  readonly secretArn: pulumi.Output<string>;
  /** DATABASE_SSL for the service: Aurora always gets TLS; external follows config. */
  readonly ssl: boolean;
  /** Managed mode only: where the function must run to reach the cluster. */
  readonly functionVpc:
    { subnetIds: pulumi.Output<string[]>; securityGroupIds: pulumi.Output<string>[] } | undefined;
  readonly vpc: awsx.ec2.Vpc | undefined;
  readonly cluster: aws.rds.Cluster | undefined;
  /** The secret's value: written only once the database accepts connections (managed mode). */
  readonly credentials: aws.secretsmanager.SecretVersion;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('database', 'Database'), name, {}, opts);

    this.secret = new aws.secretsmanager.Secret(
      `${name}-secret`,
      {
        description: `PostgreSQL connection for ${name} (${args.config.mode})`,
        // Disposable stacks delete at once so a re-created stack can reuse the name.
        recoveryWindowInDays: args.ephemeral ? 0 : 7,
      },
      { parent: this },
    );
    this.secretArn = this.secret.arn;

    if (args.config.mode === 'external') {
      this.ssl = args.config.ssl;
      this.functionVpc = undefined;
      this.vpc = undefined;
      this.cluster = undefined;
      this.credentials = new aws.secretsmanager.SecretVersion(
        `${name}-url`,
        { secretId: this.secret.id, secretString: pulumi.secret(args.config.url) },
        { parent: this },
      );
    } else {
      const config = args.config;
      this.ssl = true;

      // Isolated subnets (no NAT, no internet route): nothing to pay per hour for NAT, nothing to reach
      // in from outside. The function reaches Secrets Manager through the interface endpoint below.
      this.vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          numberOfAvailabilityZones: 2,
          natGateways: { strategy: 'None' },
          subnetStrategy: 'Auto',
          subnetSpecs: [{ type: 'Isolated', name: 'private', cidrMask: 20 }],
          enableDnsHostnames: true,
          enableDnsSupport: true,
        },
        { parent: this },
      );
      const vpcId = this.vpc.vpcId;
      const subnetIds = this.vpc.isolatedSubnetIds;

      const securityGroup = (key: string, description: string) =>
        new aws.ec2.SecurityGroup(`${name}-${key}`, { vpcId, description }, { parent: this });
      // The function's own group: attached to nothing else, so "from this group" means "from the function".
      const functionSg = securityGroup('function-sg', 'The service function (attached to it only)');
      const databaseSg = securityGroup('db-sg', 'Aurora: PostgreSQL from the service function only');
      const endpointSg = securityGroup('endpoint-sg', 'Secrets Manager endpoint: HTTPS from the function');

      const rule = (key: string, from: aws.ec2.SecurityGroup, to: aws.ec2.SecurityGroup, port: number) => {
        new aws.vpc.SecurityGroupEgressRule(
          `${name}-${key}-out`,
          {
            securityGroupId: from.id,
            referencedSecurityGroupId: to.id,
            ipProtocol: 'tcp',
            fromPort: port,
            toPort: port,
          },
          { parent: this },
        );
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-${key}-in`,
          {
            securityGroupId: to.id,
            referencedSecurityGroupId: from.id,
            ipProtocol: 'tcp',
            fromPort: port,
            toPort: port,
          },
          { parent: this },
        );
      };
      rule('postgres', functionSg, databaseSg, PORT);
      rule('secrets', functionSg, endpointSg, 443);

      new aws.ec2.VpcEndpoint(
        `${name}-secrets-endpoint`,
        {
          vpcId,
          serviceName: `com.amazonaws.${args.region}.secretsmanager`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds,
          securityGroupIds: [endpointSg.id],
        },
        { parent: this },
      );

      const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds }, { parent: this });

      // RDS rejects '/', '@', '"' and spaces in master passwords.
      const password = new random.RandomPassword(
        `${name}-password`,
        { length: 40, special: true, overrideSpecial: '!#$%^&*()-_=+[]{}<>:?' },
        { parent: this },
      );

      const engineVersion = offeredEngineVersion(config.engineVersion, args.region, this);
      const protect = config.deletionProtection && !args.ephemeral;
      // A fixed name would collide the second time a stack of the same name is destroyed.
      const snapshotSuffix = protect
        ? new random.RandomId(`${name}-final-snapshot-id`, { byteLength: 4 }, { parent: this })
        : undefined;
      const cluster = new aws.rds.Cluster(
        `${name}-cluster`,
        {
          engine: ENGINE,
          engineMode: 'provisioned',
          engineVersion,
          databaseName: DATABASE_NAME,
          masterUsername: MASTER_USERNAME,
          masterPassword: password.result,
          port: PORT,
          dbSubnetGroupName: subnetGroup.name,
          vpcSecurityGroupIds: [databaseSg.id],
          storageEncrypted: true,
          serverlessv2ScalingConfiguration: {
            minCapacity: config.minCapacity,
            maxCapacity: config.maxCapacity,
            secondsUntilAutoPause: config.autoPauseSeconds,
          },
          backupRetentionPeriod: protect ? 14 : 1,
          deletionProtection: protect,
          skipFinalSnapshot: !protect,
          finalSnapshotIdentifier:
            snapshotSuffix === undefined
              ? undefined
              : pulumi.interpolate`${name}-final-${snapshotSuffix.hex}`,
          copyTagsToSnapshot: true,
          // Disposable stacks apply changes now; protected ones wait for the maintenance window.
          applyImmediately: !protect,
        },
        // AWS applies minor upgrades itself; without this Pulumi would try to "downgrade" to the
        // configured version after each one. Major upgrades are a deliberate, reviewed change anyway.
        { parent: this, ignoreChanges: ['engineVersion'] },
      );

      this.cluster = cluster;

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
          { parent: this },
        );
      const writer = instance('writer', 0);
      // Readers are failover targets: Aurora places them in the subnet group's other AZ when it can and
      // promotes one (tier 1 before any later) if the writer's instance or AZ fails.
      for (let index = 1; index <= config.readerInstances; index++) instance(`reader-${index}`, 1);

      // The service reads RDS-style JSON; written after the writer exists so the first (migration)
      // invoke finds a database that accepts connections.
      this.credentials = new aws.secretsmanager.SecretVersion(
        `${name}-credentials`,
        {
          secretId: this.secret.id,
          secretString: pulumi.jsonStringify({
            engine: 'postgres',
            username: MASTER_USERNAME,
            password: password.result,
            host: cluster.endpoint,
            port: PORT,
            dbname: DATABASE_NAME,
          }),
        },
        { parent: this, dependsOn: [writer] },
      );

      this.functionVpc = { subnetIds, securityGroupIds: [functionSg.id] };
    }

    this.registerOutputs({ secretArn: this.secretArn });
  }
}
