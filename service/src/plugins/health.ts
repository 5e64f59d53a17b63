// Liveness never touches the database (the adapter's readiness check); readiness checks it, bounded.
import { setTimeout as delay } from 'node:timers/promises';
import type { Plugin, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { Config } from '../config.ts';
import { isSchemaAtLatestMigration } from '../db/schema-status.ts';
import { databaseSetupProblem } from '../errors/classify-error.ts';
import { DomainError } from '../errors/domain-error.ts';
import { errorSchema, successSchema } from '../lib/envelope.ts';

export const LIVENESS_PATH = '/health';
const READINESS_PATH = '/health/ready';

// Probes give up after 1 to 5 s, sooner than the data routes' connect and query timeouts.
const READINESS_TIMEOUT_MS = 1000;

export interface HealthPluginOptions {
  readonly config: Config;
  readonly readinessTimeoutMs?: number;
}

const livenessSchema = Joi.object({
  status: Joi.string().valid('ok').required(),
  version: Joi.string().required(),
  environment: Joi.string().required(),
  uptimeSeconds: Joi.number().min(0).required(),
}).label('Liveness');

const readinessSchema = Joi.object({
  status: Joi.string().valid('ready').required(),
  database: Joi.object({ latencyMs: Joi.number().min(0).required() }).required(),
}).label('Readiness');

export const healthPlugin: Plugin<HealthPluginOptions> = {
  name: 'health',
  dependencies: ['database'],
  register(server, { config, readinessTimeoutMs = READINESS_TIMEOUT_MS }) {
    // Once at the latest migration, a schema stays there: later checks are one `select 1`.
    let schemaCurrent = false;
    // One check at a time: probes against a hung database join it instead of piling up connections.
    let inFlight: Promise<void> | undefined;
    const checkDatabase = (): Promise<void> =>
      (inFlight ??= (async () => {
        const orm = await server.plugins.database.getOrm();
        if (schemaCurrent) {
          await orm.em.getConnection().execute('select 1');
          return;
        }
        if (!(await isSchemaAtLatestMigration(orm))) throw new DomainError('DATABASE_NOT_MIGRATED');
        schemaCurrent = true;
      })().finally(() => {
        inFlight = undefined;
      }));

    const routes: ServerRoute[] = [
      {
        method: 'GET',
        path: LIVENESS_PATH,
        options: {
          tags: ['api', 'health'],
          auth: false,
          description: 'Liveness: the process is up (no database access)',
          response: { status: { 200: successSchema(livenessSchema, 'LivenessEnvelope') } },
          handler: (_request, h) =>
            h.success({
              status: 'ok',
              version: config.version,
              environment: config.appEnv,
              uptimeSeconds: Math.round(process.uptime()),
            }),
        },
      },
      {
        method: 'GET',
        path: READINESS_PATH,
        options: {
          tags: ['api', 'health'],
          auth: false,
          description: 'Readiness: the database answers and its schema is at the latest migration',
          response: { status: { 200: successSchema(readinessSchema, 'ReadinessEnvelope') } },
          plugins: {
            'hapi-swagger': {
              responses: {
                503: { description: 'Database unavailable, not migrated or missing', schema: errorSchema },
              },
            },
          },
          handler: async (_request, h) => {
            const started = performance.now();
            try {
              await withinBound(checkDatabase(), readinessTimeoutMs);
            } catch (error) {
              if (error instanceof DomainError && error.code !== 'DATABASE_UNAVAILABLE') throw error;
              const code = databaseSetupProblem(error) ?? 'DATABASE_UNAVAILABLE';
              throw new DomainError(code, undefined, { cause: error });
            }
            return h.success({
              status: 'ready',
              database: { latencyMs: Math.round(performance.now() - started) },
            });
          },
        },
      },
    ];
    server.route(routes);
  },
};

// The work carries on (the next probe joins it) until its own timeout.
async function withinBound(work: Promise<void>, ms: number): Promise<void> {
  const timer = new AbortController();
  const expired = delay(ms, undefined, { signal: timer.signal }).then(() => {
    throw new Error(`The database did not answer within ${ms} ms`);
  });
  try {
    await Promise.race([work, expired]);
  } finally {
    timer.abort();
    expired.catch(() => undefined);
  }
}
