// Each policy rule on a good and a bad example.
import t from 'tap';
import { PLATFORMS } from '../platforms.ts';
import { policyActions } from '../policy/rules.ts';
import { validate, type Example } from './fixtures/policy.ts';

const policyNames = async (examples: Example[]) =>
  (await validate(examples)).map((violation) => violation.policy);

const rolePolicy = (actions: string[]): Example => ({
  type: 'aws:iam/rolePolicy:RolePolicy',
  name: 'p',
  props: { policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }) },
});
const fn = (props: Record<string, unknown>): Example => ({
  type: 'aws:lambda/function:Function',
  name: 'fn',
  props: {
    name: 'svc',
    packageType: 'Image',
    imageUri: 'repo.example/svc@sha256:1',
    architectures: ['arm64'],
    ...props,
  },
});
const alarm = (metricName: string, functionName = 'svc', alarmActions = ['arn:topic']): Example => ({
  type: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  name: metricName,
  props: { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: functionName }, alarmActions },
});
const alarmsFor = (name = 'svc') => [alarm('Errors', name), alarm('Throttles', name)];
const image = (platforms: string[]): Example => ({
  type: 'docker-build:index:Image',
  name: 'img',
  props: { tags: ['repo.example/svc:git-1'], platforms },
});

t.test('iam-no-wildcard-actions', async (t) => {
  t.same(await policyNames([rolePolicy(['logs:PutLogEvents'])]), []);
  t.same(await policyNames([rolePolicy(['s3:*'])]), ['iam-no-wildcard-actions']);
  t.same(await policyNames([rolePolicy(['*'])]), ['iam-no-wildcard-actions']);
  t.same(
    await policyNames([
      {
        type: 'aws:iam/role:Role',
        name: 'r',
        props: { inlinePolicies: [{ policy: JSON.stringify({ Statement: { Action: 'ec2:Describe*' } }) }] },
      },
    ]),
    ['iam-no-wildcard-actions'],
  );
  t.same(policyActions('not json'), []);
  t.same(policyActions(42), []);
  t.same(policyActions({ Statement: [{ NotAction: 'iam:*' }, 'junk'] }), ['iam:*']);
});

t.test('log-group-retention', async (t) => {
  const group = (props: Record<string, unknown>): Example => ({
    type: 'aws:cloudwatch/logGroup:LogGroup',
    name: 'g',
    props,
  });
  t.same(await policyNames([group({ retentionInDays: 14 })]), []);
  t.same(await policyNames([group({})]), ['log-group-retention']);
  t.same(await policyNames([group({ retentionInDays: 0 })]), ['log-group-retention']);
});

t.test('ecr-scan-on-push', async (t) => {
  const repo = (props: Record<string, unknown>): Example => ({
    type: 'aws:ecr/repository:Repository',
    name: 'r',
    props,
  });
  t.same(await policyNames([repo({ imageScanningConfiguration: { scanOnPush: true } })]), []);
  t.same(await policyNames([repo({ imageScanningConfiguration: { scanOnPush: false } })]), [
    'ecr-scan-on-push',
  ]);
  t.same(await policyNames([repo({})]), ['ecr-scan-on-push']);
});

t.test('lambda-no-plaintext-secrets', async (t) => {
  const withEnv = (variables: Record<string, string>) => [fn({ environment: { variables } }), ...alarmsFor()];
  t.same(
    await policyNames(withEnv({ DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:…', LOG_LEVEL: 'info' })),
    [],
  );
  t.same(await policyNames(withEnv({ DATABASE_URL: 'postgres://db/app' })), ['lambda-no-plaintext-secrets']);
  t.same(await policyNames(withEnv({ API_KEY: 'abc' })), ['lambda-no-plaintext-secrets']);
  t.same(await policyNames(withEnv({ UPSTREAM: 'https://user:pw@example.com/' })), [
    'lambda-no-plaintext-secrets',
  ]);
  t.same(await policyNames(withEnv({ AWS_ID: 'AKIAABCDEFGHIJKLMNOP' })), ['lambda-no-plaintext-secrets']);
  t.same(await policyNames([fn({}), ...alarmsFor()]), [], 'no environment at all');
  t.same(
    await policyNames([{ type: 'aws:lambda/function:Function', name: 'x', props: undefined as never }]),
    [],
    'no props (unknown during preview)',
  );
});

t.test('lambda-has-alarms', async (t) => {
  t.same(await policyNames([fn({}), ...alarmsFor()]), []);
  t.same(await policyNames([fn({}), alarm('Errors')]), ['lambda-has-alarms']);
  t.same(await policyNames([fn({}), ...alarmsFor('other')]), ['lambda-has-alarms', 'lambda-has-alarms']);
  t.same(
    await policyNames([fn({}), alarm('Errors', 'svc', []), alarm('Throttles')]),
    ['lambda-has-alarms'],
    'alarm without action',
  );
  t.same(await policyNames([fn({ name: undefined })]), [], 'name unknown during preview');
});

t.test('lambda-architecture-matches-image', async (t) => {
  t.same(await policyNames([fn({}), ...alarmsFor(), image([PLATFORMS.arm64])]), []);
  t.same(await policyNames([fn({}), ...alarmsFor(), image(['linux/amd64'])]), [
    'lambda-architecture-matches-image',
  ]);
  t.same(await policyNames([fn({}), ...alarmsFor(), image([])]), ['lambda-architecture-matches-image']);
  t.same(
    await policyNames([fn({ architectures: undefined }), ...alarmsFor(), image(['linux/amd64'])]),
    [],
    'x86_64 default',
  );
  t.same(await policyNames([fn({ architectures: ['x86_64'] }), ...alarmsFor(), image(['linux/arm64'])]), [
    'lambda-architecture-matches-image',
  ]);
  t.same(await policyNames([fn({}), ...alarmsFor()]), [], 'image built elsewhere');
  t.same(
    await policyNames([fn({ packageType: 'Zip' }), ...alarmsFor(), image(['linux/amd64'])]),
    [],
    'zip function',
  );
});
