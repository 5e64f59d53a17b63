// What Node and hapi get wrong alone: unsupported Expect, If-None-Match: *, bodies that are not JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { entityTooLarge } from '@hapi/boom';
import type { Plugin, ResponseObject } from '@hapi/hapi';
import { DomainError } from '../errors/domain-error.ts';
import type { PassThroughRouteApp } from './errors.ts';
import { hasBody } from './unread-body.ts';

// No route allows it: hapi refuses the body with its 415, after authentication.
const REFUSED_TYPE = 'application/x-refused-body';

export const protocolPlugin: Plugin<void> = {
  name: 'protocol',
  dependencies: ['request-context', 'errors'],
  register(server) {
    // Otherwise Node answers an unknown Expect itself, with a bare 417.
    const listener = server.listener;
    listener.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
      listener.emit('request', req, res);
    });

    server.ext('onRequest', (request, h) => {
      const { headers } = request;
      const { httpVersionMajor, httpVersionMinor } = request.raw.req;
      if (httpVersionMajor === 1 && httpVersionMinor === 1 && headers.host === undefined) {
        throw new DomainError('BAD_REQUEST', 'An HTTP/1.1 request needs a Host header');
      }
      const expect = headers.expect;
      if (typeof expect === 'string' && expect.toLowerCase() !== '100-continue') {
        throw new DomainError('EXPECTATION_FAILED');
      }
      // hapi parses an untyped body as JSON and ignores the charset.
      const type = headers['content-type'];
      if (type === undefined ? hasBody(headers) : typeof type === 'string' && !isAcceptedCharset(type)) {
        headers['content-type'] = REFUSED_TYPE;
      }
      return h.continue;
    });

    // hapi says 100 Continue before it checks the length, then waits for the whole body to refuse it.
    server.ext('onPreAuth', (request, h) => {
      const { headers } = request;
      const maxBytes = request.route.settings.payload?.maxBytes;
      const app: Partial<PassThroughRouteApp> | undefined = request.route.settings.app;
      if (
        typeof headers.expect === 'string' &&
        maxBytes !== undefined &&
        // A 413 would tell an unknown path and the events route apart.
        (request.route.method as string) !== '_special' &&
        app?.passThroughEvents !== true &&
        Number(headers['content-length']) > maxBytes
      ) {
        throw entityTooLarge(`Payload content length greater than maximum allowed: ${String(maxBytes)}`);
      }
      return h.continue;
    });

    // hapi knows nothing of `*`, which matches any current representation (RFC 9110 13.1.2).
    server.ext('onPreResponse', (request, h) => {
      const response = request.response as ResponseObject;
      if (
        (request.method === 'get' || request.method === 'head') &&
        response.statusCode === 200 &&
        response.headers.etag !== undefined &&
        listsAnyTag(request.headers['if-none-match'])
      ) {
        response.code(304);
      }
      return h.continue;
    });
  },
};

// JSON is UTF-8 (RFC 8259 8.1).
function isAcceptedCharset(type: string): boolean {
  const [mime = '', ...parameters] = type.split(';');
  if (mime.trim().toLowerCase() !== 'application/json') return true;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    if (!isUtf8Label(value.trim().replace(/^"(.*)"$/, '$1'))) return false;
  }
  return true;
}

function listsAnyTag(ifNoneMatch: unknown): boolean {
  return typeof ifNoneMatch === 'string' && ifNoneMatch.split(',').some((tag) => tag.trim() === '*');
}

// The Encoding Standard's labels, as browsers read them.
function isUtf8Label(label: string): boolean {
  try {
    return new TextDecoder(label).encoding === 'utf-8';
  } catch {
    return false;
  }
}
