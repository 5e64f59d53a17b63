// A dev stack set to shift linearly by a step CodeDeploy does not predefine, with provisioned concurrency:
// the program creates the deployment configuration and keeps instances initialised on `live`.
import t from 'tap';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.dev;
const run = await runProgram(
  stack,
  {
    ...config,
    'hapi-lambda:trafficShift': 'linear',
    'hapi-lambda:trafficShiftPercent': '25',
    'hapi-lambda:trafficShiftMinutes': '4',
    'hapi-lambda:provisionedConcurrency': '2',
    'hapi-lambda:retainedVersions': '3',
  },
  [...secretKeys],
);

t.test('a custom linear configuration: 25 % every 4 minutes', async (t) => {
  const created = run.one('aws:codedeploy/deploymentConfig:DeploymentConfig');
  t.match(created.inputs, {
    deploymentConfigName: 'hapi-lambda-dev-deploy-linear-25pct-4min',
    computePlatform: 'Lambda',
    trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { percentage: 25, interval: 4 } },
  });
  const group = run.one('aws:codedeploy/deploymentGroup:DeploymentGroup');
  t.equal(group.inputs.deploymentConfigName, 'hapi-lambda-dev-deploy-linear-25pct-4min');
  t.ok(run.waitsFor(group, created));
  t.equal(run.outputs.codedeployDeploymentConfigName, 'hapi-lambda-dev-deploy-linear-25pct-4min');
  t.equal(run.outputs.trafficShift, 'linear');
  t.equal(run.outputs.retainedVersions, 3);
});

t.test('provisioned concurrency on live, after the alias exists', async (t) => {
  const alias = run.one('aws:lambda/alias:Alias');
  const provisioned = run.one('aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig');
  t.match(provisioned.inputs, {
    functionName: 'hapi-lambda-dev-api',
    qualifier: 'live',
    provisionedConcurrentExecutions: 2,
  });
  t.ok(run.waitsFor(provisioned, alias));
  t.equal(run.outputs.provisionedConcurrency, 2);
  t.same([...alias.ignoreChanges].sort(), ['functionVersion', 'routingConfig']);
});
