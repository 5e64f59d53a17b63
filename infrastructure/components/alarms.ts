// ServiceAlarms: an SNS topic (optionally mailed), alarms on the function and the API, and a dashboard.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { ALARMS, DATABASE_ALARMS, type AlarmRow } from '../alarm-catalogue.ts';
import type { AlarmSettings } from '../config/alarms.ts';
import { typeToken } from './type-token.ts';

/** The thresholds come from the stack config, one per alarm of the catalogue (alarm-catalogue.ts). */
export interface ServiceAlarmsArgs extends AlarmSettings {
  functionName: pulumi.Input<string>;
  apiId: pulumi.Input<string>;
  /** API stage name; the HTTP API metrics carry it as the `Stage` dimension. */
  stageName: string;
  region: string;
  /** Dashboard name (the stack prefix), unique per account and region. */
  dashboardName: string;
  /** Managed mode: the Aurora cluster whose writer the database alarms watch. */
  databaseClusterIdentifier?: pulumi.Input<string>;
}

export class ServiceAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: ServiceAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('alarms', 'ServiceAlarms'), name, {}, opts);

    this.topic = new aws.sns.Topic(`${name}-topic`, {}, { parent: this });
    if (args.email !== undefined) {
      // Stays "pending confirmation" until the recipient clicks the link AWS mails.
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: 'email', endpoint: args.email },
        { parent: this },
      );
    }

    // One shape for every alarm: a minute at or over the threshold, evaluationPeriods times in a row.
    const alarm = (
      spec: AlarmRow,
      threshold: number,
      metric: Pick<
        aws.cloudwatch.MetricAlarmArgs,
        'namespace' | 'dimensions' | 'statistic' | 'extendedStatistic'
      >,
    ) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.key}`,
        {
          name: `${name}-${spec.key}`,
          alarmDescription: spec.describe(threshold),
          ...metric,
          metricName: spec.metricName,
          period: 60,
          evaluationPeriods: args.evaluationPeriods,
          datapointsToAlarm: args.evaluationPeriods,
          threshold,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          // No datapoints means no traffic (metrics come only with requests) or a paused cluster: healthy.
          // "breaching" would page every quiet night, "missing" would flap to INSUFFICIENT_DATA.
          treatMissingData: 'notBreaching',
          alarmActions: [this.topic.arn],
          okActions: [this.topic.arn],
        },
        { parent: this },
      );

    const targets = {
      function: { namespace: 'AWS/Lambda', dimensions: { FunctionName: args.functionName } },
      api: { namespace: 'AWS/ApiGateway', dimensions: { ApiId: args.apiId, Stage: args.stageName } },
    };
    this.alarms = ALARMS.map((spec) =>
      alarm(spec, args.thresholds[spec.key], {
        ...targets[spec.target],
        statistic: spec.statistic === 'Sum' ? spec.statistic : undefined,
        extendedStatistic: spec.statistic === 'p99' ? spec.statistic : undefined,
      }),
    );

    // Managed mode: the writer's connections against max_connections and its capacity against the maximum.
    const clusterIdentifier = args.databaseClusterIdentifier;
    const databaseThresholds = args.databaseThresholds;
    if (clusterIdentifier !== undefined && databaseThresholds !== undefined) {
      for (const spec of DATABASE_ALARMS) {
        this.alarms.push(
          alarm(spec, databaseThresholds[spec.key], {
            namespace: 'AWS/RDS',
            dimensions: { DBClusterIdentifier: clusterIdentifier, Role: 'WRITER' },
            statistic: 'Maximum',
          }),
        );
      }
    }
    const databaseMetric = (cluster: pulumi.Input<string>, metric: string) =>
      pulumi
        .output(cluster)
        .apply((id) => ['AWS/RDS', metric, 'DBClusterIdentifier', id, 'Role', 'WRITER', { stat: 'Maximum' }]);

    const lambdaMetric = (metric: string, stat: string) =>
      pulumi.output(args.functionName).apply((fn) => ['AWS/Lambda', metric, 'FunctionName', fn, { stat }]);
    const apiMetric = (metric: string, stat: string) =>
      pulumi
        .output(args.apiId)
        .apply((apiId) => ['AWS/ApiGateway', metric, 'ApiId', apiId, 'Stage', args.stageName, { stat }]);
    const widget = (title: string, x: number, y: number, metrics: pulumi.Output<unknown[]>[]) => ({
      type: 'metric',
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region: args.region, view: 'timeSeries', period: 60, metrics },
    });

    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: args.dashboardName,
        dashboardBody: pulumi.jsonStringify({
          widgets: [
            {
              type: 'alarm',
              x: 0,
              y: 0,
              width: 24,
              height: 3,
              properties: { title: 'Alarms', alarms: this.alarms.map((alarm) => alarm.arn) },
            },
            widget('API requests and errors', 0, 3, [
              apiMetric('Count', 'Sum'),
              apiMetric('4xx', 'Sum'),
              apiMetric('5xx', 'Sum'),
            ]),
            widget('API latency', 12, 3, [
              apiMetric('Latency', 'p50'),
              apiMetric('Latency', 'p99'),
              apiMetric('IntegrationLatency', 'p99'),
            ]),
            widget('Lambda invocations', 0, 9, [
              lambdaMetric('Invocations', 'Sum'),
              lambdaMetric('Errors', 'Sum'),
              lambdaMetric('Throttles', 'Sum'),
            ]),
            widget('Lambda duration and concurrency', 12, 9, [
              lambdaMetric('Duration', 'p50'),
              lambdaMetric('Duration', 'p99'),
              lambdaMetric('ConcurrentExecutions', 'Maximum'),
            ]),
            ...(clusterIdentifier === undefined
              ? []
              : [
                  widget('Database connections', 0, 15, [
                    databaseMetric(clusterIdentifier, 'DatabaseConnections'),
                  ]),
                  widget('Database capacity (ACU)', 12, 15, [
                    databaseMetric(clusterIdentifier, 'ServerlessDatabaseCapacity'),
                  ]),
                ]),
          ],
        }),
      },
      { parent: this },
    );

    this.dashboardUrl = pulumi.interpolate`https://${args.region}.console.aws.amazon.com/cloudwatch/home?region=${args.region}#dashboards/dashboard/${this.dashboard.dashboardName}`;
    this.registerOutputs({ topicArn: this.topic.arn, dashboardUrl: this.dashboardUrl });
  }
}
