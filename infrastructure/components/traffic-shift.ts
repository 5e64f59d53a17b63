// TrafficShift: the CodeDeploy application and deployment group that move `live` to a new version step by
// step and roll it back when an alarm fires; the deploy workflow starts each deployment.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import boundary from '../permissions-boundary.json' with { type: 'json' };
import type { ShiftSettings } from '../config/deployment.ts';
import { typeToken } from './type-token.ts';

/** The new version's alarms fire on a single failure in a minute; no traffic is not a failure. */
const ANY_IN_A_MINUTE = {
  statistic: 'Sum',
  period: 60,
  evaluationPeriods: 1,
  threshold: 0,
  comparisonOperator: 'GreaterThanThreshold',
  treatMissingData: 'notBreaching',
} as const;

export interface TrafficShiftArgs {
  shift: ShiftSettings;
  functionName: pulumi.Input<string>;
  functionArn: pulumi.Input<string>;
  aliasName: pulumi.Input<string>;
  /** The version this deploy published: the new-version alarm watches it. */
  version: pulumi.Input<string>;
  /** The function's log group: its request-complete lines carry `functionVersion`. */
  logGroupName: pulumi.Input<string>;
  /** The stack's alarms; any of them in ALARM during the shift rolls `live` back. */
  stackAlarmNames: pulumi.Input<string>[];
  alarmTopicArn: pulumi.Input<string>;
}

export class TrafficShift extends pulumi.ComponentResource {
  readonly application: aws.codedeploy.Application;
  readonly deploymentGroup: aws.codedeploy.DeploymentGroup;
  readonly deploymentConfigName: pulumi.Output<string>;
  /** Errors of the new version alone, as served through `live` (Lambda's ExecutedVersion dimension). */
  readonly versionErrorsAlarm: aws.cloudwatch.MetricAlarm;
  /** 5xx answers of the new version, counted from its request-complete log lines. */
  readonly version5xxAlarm: aws.cloudwatch.MetricAlarm;
  readonly alarmNames: pulumi.Output<string[]>;

  constructor(name: string, args: TrafficShiftArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('deployment', 'TrafficShift'), name, {}, opts);

    this.application = new aws.codedeploy.Application(
      `${name}-app`,
      { name, computePlatform: 'Lambda' },
      { parent: this },
    );

    const { shift } = args;
    this.deploymentConfigName =
      shift.predefinedConfigName === undefined
        ? new aws.codedeploy.DeploymentConfig(
            `${name}-config`,
            {
              deploymentConfigName: `${name}-${shift.type}-${shift.percentage}pct-${shift.intervalMinutes}min`,
              computePlatform: 'Lambda',
              trafficRoutingConfig:
                shift.type === 'canary'
                  ? {
                      type: 'TimeBasedCanary',
                      timeBasedCanary: { percentage: shift.percentage, interval: shift.intervalMinutes },
                    }
                  : {
                      type: 'TimeBasedLinear',
                      timeBasedLinear: { percentage: shift.percentage, interval: shift.intervalMinutes },
                    },
            },
            { parent: this },
          ).deploymentConfigName
        : pulumi.output(shift.predefinedConfigName);

    // Any invocation error of the new version through `live` rolls back (as SAM's safe-deployment example
    // alarms); the function-wide alarms would dilute a canary's errors with the old version's traffic.
    this.versionErrorsAlarm = new aws.cloudwatch.MetricAlarm(
      `${name}-version-errors`,
      {
        name: `${name}-version-errors`,
        alarmDescription: 'Invocation errors of the version being shifted to, served through live',
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: {
          FunctionName: args.functionName,
          Resource: pulumi.interpolate`${args.functionName}:${args.aliasName}`,
          ExecutedVersion: args.version,
        },
        ...ANY_IN_A_MINUTE,
        alarmActions: [args.alarmTopicArn],
      },
      { parent: this },
    );

    // A 5xx answer is a successful invocation: count the new version's own from its log lines (docs/deploy.md).
    const fiveXx = new aws.cloudwatch.LogMetricFilter(
      `${name}-version-5xx`,
      {
        name: `${name}-version-5xx`,
        logGroupName: args.logGroupName,
        pattern: '{ $.res.statusCode >= 500 }',
        metricTransformation: {
          namespace: name,
          name: 'Http5xx',
          value: '1',
          unit: 'Count',
          dimensions: { FunctionVersion: '$.functionVersion' },
        },
      },
      { parent: this },
    );
    this.version5xxAlarm = new aws.cloudwatch.MetricAlarm(
      `${name}-version-5xx`,
      {
        name: `${name}-version-5xx`,
        alarmDescription: '5xx answers of the version being shifted to, from its request log lines',
        namespace: fiveXx.metricTransformation.namespace,
        metricName: fiveXx.metricTransformation.name,
        dimensions: { FunctionVersion: args.version },
        ...ANY_IN_A_MINUTE,
        alarmActions: [args.alarmTopicArn],
      },
      { parent: this },
    );
    this.alarmNames = pulumi.all([
      ...args.stackAlarmNames,
      this.versionErrorsAlarm.name,
      this.version5xxAlarm.name,
    ]);

    // The boundary caps it to reading alarms and moving its own stack's aliases.
    const { accountId } = aws.getCallerIdentityOutput({}, { parent: this });
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        permissionsBoundary: pulumi.interpolate`arn:aws:iam::${accountId}:policy/${boundary.policyName}`,
        assumeRolePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'codedeploy.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      },
      { parent: this },
    );
    // AWSCodeDeployRoleForLambda's Lambda and CloudWatch calls, limited to this function; no S3 (the
    // workflow sends the AppSpec inline) and no hook functions.
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              // Alias calls authorise on the function's own ARN (IAM service authorization reference).
              Sid: 'ShiftOwnAlias',
              Effect: 'Allow',
              Action: ['lambda:GetAlias', 'lambda:UpdateAlias'],
              Resource: args.functionArn,
            },
            {
              Sid: 'ReadOwnAliasProvisionedConcurrency',
              Effect: 'Allow',
              Action: ['lambda:GetProvisionedConcurrencyConfig'],
              Resource: pulumi.interpolate`${args.functionArn}:${args.aliasName}`,
            },
            {
              // DescribeAlarms has no resource-level permissions.
              Sid: 'ReadAlarms',
              Effect: 'Allow',
              Action: ['cloudwatch:DescribeAlarms'],
              Resource: '*',
            },
          ],
        }),
      },
      { parent: this },
    );

    this.deploymentGroup = new aws.codedeploy.DeploymentGroup(
      `${name}-group`,
      {
        appName: this.application.name,
        deploymentGroupName: `${name}-live`,
        serviceRoleArn: role.arn,
        deploymentConfigName: this.deploymentConfigName,
        deploymentStyle: { deploymentOption: 'WITH_TRAFFIC_CONTROL', deploymentType: 'BLUE_GREEN' },
        autoRollbackConfiguration: {
          enabled: true,
          events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'],
        },
        alarmConfiguration: { enabled: true, alarms: this.alarmNames },
      },
      { parent: this, dependsOn: [policy] },
    );

    this.registerOutputs({
      applicationName: this.application.name,
      deploymentGroupName: this.deploymentGroup.deploymentGroupName,
    });
  }
}
