// `pulumi preview` of prod, as a pull request runs it: the program must not write to prod's registry.
// docker-build never pushes during a preview but still exports `cacheTo` (provider/image.go), so the
// program itself leaves the cache export out when pulumi.runtime.isDryRun() is true.
import t from 'tap';
import { assertCommon } from './fixtures/assertions.ts';
import { GENERATED_PASSWORD, runProgram, stackFileConfig } from './fixtures/program.ts';

const run = await runProgram(
  'prod',
  { ...stackFileConfig('prod'), 'hapi-lambda:imageTag': 'git-fedcba987654' },
  [],
  { dryRun: true },
);

await assertCommon(t, run, {
  prefix: 'hapi-lambda-prod',
  architecture: 'arm64',
  platform: 'linux/arm64',
  memorySize: 1024,
  timeout: 20,
  reservedConcurrency: -1,
  logRetentionDays: 90,
  rateLimit: 200,
  burstLimit: 400,
  corsOrigins: ['https://app.example.com'],
  alarms: { errors: 3, throttles: 1, durationP99Ms: 16_000, api5xx: 3, latencyP99Ms: 2000, periods: 2 },
  imageTag: 'git-fedcba987654',
  cacheFrom: ['hapi-lambda-prod'],
  maintenanceSchedule: 'rate(1 day)',
  exportsCache: false,
  secrets: [GENERATED_PASSWORD],
});
