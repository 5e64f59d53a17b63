// ServiceImage: the ECR repository and the service image built from docker/Dockerfile, pinned by digest.
import * as aws from '@pulumi/aws';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import { CACHE_TAG, type ImageSettings } from '../config/image.ts';
import type { Platform } from '../platforms.ts';
import { typeToken } from './type-token.ts';

/** The stack's image settings (config/image.ts) plus where to build from and who may pull. */
export interface ServiceImageArgs extends ImageSettings {
  /**
   * The build context (the repository root: the Dockerfile copies the workspaces from there), relative
   * to the program's working directory, so that it is the same in every checkout.
   */
  contextPath: string;
  /** The Dockerfile, relative to the program's working directory. */
  dockerfilePath: string;
  /** Region of the functions allowed to pull. */
  region: string;
}

/** `arn:<partition>:…` → the partition (aws, aws-cn, aws-us-gov). */
function partitionOf(arn: string): string {
  return arn.slice('arn:'.length, arn.indexOf(':', 'arn:'.length));
}

/** `<account>.dkr.ecr.<region>.<domain>/<name>` → the registry part. */
function registryOf(repositoryUrl: string): string {
  return repositoryUrl.slice(0, repositoryUrl.indexOf('/'));
}

export class ServiceImage extends pulumi.ComponentResource {
  readonly repository: aws.ecr.Repository;
  /** Lets this account's Lambda functions pull: a function created before it cannot start. */
  readonly pullPolicy: aws.ecr.RepositoryPolicy;
  readonly image: dockerBuild.Image;
  /** `<repository>@sha256:…` — a reused tag would never update the function, a digest always does. */
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
        // Release tags are write-once; only the build cache tag is overwritten on every build.
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filter: CACHE_TAG, filterType: 'WILDCARD' }],
        encryptionConfigurations: [{ encryptionType: 'AES256' }],
        // Images are rebuilt from git, so `pulumi destroy` may delete them with the repository.
        forceDelete: true,
      },
      { parent: this },
    );

    // Only untagged manifests expire (docs/deploy.md): no "keep the last N", which N failed deploys in a
    // row would turn into expiring the digest production still runs.
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

    // Lambda pulls the image with its service principal; limit that to functions of this account and
    // region, with aws:SourceArn as AWS's own templates do (the confused-deputy guard).
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

    // Each stack has its own repository, so its cache ref is its own.
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
        // The Dockerfile's runtime stage defaults to arm64 (BuildKit cannot tell whether --platform was
        // given), so the platform is passed explicitly too: otherwise an x86_64 stack gets an arm64 image.
        buildArgs: { PLATFORM: args.platform },
        tags: [pulumi.interpolate`${this.repository.repositoryUrl}:${args.tag}`],
        // Inputs are the same for `preview` and `up` (docker-build diffs push, cacheTo and buildOnPreview):
        // no build on preview, because a preview build still exports `cacheTo` (its image.go), which would
        // let pull-request code write the cache the next deploy builds from. CI builds every commit anyway.
        push: true,
        buildOnPreview: false,
        // One platform and no attestations (docker-build turns them off): Lambda rejects image indexes.
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
