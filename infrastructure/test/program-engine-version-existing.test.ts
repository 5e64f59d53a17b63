// A managed stack whose cluster already exists, on an Aurora version the region no longer offers for new
// clusters: the version only matters on create (AWS upgrades minors itself; engineVersion is ignored
// after that), so previews and updates must keep working instead of failing on every run.
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
