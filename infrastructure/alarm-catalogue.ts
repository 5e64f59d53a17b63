// The service's alarms, one row each: the stack setting that sets its threshold and the metric it watches.
// The one home of that pairing: config/alarms.ts, ServiceAlarms and the config test all read these rows.

/** What every alarm row has, service or database: ServiceAlarms builds each alarm from these. */
export interface AlarmRow {
  /** The alarm's name in the stack (`<prefix>-alarms-<key>`); part of its URN, so never renamed. */
  key: string;
  /** The stack setting that sets the threshold (declared in Pulumi.yaml), and the values it accepts. */
  setting: string;
  range: readonly [min: number, max: number];
  metricName: string;
  describe(threshold: number): string;
}

export interface AlarmSpec extends AlarmRow {
  /** `timeout-percent`: the setting is a percentage of the function timeout; the threshold is in ms. */
  unit: 'count' | 'ms' | 'timeout-percent';
  /** The function's metrics carry its name, the API's its id and stage. */
  target: 'function' | 'api';
  statistic: 'Sum' | 'p99';
}

export const ALARMS = [
  {
    key: 'errors',
    setting: 'alarmErrorsThreshold',
    range: [1, 100_000],
    unit: 'count',
    target: 'function',
    metricName: 'Errors',
    statistic: 'Sum',
    // HTTP responses, 500s included, are not invocation errors: the API 5xx alarm counts those.
    describe: () =>
      'Lambda invocation errors: crashes, timeouts, out of memory, and failed events (migration or maintenance, answered 599)',
  },
  {
    key: 'throttles',
    setting: 'alarmThrottlesThreshold',
    range: [1, 100_000],
    unit: 'count',
    target: 'function',
    metricName: 'Throttles',
    statistic: 'Sum',
    describe: () => 'Lambda invocations throttled (reserved or account concurrency exhausted)',
  },
  {
    key: 'duration-p99',
    setting: 'alarmDurationP99Percent',
    range: [1, 100],
    unit: 'timeout-percent',
    target: 'function',
    metricName: 'Duration',
    statistic: 'p99',
    describe: (ms) => `Lambda duration p99 close to the timeout (${ms} ms)`,
  },
  {
    key: 'api-5xx',
    setting: 'alarm5xxThreshold',
    range: [1, 100_000],
    unit: 'count',
    target: 'api',
    metricName: '5xx',
    statistic: 'Sum',
    describe: () => 'HTTP API answering 5xx',
  },
  {
    key: 'api-latency-p99',
    setting: 'alarmLatencyP99Ms',
    range: [10, 30_000],
    unit: 'ms',
    target: 'api',
    metricName: 'Latency',
    statistic: 'p99',
    describe: (ms) => `HTTP API latency p99 above ${ms} ms`,
  },
] as const satisfies readonly AlarmSpec[];

export type AlarmKey = (typeof ALARMS)[number]['key'];

/** Managed mode's database alarms: the setting is a percentage of `of`, the writer's limit, not a count. */
export interface DatabaseAlarmSpec extends AlarmRow {
  of: 'max-connections' | 'max-capacity';
}

export const DATABASE_ALARMS = [
  {
    key: 'db-connections',
    setting: 'alarmDatabaseConnectionsPercent',
    range: [1, 100],
    of: 'max-connections',
    metricName: 'DatabaseConnections',
    describe: (connections) =>
      `Aurora writer connections at ${connections}: close to max_connections, past it new connections fail (SQLSTATE 53300)`,
  },
  {
    key: 'db-capacity',
    setting: 'alarmDatabaseCapacityPercent',
    range: [1, 100],
    of: 'max-capacity',
    metricName: 'ServerlessDatabaseCapacity',
    describe: (acu) => `Aurora writer at ${acu} ACU: near databaseMaxCapacity, it cannot scale further`,
  },
] as const satisfies readonly DatabaseAlarmSpec[];

export type DatabaseAlarmKey = (typeof DATABASE_ALARMS)[number]['key'];
