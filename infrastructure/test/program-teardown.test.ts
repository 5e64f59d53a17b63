// Teardown of a long-lived managed stack, as the deploy guide says: deletion protection off, `up`, destroy.
// Turning protection off must not also drop the final snapshot or shorten the backups.
import t from 'tap';
import { runProgram, stackFileConfig } from './fixtures/program.ts';

const run = await runProgram('prod', {
  ...stackFileConfig('prod'),
  'hapi-lambda:imageTag': 'git-fedcba987654',
  'hapi-lambda:databaseDeletionProtection': 'false',
});

t.test('a non-ephemeral cluster keeps a final snapshot whatever its deletion protection', async (t) => {
  const cluster = run.one('aws:rds/cluster:Cluster').inputs;
  t.equal(cluster.deletionProtection, false, 'protection is off, as the guide asks');
  t.equal(cluster.skipFinalSnapshot, false, 'destroy still takes a final snapshot');
  t.match(cluster.finalSnapshotIdentifier, /^hapi-lambda-prod-db-final-[0-9a-f]{8}$/);
  t.equal(cluster.backupRetentionPeriod, 14, 'backups are not cut to one day');
});
