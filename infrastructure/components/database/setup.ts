// What either database setup hands back to the Database component (and through it, to the function).
import type * as aws from '@pulumi/aws';
import type * as awsx from '@pulumi/awsx';
import type * as pulumi from '@pulumi/pulumi';

export interface DatabaseSetup {
  /** DATABASE_SSL for the service. */
  ssl: boolean;
  /** The secret's value: the function must not be created before it exists. */
  credentials: aws.secretsmanager.SecretVersion;
  /** Managed only: the RDS-managed secret holding the rotated username and password. */
  credentialsSecretArn: pulumi.Output<string> | undefined;
  /** Managed only: where the function must run to reach the cluster. */
  functionVpc: { subnetIds: pulumi.Output<string[]>; securityGroupIds: pulumi.Output<string>[] } | undefined;
  vpc: awsx.ec2.Vpc | undefined;
  /** What the first invoke must wait for besides the credentials (managed: endpoint, security-group rules). */
  networkReady: pulumi.Resource[];
  cluster: aws.rds.Cluster | undefined;
  /** Managed mode with databaseProxy: what the function connects to. */
  proxy: aws.rds.Proxy | undefined;
}
