// A new managed stack on an Aurora version the region no longer offers fails, naming the key and how to list
// what is offered (under mocks a rejected Output is an unhandled rejection, which this test catches).
import t from 'tap';
import { runProgram, stackFileConfig } from './fixtures/program.ts';

const failure = new Promise<unknown>((resolve) => {
  process.on('unhandledRejection', resolve);
});
// A program that does not check finishes instead: then there is no error to assert on.
const error = await Promise.race([
  failure,
  runProgram('prod', { ...stackFileConfig('prod'), 'hapi-lambda:databaseEngineVersion': '16.6' }, [], {
    dryRun: true,
  }).then(() => undefined),
]);

t.test('a version the region does not offer fails the preview with what to do', async (t) => {
  t.type(error, Error);
  const message = (error as Error).message;
  t.match(
    message,
    /databaseEngineVersion 16\.6 is not offered for new Aurora PostgreSQL clusters in us-east-1/,
  );
  t.match(message, /no RDS engine versions match the criteria/, "keeps the provider's reason");
  t.match(
    message,
    'aws rds describe-db-engine-versions --engine aurora-postgresql --region us-east-1',
    'says how to list the offered versions',
  );
  t.match(message, 'pulumi config set databaseEngineVersion');
});
