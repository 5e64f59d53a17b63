// API key use cases: create (the key is returned once), list, revoke, purge old usage. Shared by the
// HTTP auth scheme, the keys:* scripts and the Lambda pass-through events.
import { DomainError } from '../../errors/domain-error.ts';
import type { ApiKeyListing, ApiKeyRepository, ConsumeResult } from './api-key.repository.ts';
import { generateKey, hashesEqual, normalizePrefix } from './api-key.token.ts';

export interface CreateApiKeyInput {
  readonly name: string;
  readonly dailyQuota: number;
  readonly rateLimitPerMinute: number;
}

export interface ApiKeyDto {
  /** The key's public id: its prefix (`ak_…`). The database id never leaves the repository. */
  readonly id: string;
  readonly name: string;
  readonly dailyQuota: number;
  readonly rateLimitPerMinute: number;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface ApiKeyListingDto extends ApiKeyDto {
  readonly usedToday: number;
}

export interface CreatedApiKey extends ApiKeyDto {
  /** The secret key, shown exactly once. */
  readonly key: string;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export class ApiKeyService {
  private readonly keys: ApiKeyRepository;

  constructor(keys: ApiKeyRepository) {
    this.keys = keys;
  }

  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const { key, prefix, hash } = generateKey();
    const created = await this.keys.create({ prefix, keyHash: hash, ...input });
    return { ...toDto(created), key };
  }

  /**
   * Finds the key with this prefix and counts the request (see the repository). Undefined when no key
   * has the prefix or its secret is wrong, which callers must not tell apart.
   */
  async consume(prefix: string, hash: string): Promise<ConsumeResult | undefined> {
    const key = await this.keys.consume(prefix, hash);
    return key !== undefined && hashesEqual(key.keyHash, hash) ? key : undefined;
  }

  async list(): Promise<ApiKeyListingDto[]> {
    return (await this.keys.list()).map(listingToDto);
  }

  /**
   * Revokes the key a client names by its public id (the prefix, its 12 characters, or the whole key).
   * Idempotent: revoking a revoked key keeps its original revocation time.
   */
  async revoke(publicId: string): Promise<ApiKeyDto> {
    const prefix = normalizePrefix(publicId);
    const key = prefix === undefined ? null : await this.keys.findByPrefix(prefix);
    if (!key) throw new DomainError('API_KEY_NOT_FOUND', `No API key has the id ${prefix ?? 'given'}`);
    if (key.revokedAt === null || key.revokedAt === undefined) {
      key.revokedAt = new Date();
      await this.keys.flush();
    }
    return toDto(key);
  }

  /** Maintenance: minute windows are useless after an hour; day windows are kept for `retentionDays`. */
  async purgeUsage(retentionDays: number, now = new Date()) {
    const dayBefore = new Date(now.getTime() - retentionDays * DAY_MS);
    const purged = await this.keys.purgeUsage(dayBefore, new Date(now.getTime() - HOUR_MS));
    return {
      purgedMinuteWindows: purged.minute,
      purgedDayWindows: purged.day,
      before: dayBefore.toISOString(),
    };
  }
}

/** The fields a key and a listing row share. */
type KeyFields = Pick<
  ApiKeyListing,
  'prefix' | 'name' | 'dailyQuota' | 'rateLimitPerMinute' | 'createdAt'
> & {
  lastUsedAt?: Date | null;
  revokedAt?: Date | null;
};

function toDto(key: KeyFields): ApiKeyDto {
  return {
    id: key.prefix,
    name: key.name,
    dailyQuota: key.dailyQuota,
    rateLimitPerMinute: key.rateLimitPerMinute,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

function listingToDto(key: ApiKeyListing): ApiKeyListingDto {
  return { ...toDto(key), usedToday: key.usedToday };
}
