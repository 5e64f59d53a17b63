// Runs the migrations, retrying only connection failures while a paused Aurora cluster resumes (about 15 s);
// the pending ones run in one transaction, so a cut-off attempt leaves nothing (docs/lambda-events.md).
import pRetry from 'p-retry';
import { isConnectionFailure } from '../errors/classify-error.ts';
import type { MikroORM } from '@mikro-orm/postgresql';
import { runMigrations } from './orm.ts';

export const MIGRATE_RETRY = {
  /** Capped exponential backoff between attempts: 250 ms, 500 ms, 1 s, then 2 s. */
  firstDelayMs: 250,
  factor: 2,
  maxDelayMs: 2000,
  /** Kept free before the deadline, beyond the last attempt's connect timeout, to answer in time. */
  answerMarginMs: 1000,
  /** How long to keep trying without a Lambda deadline (a local run). */
  budgetWithoutDeadlineMs: 20_000,
  /** Lambda's longest timeout: a deadline further away is not one. */
  longestInvocationMs: 15 * 60_000,
} as const;

export interface RetryWindowInput {
  readonly now: number;
  /** The invocation's deadline in ms since the epoch (the Lambda context's `deadline`), if any. */
  readonly deadline: number | undefined;
  /** How long one attempt may wait for a connection (DATABASE_CONNECT_TIMEOUT_MS). */
  readonly connectTimeoutMs: number;
}

/** For how long after `now` another attempt may still start. */
export function retryWindowMs({ now, deadline, connectTimeoutMs }: RetryWindowInput): number {
  if (deadline === undefined || deadline - now > MIGRATE_RETRY.longestInvocationMs) {
    return MIGRATE_RETRY.budgetWithoutDeadlineMs;
  }
  return Math.max(0, deadline - now - connectTimeoutMs - MIGRATE_RETRY.answerMarginMs);
}

interface MigrationRetry {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  /** How long until the next one. */
  readonly delayMs: number;
  readonly error: Error;
}

export interface MigrateWithRetriesOptions extends Omit<RetryWindowInput, 'now'> {
  /** The database plugin's ORM: a start that failed is tried again on the next call. */
  getOrm(): Promise<MikroORM>;
  onRetry(retry: MigrationRetry): void;
}

/** Resolves to the names of the migrations applied; rejects with the last attempt's error. */
export async function migrateWithRetries(options: MigrateWithRetriesOptions): Promise<string[]> {
  const windowMs = retryWindowMs({ ...options, now: Date.now() });
  const latestStart = Date.now() + windowMs;
  return pRetry(async () => runMigrations(await options.getOrm()), {
    retries: Infinity,
    minTimeout: MIGRATE_RETRY.firstDelayMs,
    factor: MIGRATE_RETRY.factor,
    maxTimeout: MIGRATE_RETRY.maxDelayMs,
    // p-retry shortens the last delay to what is left of this and starts no attempt after it.
    maxRetryTime: windowMs,
    shouldRetry: ({ error, attemptNumber, retryDelay }) => {
      // (p-retry's own clock started after latestStart was taken, so it never allows less than this.)
      const delayMs = Math.min(retryDelay, latestStart - Date.now());
      if (!isConnectionFailure(error) || delayMs <= 0) return false;
      options.onRetry({ attempt: attemptNumber, delayMs, error });
      return true;
    },
  });
}
