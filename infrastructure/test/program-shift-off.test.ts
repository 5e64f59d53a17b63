// The dev stack (Pulumi.dev.yaml: all-at-once): no CodeDeploy; Pulumi moves `live` itself, as before
// traffic shifting existed (the engine graph in program-dev.test.ts pins the rest).
import t from 'tap';
import { FUNCTION_VERSION, runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.dev;
const run = await runProgram(stack, config, [...secretKeys]);

t.test('all-at-once: no CodeDeploy, the alias follows each new version', async (t) => {
  t.equal(run.resources.filter((r) => r.type.startsWith('aws:codedeploy/')).length, 0);
  t.equal(run.ofType('aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig').length, 0);
  const alias = run.one('aws:lambda/alias:Alias');
  t.same(alias.ignoreChanges, [], 'Pulumi moves it');
  t.equal(alias.inputs.functionVersion, FUNCTION_VERSION);
});

t.test('outputs: the shift named, no CodeDeploy names', async (t) => {
  t.match(run.outputs, {
    aliasName: 'live',
    functionVersion: FUNCTION_VERSION,
    trafficShift: 'all-at-once',
    retainedVersions: 5,
    provisionedConcurrency: 0,
  });
  for (const key of [
    'codedeployApplicationName',
    'codedeployDeploymentGroupName',
    'codedeployDeploymentConfigName',
    'deploymentAlarmNames',
  ]) {
    t.equal(run.outputs[key], undefined, key);
  }
});
