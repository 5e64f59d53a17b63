// The `api-key` auth scheme: one database round trip checks and counts a key; 401 or 429 otherwise.
import type { Request, ResponseToolkit, ServerAuthSchemeObject } from '@hapi/hapi';
import { codedBoom } from '../../errors/coded-boom.ts';
import type { ErrorCodeName } from '../../errors/error-codes.ts';
import { apiKeyServiceFor } from './api-key.service-for.ts';
import { readPresentedKey } from './api-key.token.ts';

export const API_KEY_SCHEME = 'api-key';

export interface ApiKeyUsage {
  readonly rateLimit: number;
  readonly rateRemaining: number;
  readonly rateResetSeconds: number;
  readonly dailyQuota: number;
  readonly quotaRemaining: number;
  readonly quotaResetSeconds: number;
}

function unauthorized(name: ErrorCodeName, invalid: boolean) {
  return codedBoom(name, {
    'WWW-Authenticate': invalid ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"',
  });
}

export function apiKeyScheme(): ServerAuthSchemeObject {
  return {
    async authenticate(request: Request, h: ResponseToolkit) {
      const presented = readPresentedKey(request.headers);
      if (presented.kind === 'missing') throw unauthorized('API_KEY_MISSING', false);
      if (presented.kind === 'malformed') throw unauthorized('API_KEY_INVALID', true);

      // Counting a use is a write: never run twice, whatever the request's method.
      const key = await request.server.plugins.database.run(
        request,
        async (em) => (await apiKeyServiceFor(em)).consume(presented.prefix, presented.hash),
        { retryOnDeadConnection: false },
      );
      if (key === undefined) throw unauthorized('API_KEY_INVALID', true);
      if (key.revokedAt !== null) throw unauthorized('API_KEY_REVOKED', true);

      const minuteCount = key.minuteCount ?? Number.MAX_SAFE_INTEGER;
      const dayCount = key.dayCount ?? 0;
      const usage: ApiKeyUsage = {
        rateLimit: key.rateLimitPerMinute,
        rateRemaining: Math.max(0, key.rateLimitPerMinute - minuteCount),
        rateResetSeconds: key.minuteResetSeconds,
        dailyQuota: key.dailyQuota,
        quotaRemaining: Math.max(0, key.dailyQuota - dayCount),
        quotaResetSeconds: key.dayResetSeconds,
      };
      request.plugins['api-keys'] = usage;
      if (minuteCount > key.rateLimitPerMinute) {
        throw codedBoom('RATE_LIMITED', { 'Retry-After': String(key.minuteResetSeconds) });
      }
      if (dayCount > key.dailyQuota) {
        throw codedBoom('QUOTA_EXCEEDED', { 'Retry-After': String(key.dayResetSeconds) });
      }
      // hapi needs a credentials object; nothing reads the key's details from it.
      return h.authenticated({ credentials: {} });
    },
  };
}

export function usageHeaders(usage: ApiKeyUsage): Record<string, string> {
  return {
    'RateLimit-Limit': String(usage.rateLimit),
    'RateLimit-Remaining': String(usage.rateRemaining),
    'RateLimit-Reset': String(usage.rateResetSeconds),
    'X-Quota-Limit': String(usage.dailyQuota),
    'X-Quota-Remaining': String(usage.quotaRemaining),
    'X-Quota-Reset': String(usage.quotaResetSeconds),
  };
}

export const USAGE_HEADER_NAMES = Object.keys(
  usageHeaders({
    rateLimit: 0,
    rateRemaining: 0,
    rateResetSeconds: 0,
    dailyQuota: 0,
    quotaRemaining: 0,
    quotaResetSeconds: 0,
  }),
);
