// A new account's Lambda concurrency quota (10) cannot hold prod's derived reservation beside the 100
// executions Lambda keeps unreserved: the preview refuses it, naming the quota and how to raise it.
import t from 'tap';
import { runProgram, stackFileConfig } from './fixtures/program.ts';

const failure = new Promise<unknown>((resolve) => {
  process.on('unhandledRejection', resolve);
});
const error = await Promise.race([
  failure,
  runProgram('prod', stackFileConfig('prod'), [], { dryRun: true, concurrencyQuota: 10 }).then(
    () => undefined,
    (rejected: unknown) => rejected,
  ),
]);

t.test(
  'a reservation the account quota cannot hold fails the preview with the quota to request',
  async (t) => {
    t.type(error, Error);
    const message = (error as Error).message;
    t.match(
      message,
      /reservedConcurrency 368 needs the account's Lambda concurrent executions quota \(L-B99A9384\) to be at least 468/,
    );
    t.match(message, /it is 10 in us-east-1/);
    t.match(
      message,
      /aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000/,
    );
  },
);
