// The Pulumi program: hands each component its settings as config/ read them, wires the components
// together and exports the outputs. Everything with behaviour lives in config/ and components/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { readAdapterSettings } from './adapter-settings.ts';
import { ServiceAlarms } from './components/alarms.ts';
import { checkConcurrencyQuota } from './components/concurrency-quota.ts';
import { Database } from './components/database.ts';
import { HttpApi } from './components/http-api.ts';
import { MaintenanceSchedule } from './components/maintenance-schedule.ts';
import { ServiceFunction } from './components/service-function.ts';
import { ServiceImage } from './components/service-image.ts';
import { TrafficShift } from './components/traffic-shift.ts';
import { loadConfig } from './config.ts';
import { readAdapterVersion, snapStartHooks } from './config/snapstart.ts';

const config = loadConfig();

// The CLI runs this program (and docker-build) in infrastructure/, Pulumi.yaml's `main`. Paths handed to
// docker-build are relative to that folder: it compares them between runs, so an absolute path would make
// every other checkout (a laptop, then CI) a rebuild and a re-push. Found from this file's location.
const repositoryRoot = path.join(
  path.relative(process.cwd(), fileURLToPath(new URL('..', import.meta.url))),
  '.',
);
const dockerfilePath = path.join(repositoryRoot, 'docker', 'Dockerfile');

// One explicit provider: its default tags mark every AWS resource with project and stack.
const provider = new aws.Provider('aws', {
  region: config.region as aws.Region,
  defaultTags: { tags: config.tags },
});
const opts: pulumi.ComponentResourceOptions = { providers: [provider] };
// Awaited before any resource: a reservation the account's quota cannot hold stops preview and up here.
const concurrencyQuota = await checkConcurrencyQuota(
  {
    reserved: config.function.reservedConcurrency,
    provisioned: config.deployment.provisionedConcurrency,
  },
  config.region,
  { provider },
);

const image = new ServiceImage(
  config.prefix,
  { ...config.image, contextPath: repositoryRoot, dockerfilePath, region: config.region },
  opts,
);

const database = new Database(
  `${config.prefix}-db`,
  { config: config.database, region: config.region, ephemeral: config.ephemeral },
  opts,
);

const service = new ServiceFunction(
  `${config.prefix}-api`,
  {
    ...config.function,
    environment: { ...config.function.environment, ...database.serviceEnvironment },
    imageUri: image.imageUri,
    imageDigest: image.digest,
    adapterSettings: {
      ...readAdapterSettings(dockerfilePath),
      ...snapStartHooks(config.snapStart, readAdapterVersion(dockerfilePath)),
    },
    databaseSecretArn: database.secretArn,
    readableSecretArns: database.readableSecretArns,
    vpc: database.functionVpc,
    // The migration invoke needs the credentials (written once the writer is up), and Lambda must be
    // allowed to pull the image before the function is created from it.
    createAfter: [database.credentials, image.pullPolicy],
    // Its first invoke connects to the database and reads the secret through the VPC endpoint.
    invokeAfter: database.networkReady,
    shiftsTraffic: config.deployment.shift !== undefined,
    provisionedConcurrency: config.deployment.provisionedConcurrency,
    snapStart: config.snapStart,
  },
  opts,
);

const api = new HttpApi(
  `${config.prefix}-http`,
  {
    aliasArn: service.alias.arn,
    functionName: service.functionName,
    // The alias's own output, so the invoke permission waits for the alias to exist.
    aliasName: service.alias.name,
    ...config.api,
  },
  opts,
);

if (config.maintenance !== undefined) {
  new MaintenanceSchedule(
    `${config.prefix}-maintenance`,
    {
      ...config.maintenance,
      aliasArn: service.alias.arn,
      functionName: service.functionName,
      aliasName: service.alias.name,
    },
    opts,
  );
}

const alarms = new ServiceAlarms(
  `${config.prefix}-alarms`,
  {
    functionName: service.functionName,
    apiId: api.api.id,
    stageName: api.stageName,
    region: config.region,
    dashboardName: config.prefix,
    databaseClusterIdentifier: database.cluster?.clusterIdentifier,
    ...config.alarms,
  },
  opts,
);

// Shifting stacks: CodeDeploy moves `live` to the version this update published, watched by the alarms.
const shift =
  config.deployment.shift === undefined
    ? undefined
    : new TrafficShift(
        `${config.prefix}-deploy`,
        {
          shift: config.deployment.shift,
          functionName: service.functionName,
          functionArn: service.function.arn,
          aliasName: service.alias.name,
          version: service.function.version,
          logGroupName: service.logGroup.name,
          stackAlarmNames: alarms.alarms.map((alarm) => alarm.name),
          alarmTopicArn: alarms.topic.arn,
        },
        opts,
      );

export const apiUrl = api.url;
export const functionName = service.functionName;
export const imageRef = image.imageUri;
export const dashboardUrl = alarms.dashboardUrl;
export const alarmTopicArn = alarms.topic.arn;
// What the deploy workflow needs to start, watch and record a shift, and to prune versions (docs/deploy.md).
export const aliasName = service.alias.name;
export const aliasUrn = service.alias.urn;
export const functionVersion = service.function.version;
export const trafficShift = config.deployment.trafficShift;
export const retainedVersions = config.deployment.retainedVersions;
export const provisionedConcurrency = config.deployment.provisionedConcurrency;
export const codedeployApplicationName = shift?.application.name;
export const codedeployDeploymentGroupName = shift?.deploymentGroup.deploymentGroupName;
export const codedeployDeploymentConfigName = shift?.deploymentConfigName;
export const deploymentAlarmNames = shift?.alarmNames;
export const lambdaConcurrencyQuota = concurrencyQuota;
