// The dev stack (Pulumi.dev.yaml, external database URL from secret config).
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon, expectedFor } from './fixtures/assertions.ts';
import { runProgram, secretPlaintext } from './fixtures/program.ts';
import { DEV_DATABASE_URL as DATABASE_URL, SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.dev;
const run = await runProgram(stack, config, [...secretKeys]);

await assertCommon(t, run, {
  ...expectedFor(SCENARIOS.dev),
  cacheFrom: ['hapi-lambda-dev'],
  secrets: [DATABASE_URL, 's3cr3t-pa55'],
});

t.test('external database: the URL goes to Secrets Manager only; no VPC', async (t) => {
  const version = run.one('aws:secretsmanager/secretVersion:SecretVersion');
  t.equal(secretPlaintext(version.inputs.secretString), DATABASE_URL, 'stored, and marked secret in state');
  t.equal(run.ofType('awsx:ec2:Vpc').length, 0);
  t.equal(run.ofType('aws:rds/cluster:Cluster').length, 0);
  const fn = run.one('aws:lambda/function:Function').inputs;
  t.equal(fn.vpcConfig, undefined);
  t.match(fn.environment, { variables: { DATABASE_SSL: 'true' } }, 'databaseSsl: true, the default');
  t.match(run.one('aws:secretsmanager/secret:Secret').inputs, { recoveryWindowInDays: 7 });
});

t.test('no alarm e-mail, no custom domain: execute-api URL', async (t) => {
  t.equal(run.ofType('aws:sns/topicSubscription:TopicSubscription').length, 0);
  t.equal(run.ofType('aws:acm/certificate:Certificate').length, 0);
  t.equal(run.outputs.apiUrl, 'https://api0123.execute-api.us-east-1.amazonaws.com/');
  t.equal(run.outputs.functionName, 'hapi-lambda-dev-api');
});

assertEngineGraph(t, run, 'dev');
