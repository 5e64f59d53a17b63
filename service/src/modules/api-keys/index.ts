// The API keys module, registered as one hapi plugin: the `api-key` auth strategy (the default for
// every route when API keys are required; open routes opt out with `auth: false`), usage headers,
// key management as Lambda pass-through events, and the usage purge maintenance task.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import { apiKeyServiceFor } from '../services.ts';
import { API_KEY_SCHEME, apiKeyScheme, usageHeaders } from './api-key.auth.ts';
import { createKeyEvent, listKeysEvent, revokeKeyEvent } from './api-key.schemas.ts';

export const apiKeysPlugin: Plugin<{ config: Config }> = {
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
