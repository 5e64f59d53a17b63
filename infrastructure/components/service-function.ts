// ServiceFunction: the Lambda running the service image, its role and logs, and the `live` alias that
// only moves to a new version after that version's migrations succeeded.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import boundary from '../permissions-boundary.json' with { type: 'json' };
import type { FunctionSettings } from '../config/function.ts';
import { Migrations } from './migrations.ts';
import { typeToken } from './type-token.ts';

const ALIAS_NAME = 'live';

/** The stack's function settings (config/function.ts) plus what the other components provide. */
export interface ServiceFunctionArgs extends FunctionSettings {
  /** Digest-pinned image reference (`repo@sha256:…`). */
  imageUri: pulumi.Input<string>;
  /** Triggers the migrations when the image changes. */
  imageDigest: pulumi.Input<string>;
  /** The Lambda Web Adapter settings the image sets (adapter-settings.ts), repeated on the function. */
  adapterSettings: Record<string, string>;
  /** The database secret; its ARN is passed as DATABASE_SECRET_ARN. */
  databaseSecretArn: pulumi.Input<string>;
  /** Every secret the function may read: the database secret and any secret it names. */
  readableSecretArns: pulumi.Input<string>[];
  /**
   * What must exist before the function (and so its migration invoke): the database credentials, the
   * image's pull permission. A component's own `dependsOn` does not reach its children, hence this.
   */
  createAfter: pulumi.Resource[];
  /** What the migration invoke must wait for besides the function (the network path to the database). */
  invokeAfter: pulumi.Resource[];
  /** CodeDeploy moves `live` (TrafficShift): Pulumi publishes and migrates, but leaves the alias where it is. */
  shiftsTraffic: boolean;
  /** Instances kept initialised on `live`; 0 for none. */
  provisionedConcurrency: number;
  /** SnapStart on every published version (config/snapstart.ts: never with provisioned concurrency). */
  snapStart: boolean;
  /** Present in managed-database mode: the function runs in these subnets with this security group. */
  vpc?: {
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    securityGroupIds: pulumi.Input<pulumi.Input<string>[]>;
  };
}

export class ServiceFunction extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly function: aws.lambda.Function;
  readonly alias: aws.lambda.Alias;
  readonly provisionedConcurrency: aws.lambda.ProvisionedConcurrencyConfig | undefined;
  readonly migrations: Migrations;
  readonly functionName: pulumi.Output<string>;

  constructor(name: string, args: ServiceFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('function', 'ServiceFunction'), name, {}, opts);

    // Created up front (not by Lambda on first log line) so retention applies and destroy removes it.
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${name}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );

    // The deploy roles may only create roles under this boundary (.github/iam/workload-boundary.json).
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        permissionsBoundary: pulumi.interpolate`arn:aws:iam::${accountId}:policy/${boundary.policyName}`,
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      },
      { parent: this },
    );

    // Least privilege, spelled out instead of AWS managed policies (which grant logs:* on every group).
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'WriteOwnLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: pulumi.interpolate`${this.logGroup.arn}:*`,
            },
            {
              Sid: 'ReadDatabaseSecret',
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue'],
              Resource: args.readableSecretArns,
            },
            {
              // X-Ray has no resource-level permissions.
              Sid: 'Tracing',
              Effect: 'Allow',
              Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
              Resource: '*',
            },
            ...(args.vpc === undefined
              ? []
              : [
                  {
                    // Lambda manages the function's network interfaces; these EC2 calls cannot be scoped.
                    Sid: 'VpcNetworkInterfaces',
                    Effect: 'Allow',
                    Action: [
                      'ec2:CreateNetworkInterface',
                      'ec2:DescribeNetworkInterfaces',
                      'ec2:DescribeSubnets',
                      'ec2:DeleteNetworkInterface',
                      'ec2:AssignPrivateIpAddresses',
                      'ec2:UnassignPrivateIpAddresses',
                    ],
                    Resource: '*',
                  },
                ]),
          ],
        }),
      },
      { parent: this },
    );

    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name,
        packageType: 'Image',
        imageUri: args.imageUri,
        architectures: [args.architecture],
        memorySize: args.memorySize,
        timeout: args.timeout,
        role: this.role.arn,
        // Every change publishes an immutable version; `live` decides which one serves traffic.
        publish: true,
        snapStart: args.snapStart ? { applyOn: 'PublishedVersions' } : undefined,
        reservedConcurrentExecutions: args.reservedConcurrency ?? -1,
        tracingConfig: { mode: 'Active' },
        loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
        environment: {
          variables: {
            ...args.adapterSettings,
            ...args.environment,
            DATABASE_SECRET_ARN: args.databaseSecretArn,
          },
        },
        vpcConfig:
          args.vpc === undefined
            ? undefined
            : { subnetIds: args.vpc.subnetIds, securityGroupIds: args.vpc.securityGroupIds },
      },
      // The role must be able to write logs and read the secret before the first (migration) invoke.
      { parent: this, dependsOn: [policy, this.logGroup, ...args.createAfter] },
    );

    // Every new version migrates the database before `live` moves to it.
    this.migrations = new Migrations(
      `${name}-migrations`,
      {
        functionName: this.function.name,
        qualifier: this.function.version,
        imageDigest: args.imageDigest,
        dependsOn: args.invokeAfter,
      },
      { parent: this },
    );

    this.alias = new aws.lambda.Alias(
      `${name}-alias`,
      {
        name: ALIAS_NAME,
        functionName: this.function.name,
        functionVersion: this.function.version,
        description: 'The version the HTTP API serves; moves only after migrations succeed',
      },
      {
        parent: this,
        dependsOn: [this.migrations],
        // Shifted by CodeDeploy: the workflow refreshes the alias after each deployment (docs/deploy.md).
        ignoreChanges: args.shiftsTraffic ? ['functionVersion', 'routingConfig'] : [],
      },
    );

    this.provisionedConcurrency =
      args.provisionedConcurrency > 0
        ? new aws.lambda.ProvisionedConcurrencyConfig(
            `${name}-provisioned`,
            {
              functionName: this.function.name,
              qualifier: this.alias.name,
              provisionedConcurrentExecutions: args.provisionedConcurrency,
            },
            { parent: this },
          )
        : undefined;

    this.functionName = this.function.name;
    this.registerOutputs({ functionName: this.functionName, aliasArn: this.alias.arn });
  }
}
