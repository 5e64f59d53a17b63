// Liveness (never touches the database: the Lambda Web Adapter's readiness check points here) and
// readiness (proves the database answers).
import type { Plugin, ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { Config } from '../config.ts';
import { DomainError } from '../errors/domain-error.ts';
import { errorSchema, successSchema } from '../lib/envelope.ts';

export const LIVENESS_PATH = '/health';
export const READINESS_PATH = '/health/ready';

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

export const healthPlugin: Plugin<{ config: Config }> = {
  name: 'health',
  dependencies: ['database'],
  register(server, { config }) {
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
          description: 'Readiness: the database answers',
          response: { status: { 200: successSchema(readinessSchema, 'ReadinessEnvelope') } },
          plugins: {
            'hapi-swagger': {
              responses: { 503: { description: 'Database unavailable', schema: errorSchema } },
            },
          },
          handler: async (_request, h) => {
            const started = performance.now();
            try {
              const orm = await server.plugins.database.getOrm();
              await orm.em.getConnection().execute('select 1');
            } catch (error) {
              throw new DomainError('DATABASE_UNAVAILABLE', undefined, { cause: error });
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
