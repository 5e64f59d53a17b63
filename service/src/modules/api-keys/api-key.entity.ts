// API keys and usage counters; only a key's SHA-256 is stored, its public prefix is the lookup index.
import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

// Clients know a key by its `prefix` (the API's key id), never by `id`.
export const ApiKeySchema = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  // Declared here (not only in the migration) so later migration diffs keep them.
  checks: [{ name: 'api_keys_limits_positive', expression: 'daily_quota > 0 and rate_limit_per_minute > 0' }],
  properties: {
    id: p
      .uuid()
      .primary()
      .onCreate(() => randomUUID()),
    prefix: p.string().length(32).unique(),
    keyHash: p.string().length(64),
    name: p.string().length(100),
    dailyQuota: p.integer(),
    rateLimitPerMinute: p.integer(),
    createdAt: p.datetime().onCreate(() => new Date()),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

export type ApiKey = InferEntity<typeof ApiKeySchema>;

export const ApiKeyUsageSchema = defineEntity({
  name: 'ApiKeyUsage',
  tableName: 'api_key_usage',
  checks: [{ name: 'api_key_usage_period_known', expression: "period in ('minute', 'day')" }],
  properties: {
    key: p.manyToOne(ApiKeySchema).primary().deleteRule('cascade'),
    period: p.string().length(8).primary(),
    windowStart: p.datetime().primary().index(),
    count: p.integer(),
  },
});
