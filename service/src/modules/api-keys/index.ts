// The API keys module: auth strategy, usage headers, key management events and usage purge.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import type { DomainModule } from '../module.ts';
import { apiKeyServiceFor } from './api-key.service-for.ts';
import { API_KEY_SCHEME, apiKeyScheme, USAGE_HEADER_NAMES, usageHeaders } from './api-key.auth.ts';
import { createKeyEvent, listKeysEvent, revokeKeyEvent } from './api-key.schemas.ts';

const count = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });

const apiKeysPlugin: Plugin<{ config: Config }> = {
  name: 'api-keys',
  dependencies: ['database', 'errors', 'lambda-events'],
  register(server, { config }) {
    server.auth.scheme(API_KEY_SCHEME, apiKeyScheme);
    server.auth.strategy(API_KEY_SCHEME, API_KEY_SCHEME);
    // hapi applies the default at lookup time, to every route that does not say `auth: false`.
    if (config.apiKeys.required) server.auth.default(API_KEY_SCHEME);

    server.ext(
      'onPreResponse',
      (request, h) => {
        const usage = request.plugins['api-keys'];
        if (usage === undefined) return h.continue;
        const { response } = request;
        const headers = usageHeaders(usage);
        if ('isBoom' in response && response.isBoom) {
          Object.assign(response.output.headers, headers);
        } else if ('header' in response) {
          for (const [name, value] of Object.entries(headers)) response.header(name, value);
        }
        return h.continue;
      },
      // Before the error mapper, which copies a Boom's headers onto the envelope it renders.
      { before: ['errors'] },
    );

    const events = server.plugins['lambda-events'];
    events.registerAction('keys.create', {
      schema: createKeyEvent,
      async run(event, em) {
        const { name, quota, rate } = event as { name: string; quota?: number; rate?: number };
        const keys = await apiKeyServiceFor(em);
        const created = await keys.create({
          name,
          dailyQuota: quota ?? config.apiKeys.defaultDailyQuota,
          rateLimitPerMinute: rate ?? config.apiKeys.defaultRatePerMinute,
        });
        return { message: 'API key created; the key is shown only once', data: created };
      },
    });
    events.registerAction('keys.list', {
      schema: listKeysEvent,
      async run(_event, em) {
        return { message: 'API keys', data: { keys: await (await apiKeyServiceFor(em)).list() } };
      },
    });
    events.registerAction('keys.revoke', {
      schema: revokeKeyEvent,
      async run(event, em) {
        return {
          message: 'API key revoked',
          data: await (await apiKeyServiceFor(em)).revoke(event.id as string),
        };
      },
    });
    events.registerMaintenanceTask('apiKeys.purgeUsage', async (em) =>
      (await apiKeyServiceFor(em)).purgeUsage(config.apiKeys.usageRetentionDays),
    );
  },
};

export const apiKeysModule = {
  plugin: apiKeysPlugin,
  entities: async () => {
    const { ApiKeySchema, ApiKeyUsageSchema } = await import('./api-key.entity.ts');
    return [ApiKeySchema, ApiKeyUsageSchema];
  },
  errorCodes: {
    API_KEY_MISSING: {
      code: 4011,
      status: 401,
      message: 'An API key is required: send it in the x-api-key header or as Authorization: Bearer <key>',
      when: 'No key in `x-api-key` or `Authorization: Bearer`',
    },
    API_KEY_INVALID: {
      code: 4012,
      status: 401,
      message: 'The API key is not valid',
      when: 'A malformed, unknown or wrong key',
    },
    API_KEY_REVOKED: { code: 4013, status: 401, message: 'The API key has been revoked' },
    RATE_LIMITED: {
      code: 4291,
      status: 429,
      message: 'Too many requests for this API key this minute; retry after the Retry-After delay',
      when: "Over the key's per-minute rate (`Retry-After`)",
    },
    QUOTA_EXCEEDED: {
      code: 4292,
      status: 429,
      message: "This API key's daily quota is used up; it resets at midnight UTC",
      when: "Over the key's daily quota (`Retry-After`; resets at midnight UTC)",
    },
    API_KEY_NOT_FOUND: {
      code: 9101,
      status: 404,
      message: 'No API key has this id',
      when: '`keys.revoke` / `keys:revoke` with an unknown id',
    },
  },
  cors: { allowHeaders: ['x-api-key'], exposeHeaders: USAGE_HEADER_NAMES },
  responseHeaders: {
    authenticated: {
      'RateLimit-Limit': count('Requests per minute this key may make (present when keys are on)'),
      'RateLimit-Remaining': count('Requests left this minute'),
      'RateLimit-Reset': count('Seconds until the minute window resets'),
      'X-Quota-Limit': count('Requests per day (UTC) this key may make'),
      'X-Quota-Remaining': count('Requests left today'),
      'X-Quota-Reset': count('Seconds until the daily quota resets (midnight UTC)'),
    },
    refusals: {
      401: {
        'WWW-Authenticate': {
          description: 'The key scheme; error="invalid_token" when a key was sent but is not valid',
          required: true,
          schema: { type: 'string', example: 'Bearer realm="api"' },
        },
      },
      429: { 'Retry-After': { ...count('Seconds until a retry can succeed'), required: true } },
    },
  },
} as const satisfies DomainModule;
