// A pull-request preview stack with no stack file: Pulumi.yaml defaults, x86_64, and a managed database
// that asks for deletion protection — which a disposable stack overrides.
import t from 'tap';
import { assertEngineGraph } from './fixtures/engine-graph.ts';
import { assertCommon, expectedFor } from './fixtures/assertions.ts';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const run = await runProgram(SCENARIOS['preview-stack'].stack, SCENARIOS['preview-stack'].config);

await assertCommon(t, run, {
  ...expectedFor(SCENARIOS['preview-stack']),
  cacheFrom: ['hapi-lambda-preview-feature-login', 'hapi-lambda-prod'],
  secrets: [],
});

t.test('disposable: nothing survives destroy; the idle cluster pauses', async (t) => {
  t.match(run.one('aws:secretsmanager/secret:Secret').inputs, { recoveryWindowInDays: 0 });
  t.match(run.one('aws:rds/cluster:Cluster').inputs, {
    deletionProtection: false,
    skipFinalSnapshot: true,
    backupRetentionPeriod: 1,
    serverlessv2ScalingConfiguration: { minCapacity: 0, secondsUntilAutoPause: 300 },
  });
  t.equal(run.one('aws:rds/cluster:Cluster').inputs.finalSnapshotIdentifier, undefined);
});

assertEngineGraph(t, run, 'preview-stack');
