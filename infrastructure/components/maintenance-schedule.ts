// MaintenanceSchedule: an EventBridge rule that sends the service its scheduled maintenance event
// (purging soft-deleted books and old API-key usage) through the `live` alias.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { MaintenanceSettings } from '../config/maintenance.ts';
import { typeToken } from './type-token.ts';

/** The stack's schedule (config/maintenance.ts) plus the alias it invokes. */
export interface MaintenanceScheduleArgs extends MaintenanceSettings {
  /** The alias the rule invokes (`…:function:<name>:live`). */
  aliasArn: pulumi.Input<string>;
  functionName: pulumi.Input<string>;
  aliasName: pulumi.Input<string>;
}

export class MaintenanceSchedule extends pulumi.ComponentResource {
  readonly rule: aws.cloudwatch.EventRule;

  constructor(name: string, args: MaintenanceScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('maintenance', 'MaintenanceSchedule'), name, {}, opts);

    // A rule (not EventBridge Scheduler) sends the "Scheduled Event" shape the service recognises:
    // `{"source": "aws.events", "detail-type": "Scheduled Event", …}`.
    // Named explicitly: an auto-name (URN name + 8) of the longest preview stack passes EventBridge's 64.
    this.rule = new aws.cloudwatch.EventRule(
      `${name}-rule`,
      {
        name,
        description: 'Scheduled maintenance of the service (purges), through its live alias',
        scheduleExpression: args.scheduleExpression,
      },
      { parent: this },
    );

    const permission = new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: args.functionName,
        qualifier: args.aliasName,
        principal: 'events.amazonaws.com',
        sourceArn: this.rule.arn,
      },
      { parent: this },
    );

    new aws.cloudwatch.EventTarget(
      `${name}-target`,
      {
        rule: this.rule.name,
        // Unique within its rule; an auto-name would pass the Id's 64-character limit on preview stacks.
        targetId: 'live-alias',
        // EventBridge invokes asynchronously: a failed run (the service answers 599, an invocation
        // error) counts in the Errors alarm, and the maintenance tasks are safe to run again.
        arn: args.aliasArn,
      },
      { parent: this, dependsOn: [permission] },
    );

    this.registerOutputs({ ruleArn: this.rule.arn });
  }
}
