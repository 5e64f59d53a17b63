// API key data access: ONE statement finds a key and counts it; upserts lose no count across instances.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKeySchema, ApiKeyUsageSchema, type ApiKey } from './api-key.entity.ts';

export interface ConsumeResult {
  readonly name: string;
  readonly keyHash: string;
  readonly revokedAt: Date | null;
  readonly dailyQuota: number;
  readonly rateLimitPerMinute: number;
  // This one included; null when the key was not counted.
  readonly minuteCount: number | null;
  // UTC; a request over the minute's rate is not counted here.
  readonly dayCount: number | null;
  readonly minuteResetSeconds: number;
  readonly dayResetSeconds: number;
}

export interface ApiKeyListing {
  readonly prefix: string;
  readonly name: string;
  readonly dailyQuota: number;
  readonly rateLimitPerMinute: number;
  readonly usedToday: number;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

// Counts only a live key whose hash matches: docs/api-keys.md#quotas-and-rate-limits
const CONSUME_SQL = `
with k as (
  select id, name, key_hash, revoked_at, daily_quota, rate_limit_per_minute
  from api_keys where prefix = ?
),
live as (
  select id, daily_quota, rate_limit_per_minute from k where revoked_at is null and key_hash = ?
),
minute as (
  insert into api_key_usage (key_id, period, window_start, count)
  select id, 'minute', date_trunc('minute', now()), 1 from live
  on conflict (key_id, period, window_start) do update set count = api_key_usage.count + 1
  returning count
),
day as (
  insert into api_key_usage (key_id, period, window_start, count)
  select live.id, 'day', date_trunc('day', now(), 'UTC'), 1 from live, minute
  where minute.count <= live.rate_limit_per_minute
  on conflict (key_id, period, window_start) do update set count = api_key_usage.count + 1
  returning count
),
touched as (
  update api_keys set last_used_at = now() from live
  where api_keys.id = live.id
    and (api_keys.last_used_at is null or api_keys.last_used_at < now() - interval '1 minute')
  returning 1
)
select
  k.name, k.key_hash, k.revoked_at, k.daily_quota, k.rate_limit_per_minute,
  (select count from minute) as minute_count,
  coalesce(
    (select count from day),
    (select count from api_key_usage u
      where u.key_id = k.id and u.period = 'day' and u.window_start = date_trunc('day', now(), 'UTC'))
  ) as day_count,
  greatest(1, ceil(extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())))::int
    as minute_reset_seconds,
  greatest(1, ceil(extract(epoch from date_trunc('day', now(), 'UTC') + interval '1 day' - now())))::int
    as day_reset_seconds
from k`;

interface ConsumeRow {
  name: string;
  key_hash: string;
  revoked_at: Date | string | null;
  daily_quota: number;
  rate_limit_per_minute: number;
  minute_count: number | null;
  day_count: number | null;
  minute_reset_seconds: number;
  day_reset_seconds: number;
}

interface ListingRow {
  prefix: string;
  name: string;
  daily_quota: number;
  rate_limit_per_minute: number;
  used_today: number;
  created_at: Date | string;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
}

export class ApiKeyRepository {
  private readonly em: EntityManager;

  constructor(em: EntityManager) {
    this.em = em;
  }

  async consume(prefix: string, hash: string): Promise<ConsumeResult | undefined> {
    const [row] = await this.em.getConnection().execute<ConsumeRow[]>(CONSUME_SQL, [prefix, hash]);
    if (row === undefined) return undefined;
    return {
      name: row.name,
      keyHash: row.key_hash,
      revokedAt: toDate(row.revoked_at),
      dailyQuota: row.daily_quota,
      rateLimitPerMinute: row.rate_limit_per_minute,
      minuteCount: row.minute_count,
      dayCount: row.day_count,
      minuteResetSeconds: row.minute_reset_seconds,
      dayResetSeconds: row.day_reset_seconds,
    };
  }

  async create(input: Pick<ApiKey, 'prefix' | 'keyHash' | 'name' | 'dailyQuota' | 'rateLimitPerMinute'>) {
    const key = this.em.create(ApiKeySchema, { ...input, lastUsedAt: null, revokedAt: null });
    await this.em.flush();
    return key;
  }

  findByPrefix(prefix: string): Promise<ApiKey | null> {
    return this.em.findOne(ApiKeySchema, { prefix });
  }

  async flush(): Promise<void> {
    await this.em.flush();
  }

  async list(): Promise<ApiKeyListing[]> {
    const rows = await this.em.getConnection().execute<ListingRow[]>(
      `select k.prefix, k.name, k.daily_quota, k.rate_limit_per_minute, k.created_at, k.last_used_at,
         k.revoked_at, coalesce(u.count, 0) as used_today
       from api_keys k
       left join api_key_usage u
         on u.key_id = k.id and u.period = 'day' and u.window_start = date_trunc('day', now(), 'UTC')
       order by k.created_at, k.prefix`,
    );
    return rows.map((row) => ({
      prefix: row.prefix,
      name: row.name,
      dailyQuota: row.daily_quota,
      rateLimitPerMinute: row.rate_limit_per_minute,
      usedToday: row.used_today,
      createdAt: toDate(row.created_at) ?? new Date(0),
      lastUsedAt: toDate(row.last_used_at),
      revokedAt: toDate(row.revoked_at),
    }));
  }

  async purgeUsage(dayBefore: Date, minuteBefore: Date): Promise<{ minute: number; day: number }> {
    const minute = await this.em.nativeDelete(ApiKeyUsageSchema, {
      period: 'minute',
      windowStart: { $lt: minuteBefore },
    });
    const day = await this.em.nativeDelete(ApiKeyUsageSchema, {
      period: 'day',
      windowStart: { $lt: dayBefore },
    });
    return { minute, day };
  }
}

function toDate(value: Date | string | null): Date | null {
  return value === null ? null : new Date(value);
}
