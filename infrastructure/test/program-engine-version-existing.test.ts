// An existing managed cluster on an Aurora version no longer offered for new clusters: the version only
// matters on create, so previews and updates keep working.
import t from 'tap';
import { runProgram, stackFileConfig } from './fixtures/program.ts';

const run = await runProgram(
  'prod',
  { ...stackFileConfig('prod'), 'hapi-lambda:databaseEngineVersion': '16.6' },
  [],
  { dryRun: true, existingCluster: true },
);

t.test('a retired version does not fail a stack whose cluster exists', async (t) => {
  t.equal(run.one('aws:rds/cluster:Cluster').inputs.engineVersion, '16.6');
});
