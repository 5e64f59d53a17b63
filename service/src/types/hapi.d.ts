// Every `declare module '@hapi/hapi'` augmentation of the service, in one place.
import type { ResponseObject } from '@hapi/hapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DatabaseApi } from '../plugins/database.ts';
import type { LambdaEventsApi } from '../plugins/lambda-events.ts';
import type { LambdaRequestContext } from '../lib/lambda-context.ts';
import type { Config } from '../config.ts';
import type { SuccessReplyOptions } from '../lib/envelope.ts';
import type { ApiKeyUsage } from '../modules/api-keys/api-key.auth.ts';

declare module '@hapi/hapi' {
  interface RequestApplicationState {
    /** Returned to clients as `traceId` and bound to every log line of the request. */
    traceId: string;
    lambda: LambdaRequestContext;
    /** This request's own EntityManager fork: nothing is shared with concurrent requests. */
    em?: EntityManager;
  }

  interface PluginsStates {
    /** The calling key's limits, reported in response headers. */
    'api-keys'?: ApiKeyUsage;
  }

  interface ServerApplicationState {
    config: Config;
  }

  interface PluginProperties {
    database: DatabaseApi;
    'lambda-events': LambdaEventsApi;
  }

  interface ResponseToolkit {
    /** Replies with the success envelope around `data` (lib/envelope.ts). */
    success(data: unknown, options?: SuccessReplyOptions): ResponseObject;
  }
}
