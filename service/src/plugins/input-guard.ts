// Before validation: refuses NUL, lone surrogates, and inputs too large to validate cheaply.
import Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import type { ValidationErrorItem } from 'joi';

// Keys plus array items, all levels: far more than any route's input has.
const MAX_INPUT_VALUES = 1000;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const inputGuardPlugin: Plugin<void> = {
  name: 'input-guard',
  dependencies: ['errors'],
  register(server) {
    server.ext('onPostAuth', (request, h) => {
      // Most requests (a GET without a query string) carry nothing to walk.
      if (isEmpty(request.params) && isEmpty(request.query) && isEmpty(request.payload)) return h.continue;
      const parts = { params: request.params, query: request.query, payload: request.payload };
      for (const [source, value] of Object.entries(parts)) {
        const problem = findProblem(value);
        if (problem !== undefined) throw validationBoom(source, problem);
      }
      return h.continue;
    });
  },
};

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value !== 'object') return false;
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
}

interface Problem {
  readonly path: string[];
  readonly message: string;
}

function findProblem(root: unknown): Problem | undefined {
  let values = 0;
  const stack: { value: unknown; path: string[] }[] = [{ value: root, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (typeof value === 'string') {
      const message = stringProblem(value);
      if (message !== undefined) return { path, message };
      continue;
    }
    // Buffers (covers) and other non-plain values are not strings for the database.
    if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) continue;
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    values += entries.length;
    if (values > MAX_INPUT_VALUES) return { path, message: `has more than ${MAX_INPUT_VALUES} values` };
    for (const [key, child] of entries) {
      const keyProblem = stringProblem(key);
      if (keyProblem !== undefined) return { path, message: `has a key that ${keyProblem}` };
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}

function stringProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain the NUL character';
  if (LONE_SURROGATE.test(value)) return 'must not contain a lone surrogate (invalid Unicode)';
  return undefined;
}

// Shaped like hapi's validation failure, so the error mapper names the field.
function validationBoom(source: string, { path, message }: Problem): Boom.Boom {
  const error = Boom.badRequest('Invalid request input');
  const details: Pick<ValidationErrorItem, 'path' | 'message'>[] = [
    { path, message: `${path.join('.') || source} ${message}` },
  ];
  Object.assign(error, { details });
  Object.assign(error.output.payload, { validation: { source } });
  return error;
}
