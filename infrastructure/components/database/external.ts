// The `external` database setup: the URL given as secret config, stored in the component's secret.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ExternalDatabaseConfig } from '../../config/database.ts';
import type { DatabaseSetup } from './setup.ts';

export function externalDatabase(
  name: string,
  config: ExternalDatabaseConfig,
  secret: aws.secretsmanager.Secret,
  parent: pulumi.Resource,
): DatabaseSetup {
  const credentials = new aws.secretsmanager.SecretVersion(
    `${name}-url`,
    { secretId: secret.id, secretString: pulumi.secret(config.url) },
    { parent },
  );
  return {
    ssl: config.ssl,
    credentials,
    credentialsSecretArn: undefined,
    networkReady: [],
    functionVpc: undefined,
    vpc: undefined,
    cluster: undefined,
    proxy: undefined,
  };
}
