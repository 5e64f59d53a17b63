// Non-HTTP Lambda events, inside Lambda only; a failure answers 599: docs/lambda-events.md
import { boomify } from '@hapi/boom';
import type { Lifecycle, Plugin, Request } from '@hapi/hapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import Joi from 'joi';
import { isConnectionFailure } from '../errors/classify-error.ts';
import { DomainError } from '../errors/domain-error.ts';
import type { PassThroughRouteApp } from './errors.ts';

export const EVENTS_PATH = '/internal/events';

type MaintenanceTask = (em: EntityManager) => Promise<unknown>;

// Invoked as `{"action": "<name>", …}`.
interface EventAction {
  readonly schema: Joi.ObjectSchema;
  run(event: Record<string, unknown>, em: EntityManager): Promise<{ message: string; data: unknown }>;
}

export interface LambdaEventsApi {
  registerMaintenanceTask(name: string, task: MaintenanceTask): void;
  registerAction(name: string, action: EventAction): void;
}

const migrateEvent = Joi.object({ action: Joi.string().valid('migrate').required() }).unknown(false);
const maintenanceEvent = Joi.alternatives(
  Joi.object({ action: Joi.string().valid('maintenance').required() }),
  // EventBridge "Scheduled Event" (rate/cron rules).
  Joi.object({
    source: Joi.string().valid('aws.events').required(),
    'detail-type': Joi.string().valid('Scheduled Event').required(),
  }).unknown(true),
);

// Driver messages and codes carry host and port only.
function errorSummary(error: unknown): { message: string; code?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code } = error as Error & { code?: unknown };
  return typeof code === 'string' ? { message: error.message, code } : { message: error.message };
}

export const lambdaEventsPlugin: Plugin<void> = {
  name: 'lambda-events',
  dependencies: ['database', 'errors'],
  register(server) {
    const tasks = new Map<string, MaintenanceTask>();
    const actions = new Map<string, EventAction>();
    const api: LambdaEventsApi = {
      registerMaintenanceTask(name, task) {
        if (tasks.has(name)) throw new Error(`maintenance task ${name} is registered twice`);
        tasks.set(name, task);
      },
      registerAction(name, action) {
        if (name === 'migrate' || name === 'maintenance' || actions.has(name)) {
          throw new Error(`event action ${name} is registered twice`);
        }
        actions.set(name, action);
      },
    };
    server.expose(api);
    // Outside Lambda anyone could run operator actions here: 404, operators use the npm scripts.
    if (!server.app.config.inLambda) return;

    // Connection failures retry until near the deadline (Aurora resumes in ~15 s); failed migrations do not.
    const migrate = async (request: Request) => {
      const { migrateWithRetries } = await import('../db/migrate-with-retries.ts');
      let attempts = 1;
      try {
        const applied = await migrateWithRetries({
          getOrm: () => server.plugins.database.getOrm(),
          deadline: request.app.lambda.deadline,
          connectTimeoutMs: server.app.config.database.connectTimeoutMs,
          onRetry: ({ attempt, delayMs, error }) => {
            attempts = attempt + 1;
            request.logger.warn(
              { attempt, delayMs, err: errorSummary(error) },
              'database unreachable; retrying the migrations',
            );
          },
        });
        request.logger.info({ applied }, `applied ${applied.length} migration(s)`);
        return { applied };
      } catch (error) {
        if (isConnectionFailure(error)) {
          request.logger.error(
            { attempts, err: errorSummary(error) },
            'migrations not run: the database stayed unreachable',
          );
          throw new DomainError(
            'DATABASE_UNAVAILABLE',
            `Migrations not run: the database stayed unreachable after ${attempts} attempts; see the function logs for this traceId`,
          );
        }
        request.logger.error({ err: error }, 'migration failed');
        throw new DomainError('EVENT_FAILED', 'Migration failed; see the function logs for this traceId');
      }
    };

    const maintain = async (request: Request) => {
      const results: Record<string, unknown> = {};
      for (const [name, task] of tasks) {
        try {
          // A fork per task: no identity map leaks into the next.
          results[name] = await task((await server.plugins.database.getOrm()).em.fork());
        } catch (error) {
          request.logger.error({ err: error, task: name }, 'maintenance task failed');
          throw new DomainError(
            'EVENT_FAILED',
            `Maintenance task ${name} failed; see the function logs for this traceId`,
          );
        }
      }
      request.logger.info({ results }, 'maintenance done');
      return { tasks: results };
    };

    const runAction = async (request: Request, action: EventAction, event: unknown) => {
      const result: Joi.ValidationResult<Record<string, unknown>> = action.schema.validate(event, {
        abortEarly: false,
      });
      if (result.error) throw boomify(result.error, { statusCode: 400 });
      return server.plugins.database.run(request, (em) => action.run(result.value, em));
    };

    // For HTTP, indistinguishable from an unknown path.
    const refuseHttpRequests = (request: Request) => {
      if (!request.app.lambda.passThroughEvent) throw new DomainError('ROUTE_NOT_FOUND');
    };
    // Nor may a bad body reveal the route.
    const payloadFailure: Lifecycle.FailAction = (request, _h, error) => {
      refuseHttpRequests(request);
      throw error ?? new Error('payload failed without an error');
    };

    server.route({
      method: 'POST',
      path: EVENTS_PATH,
      options: {
        // No HTTP request can reach this route.
        auth: false,
        description: 'Lambda pass-through events (not reachable through API Gateway)',
        app: { passThroughEvents: true } satisfies PassThroughRouteApp,
        payload: { parse: true, allow: ['application/json'], failAction: payloadFailure },
        // Bounded by the invocation's deadline: migrations may wait for a resuming database.
        timeout: { server: false },
        handler: async (request, h) => {
          refuseHttpRequests(request);
          const event: unknown = request.payload;
          if (migrateEvent.validate(event).error === undefined) {
            return h.success(await migrate(request), { message: 'Migrations applied' });
          }
          if (maintenanceEvent.validate(event).error === undefined) {
            return h.success(await maintain(request), { message: 'Maintenance done' });
          }
          const name = (event as { action?: unknown } | null)?.action;
          const action = typeof name === 'string' ? actions.get(name) : undefined;
          if (action !== undefined) {
            const { message, data } = await runAction(request, action, event);
            return h.success(data, { message });
          }
          throw new DomainError(
            'EVENT_UNKNOWN',
            `Unknown event: expected {"action":"migrate"}, {"action":"maintenance"}, an EventBridge Scheduled Event${
              actions.size > 0 ? ` or an action among ${[...actions.keys()].join(', ')}` : ''
            }`,
          );
        },
      },
    });
  },
};
