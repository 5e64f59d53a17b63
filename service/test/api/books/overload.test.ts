// More work than database connections is said truthfully: of 400 simultaneous 1 MiB cover downloads, what
// cannot be served in budget is shed with 503 OVERLOADED and Retry-After, never "database down".
import path from 'node:path';
import t from 'tap';
import { storeLargestCover } from '../../../bench/largest-cover.ts';
import { loopbackService, waitFor200 } from '../../../bench/loopback-service.ts';
import { downloadInParallel } from '../../../bench/parallel-downloads.ts';
import { ErrorCodes } from '../../../src/errors/error-codes.ts';
import { startTestDatabase } from '../../helpers/database.ts';
import { uniqueIsbn } from '../../helpers/isbn.ts';
import { spawnCollecting } from '../../helpers/spawned.ts';

const SERVICE_DIR = path.resolve(import.meta.dirname, '../../..');
const PARALLEL = 400;
const db = await startTestDatabase(t);

t.test(
  `${PARALLEL} parallel 1 MiB cover downloads: no outage reported, every 503 says overload`,
  async (t) => {
    // Default pool size and timeouts: only the database, a loopback listener and the log level are set.
    const { origin, env } = await loopbackService(db.url);
    const service = spawnCollecting(t, process.execPath, ['src/index.ts'], { cwd: SERVICE_DIR, env });
    await waitFor200(`${origin}/health`, () => service.output());
    const cover = await storeLargestCover(origin, uniqueIsbn());
    t.equal(cover.status, 200, 'a 1 MiB cover is stored');

    const tally = await downloadInParallel(cover.url, PARALLEL);
    t.comment(`answers to ${PARALLEL} parallel downloads: ${JSON.stringify(tally)}`);

    t.equal((await fetch(`${origin}/health/ready`)).status, 200, 'the database is healthy throughout');
    const outage = `503 ${ErrorCodes.DATABASE_UNAVAILABLE.code}`;
    t.notOk(tally.answers[outage], `no answer claims the database is down (${outage})`);
    t.equal(tally.withoutRetryAfter, 0, 'every 503 carries Retry-After');
    const overload = `503 ${(ErrorCodes as Record<string, { code: number }>).OVERLOADED?.code}`;
    t.same(
      Object.keys(tally.answers).filter((answer) => answer !== '200' && answer !== overload),
      [],
      `every answer is the cover or an overload 503 (${overload})`,
    );
    const logged = service
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { code?: number; msg?: string });
    t.same(
      logged.filter((line) => line.code === ErrorCodes.DATABASE_UNAVAILABLE.code).map((line) => line.msg),
      [],
      'nothing is logged as a database outage',
    );
  },
);
