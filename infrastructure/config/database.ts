// The database settings: an `external` PostgreSQL URL kept as secret config, or a `managed` Aurora
// PostgreSQL Serverless v2 cluster and its capacity, version and protection.
import type * as pulumi from '@pulumi/pulumi';
import {
  auroraMaxConnections,
  budgetProblem,
  connectionBudget,
  proxyMaxConnectionsPercent,
} from './connection-budget.ts';
import { ConfigError, type Settings } from './settings.ts';

const DATABASE_MODES = ['external', 'managed'] as const;

export interface ExternalDatabaseConfig {
  mode: 'external';
  /** Secret: the postgres URL, stored only in Secrets Manager. */
  url: pulumi.Output<string>;
  ssl: boolean;
  poolMax: number;
}

export interface ManagedDatabaseConfig {
  mode: 'managed';
  minCapacity: number;
  maxCapacity: number;
  /** Set only with a 0 ACU minimum (the only case where Aurora pauses). */
  autoPauseSeconds: number | undefined;
  engineVersion: string;
  deletionProtection: boolean;
  /** Readers besides the writer: with one, Aurora fails the writer over to it (another AZ) in ~30 s. */
  readerInstances: number;
  poolMax: number;
  /** max_connections of each instance, from the capacity range (config/connection-budget.ts). */
  maxConnections: number;
  /** RDS Proxy in front of the cluster: the share of max_connections its pool may open. */
  proxy: { maxConnectionsPercent: number } | undefined;
}

export type DatabaseConfig = ExternalDatabaseConfig | ManagedDatabaseConfig;

export function readDatabaseConfig(settings: Settings, stack: string): DatabaseConfig {
  const mode = settings.oneOf('databaseMode', DATABASE_MODES);
  const poolMax = settings.num('databasePoolMax', 1, 20);
  return mode === 'external' ? readExternal(settings, stack, poolMax) : readManaged(settings, poolMax);
}

/** A preview stack's derived reservation: each one takes it from the account's shared concurrency. */
export const PREVIEW_RESERVED_CONCURRENCY = 10;

/**
 * The function's reserved concurrency within the connection budget: in managed mode without the proxy,
 * derived when unset (-1; at most PREVIEW_RESERVED_CONCURRENCY on a preview stack) and refused when its
 * worst case can exceed max_connections. Elsewhere as set.
 */
export function budgetedReservedConcurrency(
  settings: Settings,
  database: DatabaseConfig,
  reservedConcurrency: number | undefined,
  preview = false,
): number | undefined {
  if (database.mode === 'external' || database.proxy !== undefined) return reservedConcurrency;
  const input = { ...database, reservedConcurrency };
  const budget = connectionBudget(input);
  const problem = budgetProblem(input, budget);
  // Only a set value can exceed it: a derived one fits, as 20 × 2 versions is under 1 ACU's 167 usable.
  if (problem !== undefined) throw new ConfigError(settings.key('reservedConcurrency'), problem);
  return budget.derived && preview
    ? Math.min(budget.reservedConcurrency, PREVIEW_RESERVED_CONCURRENCY)
    : budget.reservedConcurrency;
}

function readExternal(settings: Settings, stack: string, poolMax: number): ExternalDatabaseConfig {
  if (settings.bool('databaseProxy')) {
    throw new ConfigError(
      settings.key('databaseProxy'),
      'needs databaseMode managed (an RDS Proxy fronts the Aurora cluster)',
    );
  }
  const key = settings.key('databaseUrl');
  const url = settings.secret('databaseUrl');
  if (url === undefined) {
    throw new ConfigError(
      key,
      `is required when databaseMode is external: run \`pulumi config set --secret databaseUrl '<postgres URL>' -s ${stack}\` ` +
        `and commit Pulumi.${stack}.yaml, which then holds the encrypted value`,
    );
  }
  return {
    mode: 'external',
    // Checked inside apply so the value is never printed; only the key is named.
    url: url.apply((value) => checkDatabaseUrl(value, key)),
    ssl: settings.bool('databaseSsl'),
    poolMax,
  };
}

/** Returns the trimmed URL, or fails naming the key — never echoing the value, which holds a password. */
export function checkDatabaseUrl(value: string, fullKey: string): string {
  if (!/^postgres(ql)?:\/\/\S+$/.test(value.trim())) {
    throw new ConfigError(fullKey, 'must be a postgres:// or postgresql:// URL');
  }
  return value.trim();
}

function readManaged(settings: Settings, poolMax: number): ManagedDatabaseConfig {
  const minCapacity = settings.num('databaseMinCapacity', 0, 256, false);
  const maxCapacity = settings.num('databaseMaxCapacity', 1, 256, false);
  for (const [name, value] of [
    ['databaseMinCapacity', minCapacity],
    ['databaseMaxCapacity', maxCapacity],
  ] as const) {
    if (value * 2 !== Math.floor(value * 2)) {
      throw new ConfigError(settings.key(name), `${value} is not a multiple of 0.5 ACU`);
    }
  }
  if (maxCapacity < minCapacity) {
    throw new ConfigError(settings.key('databaseMaxCapacity'), `${maxCapacity} is below databaseMinCapacity`);
  }
  const engineVersion = settings.text('databaseEngineVersion');
  if (!/^\d+\.\d+$/.test(engineVersion)) {
    throw new ConfigError(settings.key('databaseEngineVersion'), `"${engineVersion}" is not <major>.<minor>`);
  }
  const proxy = settings.bool('databaseProxy');
  if (proxy && minCapacity === 0) {
    throw new ConfigError(
      settings.key('databaseProxy'),
      'needs databaseMinCapacity 0.5 or more: a proxy keeps connections open to the writer, so Aurora ' +
        'would never auto-pause, while the proxy bills at least 8 ACU (docs/database.md)',
    );
  }
  const maxConnections = auroraMaxConnections(minCapacity, maxCapacity);
  return {
    mode: 'managed',
    minCapacity,
    maxCapacity,
    autoPauseSeconds: minCapacity === 0 ? 300 : undefined,
    engineVersion,
    deletionProtection: settings.bool('databaseDeletionProtection'),
    readerInstances: settings.num('databaseReaderInstances', 0, 15),
    poolMax,
    maxConnections,
    proxy: proxy ? { maxConnectionsPercent: proxyMaxConnectionsPercent(maxConnections) } : undefined,
  };
}
