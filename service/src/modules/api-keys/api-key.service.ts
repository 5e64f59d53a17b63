// API key use cases, shared by the auth scheme, the keys:* scripts and the pass-through events.
import { DomainError } from '../../errors/domain-error.ts';
import type { ApiKeyListing, ApiKeyRepository, ConsumeResult } from './api-key.repository.ts';
import { generateKey, hashesEqual, normalizePrefix } from './api-key.token.ts';

export interface CreateApiKeyInput {
  readonly name: string;
  readonly dailyQuota: number;
  readonly rateLimitPerMinute: number;
}

export interface ApiKeyDto {
  // The prefix; the database id never leaves the repository.
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

  // Undefined for an unknown prefix or a wrong secret: callers must not tell them apart.
  async consume(prefix: string, hash: string): Promise<ConsumeResult | undefined> {
    const key = await this.keys.consume(prefix, hash);
    return key !== undefined && hashesEqual(key.keyHash, hash) ? key : undefined;
  }

  async list(): Promise<ApiKeyListingDto[]> {
    return (await this.keys.list()).map(listingToDto);
  }

  // Idempotent: a revoked key keeps its original revocation time.
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

  // Minute windows are useless after an hour.
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
