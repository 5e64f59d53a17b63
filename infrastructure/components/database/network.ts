// The managed database's network: isolated subnets (no NAT: nothing to pay per hour, nothing to reach in)
// and security groups that let the function, and only it, reach the cluster and the Secrets Manager endpoint.
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import type * as pulumi from '@pulumi/pulumi';

export interface DatabaseNetwork {
  vpc: awsx.ec2.Vpc;
  subnetIds: pulumi.Output<string[]>;
  /** Attached to the function only, so "from this group" means "from the function". */
  functionSecurityGroup: aws.ec2.SecurityGroup;
  databaseSecurityGroup: aws.ec2.SecurityGroup;
  /** With the proxy: attached to it; the function reaches the proxy only, the proxy the database. */
  proxySecurityGroup: aws.ec2.SecurityGroup | undefined;
  /** The endpoint and the rules: until they exist the function reaches neither the database nor its secret. */
  ready: pulumi.Resource[];
}

export function databaseNetwork(
  name: string,
  { region, databasePort, proxy }: { region: string; databasePort: number; proxy: boolean },
  parent: pulumi.Resource,
): DatabaseNetwork {
  const vpc = new awsx.ec2.Vpc(
    `${name}-vpc`,
    {
      numberOfAvailabilityZones: 2,
      natGateways: { strategy: 'None' },
      subnetStrategy: 'Auto',
      subnetSpecs: [{ type: 'Isolated', name: 'private', cidrMask: 20 }],
      enableDnsHostnames: true,
      enableDnsSupport: true,
    },
    { parent },
  );
  const vpcId = vpc.vpcId;
  const subnetIds = vpc.isolatedSubnetIds;

  const securityGroup = (key: string, description: string) =>
    new aws.ec2.SecurityGroup(`${name}-${key}`, { vpcId, description }, { parent });
  const functionSg = securityGroup('function-sg', 'The service function (attached to it only)');
  const databaseSg = securityGroup('db-sg', 'Aurora: PostgreSQL from the service function only');
  const endpointSg = securityGroup('endpoint-sg', 'Secrets Manager endpoint: HTTPS from the function');

  const ready: pulumi.Resource[] = [];
  const allow = (key: string, from: aws.ec2.SecurityGroup, to: aws.ec2.SecurityGroup, port: number) => {
    const rule = { ipProtocol: 'tcp', fromPort: port, toPort: port };
    const egress = new aws.vpc.SecurityGroupEgressRule(
      `${name}-${key}-out`,
      { securityGroupId: from.id, referencedSecurityGroupId: to.id, ...rule },
      { parent },
    );
    const ingress = new aws.vpc.SecurityGroupIngressRule(
      `${name}-${key}-in`,
      { securityGroupId: to.id, referencedSecurityGroupId: from.id, ...rule },
      { parent },
    );
    ready.push(egress, ingress);
  };
  const proxySg = proxy
    ? securityGroup('proxy-sg', 'RDS Proxy: PostgreSQL from the function only')
    : undefined;
  if (proxySg === undefined) allow('postgres', functionSg, databaseSg, databasePort);
  else {
    allow('proxy', functionSg, proxySg, databasePort);
    allow('proxy-postgres', proxySg, databaseSg, databasePort);
    allow('proxy-secrets', proxySg, endpointSg, 443);
  }
  allow('secrets', functionSg, endpointSg, 443);

  // The function reads its credentials from Secrets Manager through this endpoint (no internet route).
  const endpoint = new aws.ec2.VpcEndpoint(
    `${name}-secrets-endpoint`,
    {
      vpcId,
      serviceName: `com.amazonaws.${region}.secretsmanager`,
      vpcEndpointType: 'Interface',
      privateDnsEnabled: true,
      subnetIds,
      securityGroupIds: [endpointSg.id],
    },
    { parent },
  );

  ready.push(endpoint);
  return {
    vpc,
    subnetIds,
    functionSecurityGroup: functionSg,
    databaseSecurityGroup: databaseSg,
    proxySecurityGroup: proxySg,
    ready,
  };
}
