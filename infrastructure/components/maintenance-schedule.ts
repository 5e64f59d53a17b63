// MaintenanceSchedule: an EventBridge rule sending the maintenance event to the `live` alias.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { MaintenanceSettings } from '../config/maintenance.ts';
import { typeToken } from './type-token.ts';

export interface MaintenanceScheduleArgs extends MaintenanceSettings {
  aliasArn: pulumi.Input<string>;
  functionName: pulumi.Input<string>;
  aliasName: pulumi.Input<string>;
}

export class MaintenanceSchedule extends pulumi.ComponentResource {
  readonly rule: aws.cloudwatch.EventRule;

  constructor(name: string, args: MaintenanceScheduleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('maintenance', 'MaintenanceSchedule'), name, {}, opts);

    // A rule, not Scheduler: it sends the "Scheduled Event" shape the service recognises.
    // Named: the longest preview stack's auto-name would pass EventBridge's 64 characters.
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
        // An auto-name would pass the Id's 64 characters on preview stacks.
        targetId: 'live-alias',
        // Asynchronous: a failed run counts in the Errors alarm; the tasks are safe to run again.
        arn: args.aliasArn,
      },
      { parent: this, dependsOn: [permission] },
    );

    this.registerOutputs({ ruleArn: this.rule.arn });
  }
}
