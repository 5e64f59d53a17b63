// Aurora PostgreSQL's max_connections for a Serverless v2 capacity range, and the connection budget the
// stack's settings must fit in (docs/database.md, "Connection budget"). Pure: numbers in, numbers out.

/** AWS's table (Aurora user guide, "Maximum connections for Aurora Serverless v2"), PostgreSQL column. */
export const MAX_CONNECTIONS_BY_MAX_ACU: readonly (readonly [maxAcu: number, maxConnections: number])[] = [
  [1, 189],
  [4, 823],
  [8, 1669],
  [16, 3360],
  [32, 5000],
];
/** `LEAST(DBInstanceClassMemory/9531392, 5000)`: Aurora PostgreSQL's default max_connections. */
export const BYTES_PER_CONNECTION = 9_531_392;
const MAX_CONNECTIONS_CEILING = 5000;
/** A minimum of 0 or 0.5 ACU caps max_connections at 2,000 (the table's note). */
const LOW_MINIMUM_CAP = 2000;
const ACU_BYTES = 2 * 2 ** 30;

/**
 * max_connections of every instance of the cluster: static, set from the *maximum* capacity. Between the
 * table's rows, the formula with the memory share of the row below (the share grows with size: errs low).
 */
export function auroraMaxConnections(minAcu: number, maxAcu: number): number {
  // The last row at or below maxAcu (the first row for none: config allows no maximum under 1 ACU).
  const [rowAcu, rowConnections] = MAX_CONNECTIONS_BY_MAX_ACU.reduce((below, row) =>
    row[0] <= maxAcu ? row : below,
  );
  const memoryShare = (rowConnections * BYTES_PER_CONNECTION) / (rowAcu * ACU_BYTES);
  let value =
    rowAcu === maxAcu
      ? rowConnections
      : Math.floor((maxAcu * ACU_BYTES * memoryShare) / BYTES_PER_CONNECTION);
  value = Math.min(value, MAX_CONNECTIONS_CEILING);
  return minAcu <= 0.5 ? Math.min(value, LOW_MINIMUM_CAP) : value;
}

const BUDGET_RULES = {
  /** Kept free of the service: operators' sessions, RDS's monitoring, the estimate's error. */
  safetyShare: 0.1,
  /** superuser_reserved_connections: slots only rdsadmin may use. */
  superuserReserved: 3,
  /**
   * Versions whose instances may hold connections at once: after a deploy (or during a traffic shift)
   * the previous version's frozen instances keep theirs until Lambda retires them.
   */
  versions: 2,
} as const;

export interface BudgetInput {
  minCapacity: number;
  maxCapacity: number;
  /** DATABASE_POOL_MAX. */
  poolMax: number;
  /** The function's reserved concurrency; undefined when the stack leaves it to be derived. */
  reservedConcurrency: number | undefined;
  readerInstances: number;
}

export interface ConnectionBudget {
  /** max_connections of each instance, writer and readers alike (one capacity range). */
  maxConnections: number;
  /** What the service may use: max_connections less the safety share and the superuser slots. */
  usable: number;
  /** Connections one function instance may hold: DATABASE_POOL_MAX (no spare inside Lambda). */
  perInstance: number;
  /** The largest reserved concurrency whose worst case fits. */
  maxReservedConcurrency: number;
  reservedConcurrency: number;
  derived: boolean;
  /**
   * Worst case on the writer: reserved concurrency × per instance × versions. Migrations, the maintenance
   * event and the API-key actions are invocations of the same function, so they are inside it.
   */
  worstCase: number;
  /** The service connects to the writer endpoint only: each reader's worst case is 0 of its own limit. */
  readerWorstCase: number;
}

export function usableConnections(maxConnections: number): number {
  return Math.floor(maxConnections * (1 - BUDGET_RULES.safetyShare)) - BUDGET_RULES.superuserReserved;
}

export function connectionBudget(input: BudgetInput): ConnectionBudget {
  const maxConnections = auroraMaxConnections(input.minCapacity, input.maxCapacity);
  const usable = usableConnections(maxConnections);
  const perInstance = input.poolMax;
  const maxReservedConcurrency = Math.floor(usable / (perInstance * BUDGET_RULES.versions));
  const reservedConcurrency = input.reservedConcurrency ?? maxReservedConcurrency;
  return {
    maxConnections,
    usable,
    perInstance,
    maxReservedConcurrency,
    reservedConcurrency,
    derived: input.reservedConcurrency === undefined,
    worstCase: reservedConcurrency * perInstance * BUDGET_RULES.versions,
    readerWorstCase: 0,
  };
}

/** Undefined when the budget holds; otherwise what is wrong, with the numbers and what to change. */
export function budgetProblem(input: BudgetInput, budget: ConnectionBudget): string | undefined {
  if (budget.reservedConcurrency >= 1 && budget.worstCase <= budget.usable) return undefined;
  const { perInstance, maxConnections, usable } = budget;
  const instances = Math.max(budget.reservedConcurrency, 1);
  const why =
    `${instances} concurrent instance${instances === 1 ? '' : 's'} × ${perInstance} connection` +
    `${perInstance === 1 ? '' : 's'} (databasePoolMax) × ${BUDGET_RULES.versions} versions (a deploy keeps ` +
    `the previous version's instances) = ${instances * perInstance * BUDGET_RULES.versions} connections, but Aurora ` +
    `PostgreSQL allows ${maxConnections} at ${input.minCapacity}–${input.maxCapacity} ACU, of which ${usable} are ` +
    `the service's (${BUDGET_RULES.safetyShare * 100} % kept free, ${BUDGET_RULES.superuserReserved} superuser slots)`;
  const fixes =
    budget.maxReservedConcurrency >= 1
      ? `set reservedConcurrency to at most ${budget.maxReservedConcurrency} (or -1 to derive it), lower databasePoolMax, raise databaseMaxCapacity, or set databaseProxy to true`
      : 'lower databasePoolMax, raise databaseMaxCapacity, or set databaseProxy to true';
  return `exceeds the database connection budget: ${why}. To fix: ${fixes}`;
}

/**
 * RDS Proxy's MaxConnectionsPercent (of max_connections) that keeps its connections to the database
 * within the usable share; everything the service does goes through the proxy.
 */
export function proxyMaxConnectionsPercent(maxConnections: number): number {
  return Math.floor((usableConnections(maxConnections) / maxConnections) * 100);
}
