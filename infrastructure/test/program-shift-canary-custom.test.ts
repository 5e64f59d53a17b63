// A dev stack set to a canary CodeDeploy does not predefine: the program creates its configuration.
import t from 'tap';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const { stack, config, secretKeys } = SCENARIOS.dev;
const run = await runProgram(
  stack,
  {
    ...config,
    'hapi-lambda:trafficShift': 'canary',
    'hapi-lambda:trafficShiftPercent': '20',
    'hapi-lambda:trafficShiftMinutes': '7',
  },
  [...secretKeys],
);

t.test('a custom canary configuration: 20 % for 7 minutes', async (t) => {
  const created = run.one('aws:codedeploy/deploymentConfig:DeploymentConfig');
  t.match(created.inputs, {
    computePlatform: 'Lambda',
    trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { percentage: 20, interval: 7 } },
  });
  const group = run.one('aws:codedeploy/deploymentGroup:DeploymentGroup');
  t.equal(group.inputs.deploymentConfigName, created.inputs.deploymentConfigName);
  t.equal(run.outputs.trafficShift, 'canary');
});
