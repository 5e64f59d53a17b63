// ServiceImage: the ECR repository and the service image built from docker/Dockerfile, pinned by digest.
import * as aws from '@pulumi/aws';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { CACHE_TAG, type ImageSettings } from '../config/image.ts';
import type { Platform } from '../platforms.ts';
import { typeToken } from './type-token.ts';

export interface ServiceImageArgs extends ImageSettings {
  // Relative, so it is the same in every checkout.
  contextPath: string;
  dockerfilePath: string;
  region: string;
}

function partitionOf(arn: string): string {
  return arn.slice('arn:'.length, arn.indexOf(':', 'arn:'.length));
}

function registryOf(repositoryUrl: string): string {
  return repositoryUrl.slice(0, repositoryUrl.indexOf('/'));
}

export class ServiceImage extends pulumi.ComponentResource {
  readonly repository: aws.ecr.Repository;
  // A function created before it cannot start.
  readonly pullPolicy: aws.ecr.RepositoryPolicy;
  readonly image: dockerBuild.Image;
  // A reused tag would never update the function; a digest always does.
  readonly imageUri: pulumi.Output<string>;
  readonly digest: pulumi.Output<string>;
  readonly platform: Platform;

  constructor(name: string, args: ServiceImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super(typeToken('image', 'ServiceImage'), name, {}, opts);
    this.platform = args.platform;

    this.repository = new aws.ecr.Repository(
      `${name}-repo`,
      {
        name,
        imageScanningConfiguration: { scanOnPush: true },
        // Only the build cache tag moves.
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filter: CACHE_TAG, filterType: 'WILDCARD' }],
        encryptionConfigurations: [{ encryptionType: 'AES256' }],
        // Rebuilt from git: `pulumi destroy` may delete them.
        forceDelete: true,
      },
      { parent: this },
    );

    // Only untagged manifests expire: docs/deploy.md#stack-configuration
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: this.repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `Expire untagged images after ${args.untaggedExpiryDays} days; tagged releases are kept`,
              selection: {
                tagStatus: 'untagged',
                countType: 'sinceImagePushed',
                countUnit: 'days',
                countNumber: args.untaggedExpiryDays,
              },
              action: { type: 'expire' },
            },
          ],
        }),
      },
      { parent: this },
    );

    // Lambda's service principal pulls: aws:SourceArn limits it to this account and region (confused deputy).
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    this.pullPolicy = new aws.ecr.RepositoryPolicy(
      `${name}-lambda-pull`,
      {
        repository: this.repository.name,
        policy: identity.apply(({ accountId, arn }) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'LambdaPull',
                Effect: 'Allow',
                Principal: { Service: 'lambda.amazonaws.com' },
                Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
                Condition: {
                  StringLike: {
                    'aws:SourceArn': `arn:${partitionOf(arn)}:lambda:${args.region}:${accountId}:function:*`,
                  },
                  StringEquals: { 'aws:SourceAccount': accountId },
                },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );

    const cacheRef = pulumi.interpolate`${this.repository.repositoryUrl}:${CACHE_TAG}`;
    const sharedCacheRef =
      args.sharedCacheRepository === undefined
        ? undefined
        : pulumi.interpolate`${this.repository.repositoryUrl.apply(registryOf)}/${args.sharedCacheRepository}:${CACHE_TAG}`;
    this.image = new dockerBuild.Image(
      `${name}-image`,
      {
        context: { location: args.contextPath },
        dockerfile: { location: args.dockerfilePath },
        platforms: [args.platform],
        // The runtime stage defaults to arm64 (BuildKit cannot see --platform): an x86_64 stack needs this.
        buildArgs: { PLATFORM: args.platform },
        tags: [pulumi.interpolate`${this.repository.repositoryUrl}:${args.tag}`],
        // Same inputs for preview and `up`, no build on preview: docs/deploy.md#stack-configuration
        push: true,
        buildOnPreview: false,
        // One platform, no attestations: Lambda rejects image indexes.
        // No `registries`: the ECR token would sit in the state that pull-request plans read.
        cacheFrom: [cacheRef, ...(sharedCacheRef === undefined ? [] : [sharedCacheRef])].map((ref) => ({
          registry: { ref },
        })),
        cacheTo: [{ registry: { ref: cacheRef, imageManifest: true, ociMediaTypes: true, mode: 'max' } }],
      },
      { parent: this },
    );

    this.digest = this.image.digest;
    this.imageUri = pulumi.interpolate`${this.repository.repositoryUrl}@${this.image.digest}`;
    this.registerOutputs({ repositoryUrl: this.repository.repositoryUrl, imageUri: this.imageUri });
  }
}
