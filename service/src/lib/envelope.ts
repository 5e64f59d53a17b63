// The one response shape, its `h.success` reply and the joi schemas that document it.
import type { ResponseObject, ResponseToolkit } from '@hapi/hapi';
import Joi from 'joi';

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export interface Envelope<T = unknown> {
  readonly success: boolean;
  readonly message: string;
  readonly data: T | null;
  readonly code?: number;
  readonly errors?: readonly FieldError[];
  readonly traceId: string;
}

function successEnvelope<T>(traceId: string, data: T, message = 'OK'): Envelope<T> {
  return { success: true, message, data, traceId };
}

export interface SuccessReplyOptions {
  readonly message?: string;
  readonly statusCode?: number;
}

// `h.success(data, options)`: server.ts decorates the toolkit with it.
export function replyWithSuccess(
  this: ResponseToolkit,
  data: unknown,
  options: SuccessReplyOptions = {},
): ResponseObject {
  return this.response(successEnvelope(this.request.app.traceId, data, options.message)).code(
    options.statusCode ?? 200,
  );
}

export function errorEnvelope(
  traceId: string,
  code: number,
  message: string,
  errors?: readonly FieldError[],
): Envelope<null> {
  return errors === undefined
    ? { success: false, message, data: null, code, traceId }
    : { success: false, message, data: null, code, errors, traceId };
}

const traceIdSchema = Joi.string().required().description('Request id; quote it when reporting a problem');

export function successSchema(data: Joi.Schema, label: string): Joi.ObjectSchema {
  return Joi.object({
    success: Joi.boolean().valid(true).required(),
    message: Joi.string().required(),
    data: data.required(),
    traceId: traceIdSchema,
  }).label(label);
}

export const emptySuccessSchema = successSchema(Joi.valid(null), 'EmptyEnvelope');

export const errorSchema = Joi.object({
  success: Joi.boolean().valid(false).required(),
  message: Joi.string().required(),
  data: Joi.valid(null).required(),
  code: Joi.number().integer().required().description('Internal error code; see docs/api.md'),
  errors: Joi.array().items(Joi.object({ field: Joi.string(), message: Joi.string() }).label('FieldError')),
  traceId: traceIdSchema,
}).label('ErrorEnvelope');
