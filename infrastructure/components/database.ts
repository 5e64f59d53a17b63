// Database: the one Secrets Manager secret the function reads, filled by `external` (a given URL) or
// `managed` (Aurora); setups are functions, not components, so their resources keep this parent and URNs.
import * as aws from '@pulumi/aws';
import type * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import type { DatabaseConfig } from '../config/database.ts';
import { externalDatabase } from './database/external.ts';
import { managedDatabase } from './database/managed.ts';
import type { DatabaseSetup } from './database/setup.ts';
import { typeToken } from './type-token.ts';

export interface DatabaseArgs {
  config: DatabaseConfig;
  region: string;
  /** Disposable stacks skip the final snapshot and deletion protection regardless of config. */
  ephemeral: boolean;
}

export class Database extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  readonly secretArn: pulumi.Output<string>;
  /** Every secret the service reads: the connection secret and, in managed mode, RDS's password secret. */
  readonly readableSecretArns: pulumi.Output<string>[];
  /** How the service connects: DATABASE_POOL_MAX from config, DATABASE_SSL (always on for Aurora). */
  readonly serviceEnvironment: Record<string, string>;
  /** Managed mode only: where the function must run to reach the cluster. */
  readonly functionVpc: DatabaseSetup['functionVpc'];
  readonly vpc: awsx.ec2.Vpc | undefined;
  readonly cluster: aws.rds.Cluster | undefined;
  /** Managed mode with databaseProxy: the proxy the function connects through. */
  readonly proxy: aws.rds.Proxy | undefined;
  /** The secret's value: written only once the database accepts connections (managed mode). */
  readonly credentials: aws.secretsmanager.SecretVersion;
  /** Managed mode: the endpoint and security-group rules the first invoke needs. */
  readonly networkReady: pulumi.Resource[];

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

    const setup =
      args.config.mode === 'external'
        ? externalDatabase(name, args.config, this.secret, this)
        : managedDatabase(
            name,
            { config: args.config, region: args.region, ephemeral: args.ephemeral, secret: this.secret },
            this,
          );
    this.serviceEnvironment = {
      DATABASE_POOL_MAX: String(args.config.poolMax),
      DATABASE_SSL: String(setup.ssl),
    };
    this.credentials = setup.credentials;
    this.readableSecretArns =
      setup.credentialsSecretArn === undefined
        ? [this.secretArn]
        : [this.secretArn, setup.credentialsSecretArn];
    this.functionVpc = setup.functionVpc;
    this.networkReady = setup.networkReady;
    this.vpc = setup.vpc;
    this.cluster = setup.cluster;
    this.proxy = setup.proxy;

    this.registerOutputs({ secretArn: this.secretArn });
  }
}
