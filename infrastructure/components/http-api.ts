// HttpApi: one `$default` route proxies every request to the `live` alias; CORS is the service's.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { HttpApiSettings } from '../config/http-api.ts';
import { typeToken } from './type-token.ts';

export interface HttpApiArgs extends HttpApiSettings {
  aliasArn: pulumi.Input<string>;
  functionName: pulumi.Input<string>;
  aliasName: pulumi.Input<string>;
}

// JSON, so Logs Insights can query it.
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
});

// API Gateway's limit: a longer function timeout is never waited for.
export const INTEGRATION_TIMEOUT_MS = 30_000;

// Served at the root URL; also the metrics' `Stage` dimension.
const STAGE_NAME = '$default';

export class HttpApi extends pulumi.ComponentResource {
  readonly api: aws.apigatewayv2.Api;
  readonly stageName = STAGE_NAME;
  readonly stage: aws.apigatewayv2.Stage;
  readonly integration: aws.apigatewayv2.Integration;
  readonly permission: aws.lambda.Permission;
  readonly accessLogGroup: aws.cloudwatch.LogGroup;
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: HttpApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('api', 'HttpApi'), name, {}, opts);

    this.api = new aws.apigatewayv2.Api(
      `${name}-api`,
      {
        name,
        protocolType: 'HTTP',
        // The execute-api URL would bypass the custom domain's TLS policy.
        disableExecuteApiEndpoint: args.domain !== undefined,
        // No CORS: API Gateway would answer preflights, hiding RateLimit-* and X-Quota-* from browsers.
      },
      { parent: this },
    );

    this.accessLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      // /aws/vendedlogs/ spares the account's log resource policy: docs/deploy.md#stack-configuration
      { name: `/aws/vendedlogs/apigateway/${name}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );

    this.integration = new aws.apigatewayv2.Integration(
      `${name}-integration`,
      {
        apiId: this.api.id,
        integrationType: 'AWS_PROXY',
        integrationUri: args.aliasArn,
        integrationMethod: 'POST',
        // The event shape the Lambda Web Adapter translates back into HTTP.
        payloadFormatVersion: '2.0',
        timeoutMilliseconds: INTEGRATION_TIMEOUT_MS,
      },
      { parent: this },
    );

    const route = new aws.apigatewayv2.Route(
      `${name}-route`,
      {
        apiId: this.api.id,
        routeKey: '$default',
        target: pulumi.interpolate`integrations/${this.integration.id}`,
      },
      { parent: this },
    );

    this.stage = new aws.apigatewayv2.Stage(
      `${name}-stage`,
      {
        apiId: this.api.id,
        name: STAGE_NAME,
        autoDeploy: true,
        defaultRouteSettings: {
          throttlingRateLimit: args.throttle.rateLimit,
          throttlingBurstLimit: args.throttle.burstLimit,
        },
        accessLogSettings: { destinationArn: this.accessLogGroup.arn, format: ACCESS_LOG_FORMAT },
      },
      { parent: this, dependsOn: [route] },
    );

    this.permission = new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: 'lambda:InvokeFunction',
        function: args.functionName,
        qualifier: args.aliasName,
        principal: 'apigateway.amazonaws.com',
        sourceArn: pulumi.interpolate`${this.api.executionArn}/*/*`,
      },
      { parent: this },
    );

    this.url = args.domain === undefined ? this.stage.invokeUrl : this.customDomain(name, args.domain);
    this.registerOutputs({ url: this.url, apiId: this.api.id });
  }

  private customDomain(name: string, domain: { name: string; hostedZoneId: string }): pulumi.Output<string> {
    const certificate = new aws.acm.Certificate(
      `${name}-cert`,
      { domainName: domain.name, validationMethod: 'DNS' },
      { parent: this },
    );
    // A single-name certificate has exactly one DNS validation record.
    const option = certificate.domainValidationOptions.apply((options) => {
      const [first] = options;
      /* c8 ignore next -- ACM returns one validation option per name; this guards the type only */
      if (first === undefined) throw new Error(`certificate for ${domain.name} has no DNS validation option`);
      return first;
    });
    const validationRecord = new aws.route53.Record(
      `${name}-cert-validation`,
      {
        zoneId: domain.hostedZoneId,
        name: option.resourceRecordName,
        type: option.resourceRecordType,
        records: [option.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      { parent: this },
    );
    const validation = new aws.acm.CertificateValidation(
      `${name}-cert-validated`,
      { certificateArn: certificate.arn, validationRecordFqdns: [validationRecord.fqdn] },
      { parent: this },
    );
    const domainName = new aws.apigatewayv2.DomainName(
      `${name}-domain`,
      {
        domainName: domain.name,
        domainNameConfiguration: {
          certificateArn: validation.certificateArn,
          endpointType: 'REGIONAL',
          securityPolicy: 'TLS_1_2',
          // The default (ipv4) would leave the AAAA record unanswered.
          ipAddressType: 'dualstack',
        },
      },
      { parent: this },
    );
    new aws.apigatewayv2.ApiMapping(
      `${name}-mapping`,
      { apiId: this.api.id, domainName: domainName.id, stage: this.stage.id },
      { parent: this },
    );
    // The domain is dual-stack: alias both record types.
    for (const type of ['A', 'AAAA']) {
      new aws.route53.Record(
        `${name}-alias-record${type === 'A' ? '' : '-ipv6'}`,
        {
          zoneId: domain.hostedZoneId,
          name: domain.name,
          type,
          aliases: [
            {
              name: domainName.domainNameConfiguration.targetDomainName,
              zoneId: domainName.domainNameConfiguration.hostedZoneId,
              evaluateTargetHealth: false,
            },
          ],
        },
        { parent: this },
      );
    }
    return pulumi.output(`https://${domain.name}/`);
  }
}
