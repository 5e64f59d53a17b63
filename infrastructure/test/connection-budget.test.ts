// The connection budget's pure functions: AWS's max_connections table and formula, and the worst case
// the function's settings allow against it.
import t from 'tap';
import { poolSize } from '../../service/src/db/connection-gate.ts';
import {
  auroraMaxConnections,
  budgetProblem,
  BYTES_PER_CONNECTION,
  connectionBudget,
  MAX_CONNECTIONS_BY_MAX_ACU,
  proxyMaxConnectionsPercent,
  usableConnections,
} from '../config/connection-budget.ts';

t.test("max_connections: AWS's table where it has a row, with the 2,000 cap of a low minimum", async (t) => {
  // Aurora user guide, "Maximum connections for Aurora Serverless v2", PostgreSQL column.
  t.same(MAX_CONNECTIONS_BY_MAX_ACU, [
    [1, 189],
    [4, 823],
    [8, 1669],
    [16, 3360],
    [32, 5000],
  ]);
  t.equal(auroraMaxConnections(0.5, 1), 189);
  t.equal(auroraMaxConnections(0.5, 4), 823);
  t.equal(auroraMaxConnections(1, 8), 1669);
  t.equal(auroraMaxConnections(1, 16), 3360);
  t.equal(auroraMaxConnections(0.5, 16), 2000, 'a minimum of 0.5 caps at 2,000');
  t.equal(auroraMaxConnections(0, 64), 2000, 'so does a minimum of 0');
  t.equal(auroraMaxConnections(1, 32), 5000);
  t.equal(auroraMaxConnections(2, 256), 5000, 'the formula never passes 5,000');
});

t.test('max_connections between rows: the formula, with the memory share of the row below', async (t) => {
  // 1 ACU (2 GiB) gives 189: DBInstanceClassMemory ≈ 189 × 9,531,392 bytes, 83.9 % of 2 GiB.
  const shareAt1 = (189 * BYTES_PER_CONNECTION) / 2 ** 31;
  t.equal(auroraMaxConnections(0, 2), Math.floor((2 * 2 ** 31 * shareAt1) / BYTES_PER_CONNECTION));
  t.equal(auroraMaxConnections(0, 2), 378);
  t.equal(auroraMaxConnections(1, 6), Math.floor((823 * 6) / 4));
  // Monotonic, and never above the next row: the estimate errs low.
  let previous = 0;
  for (let acu = 1; acu <= 40; acu += 0.5) {
    const value = auroraMaxConnections(1, acu);
    t.ok(value >= previous, `${acu} ACU: ${value} ≥ ${previous}`);
    const next = MAX_CONNECTIONS_BY_MAX_ACU.find(([row]) => row >= acu);
    if (next !== undefined) t.ok(value <= next[1], `${acu} ACU: ${value} ≤ the next row's ${next[1]}`);
    previous = value;
  }
});

t.test('the budget: usable share, per instance, two versions, and the derived concurrency', async (t) => {
  t.equal(usableConnections(823), 737, '90 % of 823, less 3 superuser slots');
  const derived = connectionBudget({
    minCapacity: 0.5,
    maxCapacity: 4,
    poolMax: 1,
    reservedConcurrency: undefined,
    readerInstances: 1,
  });
  t.match(derived, {
    maxConnections: 823,
    usable: 737,
    perInstance: 1,
    maxReservedConcurrency: 368,
    reservedConcurrency: 368,
    derived: true,
    worstCase: 736,
    readerWorstCase: 0,
  });
  t.equal(
    budgetProblem(
      { minCapacity: 0.5, maxCapacity: 4, poolMax: 1, reservedConcurrency: undefined, readerInstances: 1 },
      derived,
    ),
    undefined,
  );

  const input = {
    minCapacity: 0.5,
    maxCapacity: 4,
    poolMax: 2,
    reservedConcurrency: 200,
    readerInstances: 1,
  };
  const over = connectionBudget(input);
  t.match(over, { perInstance: 2, maxReservedConcurrency: 184, worstCase: 800, derived: false });
  t.equal(
    budgetProblem(input, over),
    'exceeds the database connection budget: 200 concurrent instances × 2 connections (databasePoolMax) ' +
      "× 2 versions (a deploy keeps the previous version's instances) = 800 connections, but Aurora PostgreSQL " +
      "allows 823 at 0.5–4 ACU, of which 737 are the service's (10 % kept free, 3 superuser slots). To fix: set " +
      'reservedConcurrency to at most 184 (or -1 to derive it), lower databasePoolMax, raise databaseMaxCapacity, ' +
      'or set databaseProxy to true',
  );
  const edge = { ...input, reservedConcurrency: 184 };
  t.equal(budgetProblem(edge, connectionBudget(edge)), undefined, 'the largest allowed value fits');
  const next = { ...input, reservedConcurrency: 185 };
  t.type(budgetProblem(next, connectionBudget(next)), 'string', 'one more does not');
});

t.test('no concurrency fits: refused with the settings that can change it', async (t) => {
  // 1 ACU: 189 → 167 usable; a pool of 100 per instance cannot fit even one instance twice.
  const input = {
    minCapacity: 0.5,
    maxCapacity: 1,
    poolMax: 100,
    reservedConcurrency: undefined,
    readerInstances: 0,
  };
  const budget = connectionBudget(input);
  t.equal(budget.maxReservedConcurrency, 0);
  t.match(
    budgetProblem(input, budget),
    /To fix: lower databasePoolMax, raise databaseMaxCapacity, or set databaseProxy to true$/,
  );
});

t.test("the proxy's MaxConnectionsPercent keeps it within the usable share", async (t) => {
  for (const maxConnections of [189, 378, 823, 2000, 5000]) {
    const percent = proxyMaxConnectionsPercent(maxConnections);
    t.ok(
      Math.floor((maxConnections * percent) / 100) <= usableConnections(maxConnections),
      `${maxConnections}: ${percent} %`,
    );
    t.ok(percent >= 1 && percent <= 100);
  }
  t.equal(proxyMaxConnectionsPercent(823), 89);
});

t.test('per instance: exactly the pool the service opens inside Lambda for DATABASE_POOL_MAX', async (t) => {
  for (let poolMax = 1; poolMax <= 20; poolMax++) {
    const input = { minCapacity: 0.5, maxCapacity: 4, poolMax, reservedConcurrency: 1, readerInstances: 0 };
    t.equal(connectionBudget(input).perInstance, poolSize(poolMax, true), `pool max ${poolMax}`);
  }
});
