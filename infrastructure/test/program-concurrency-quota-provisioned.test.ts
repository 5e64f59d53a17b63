// An unreserved function's provisioned concurrency comes out of the account's unreserved pool, of which
// Lambda keeps 100: on a quota of 10 the preview refuses it, naming the setting and the quota to request.
import t from 'tap';
import { runProgram } from './fixtures/program.ts';
import { SCENARIOS } from './fixtures/scenarios.ts';

const failure = new Promise<unknown>((resolve) => {
  process.on('unhandledRejection', resolve);
});
const { stack, config } = SCENARIOS['prod-proxy'];
const error = await Promise.race([
  failure,
  runProgram(stack, { ...config, 'hapi-lambda:provisionedConcurrency': '5' }, [], {
    dryRun: true,
    concurrencyQuota: 10,
  }).then(
    () => undefined,
    (rejected: unknown) => rejected,
  ),
]);

t.test('provisioned concurrency the account quota cannot hold fails the preview', async (t) => {
  t.type(error, Error);
  t.match(
    (error as Error).message,
    /provisionedConcurrency 5 needs the account's Lambda concurrent executions quota \(L-B99A9384\) to be at least 105/,
  );
});
