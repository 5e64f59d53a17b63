// Migrations: runs the database migrations once per new function version, before traffic moves to it.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { typeToken } from './type-token.ts';

/** The event the service handles on its pass-through path: it runs the pending migrations. */
const MIGRATE_EVENT = { action: 'migrate' } as const;

export interface MigrationsArgs {
  functionName: pulumi.Input<string>;
  /** The freshly published version: migrations run on the new code, not on what `live` serves. */
  qualifier: pulumi.Input<string>;
  /** Re-run whenever the image changes (a new digest means new migrations may be bundled). */
  imageDigest: pulumi.Input<string>;
  /** Must exist before the invoke (a component's own dependsOn does not reach its children). */
  dependsOn: pulumi.Resource[];
}

export class Migrations extends pulumi.ComponentResource {
  readonly invocation: aws.lambda.Invocation;
  /** The service's JSON answer, e.g. `{"success":true,"data":{"applied":[…]}}`. */
  readonly result: pulumi.Output<string>;

  constructor(name: string, args: MigrationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('migrations', 'Migrations'), name, {}, opts);

    // A synchronous invoke: when the migration fails the service answers 599, the adapter
    // (AWS_LWA_ERROR_STATUS_CODES=599, set by the image) reports a function error, the provider fails
    // this resource, and the deploy stops before the alias — which waits for this invoke — moves (in a
    // shifting stack CodeDeploy starts only after `pulumi up` succeeded). The event itself retries
    // connection failures (a resuming Aurora) until shortly before its deadline.
    this.invocation = new aws.lambda.Invocation(
      `${name}-invoke`,
      {
        functionName: args.functionName,
        qualifier: args.qualifier,
        input: JSON.stringify(MIGRATE_EVENT),
        triggers: { imageDigest: args.imageDigest },
      },
      { parent: this, dependsOn: args.dependsOn },
    );
    this.result = this.invocation.result;
    this.registerOutputs({ result: this.result });
  }
}
