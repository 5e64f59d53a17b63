// The prod stack with more reserved concurrency than its Aurora capacity can serve: the program refuses
// it before any resource, naming the numbers and the settings to change (as `pulumi preview` shows it).
import t from 'tap';
import { runProgram, stackFileConfig } from './fixtures/program.ts';

const failure = new Promise<unknown>((resolve) => {
  process.on('unhandledRejection', resolve);
});
const error = await Promise.race([
  failure,
  runProgram('prod', { ...stackFileConfig('prod'), 'hapi-lambda:reservedConcurrency': '500' }, [], {
    dryRun: true,
  }).then(
    () => undefined,
    (rejected: unknown) => rejected,
  ),
]);

t.test('an over-budget prod configuration fails the preview with the numbers and the fixes', async (t) => {
  t.type(error, Error);
  const message = (error as Error).message;
  t.match(
    message,
    'Invalid stack configuration "hapi-lambda:reservedConcurrency": exceeds the database connection budget',
  );
  t.match(message, /500 concurrent instances × \d+ connections? \(databasePoolMax\) × 2 versions/);
  t.match(message, /but Aurora PostgreSQL allows 823 at 0\.5–4 ACU, of which 737 are the service's/);
  t.match(
    message,
    /To fix: set reservedConcurrency to at most \d+ \(or -1 to derive it\), lower databasePoolMax, raise databaseMaxCapacity, or set databaseProxy to true$/,
  );
});
