// Every request's trace id and Lambda context; registered first, as logging binds these ids.
import { randomUUID } from 'node:crypto';
import type { Plugin } from '@hapi/hapi';
import { readLambdaContext, socketContext } from '../lib/lambda-context.ts';

export const requestContextPlugin: Plugin<void> = {
  name: 'request-context',
  register(server) {
    const { inLambda } = server.app.config;
    server.ext('onRequest', (request, h) => {
      const lambda = inLambda
        ? readLambdaContext(request.headers)
        : socketContext(request.info.remoteAddress);
      request.app.lambda = lambda;
      request.app.traceId = lambda.apiRequestId ?? lambda.lambdaRequestId ?? randomUUID();
      return h.continue;
    });

    // Lets a client quote any response's id; after the error mapper, which replaces errors.
    server.ext(
      'onPreResponse',
      (request, h) => {
        const { response } = request;
        if ('isBoom' in response && response.isBoom) {
          response.output.headers['x-request-id'] = request.app.traceId;
        } else if ('header' in response) {
          response.header('x-request-id', request.app.traceId);
        }
        return h.continue;
      },
      { after: ['errors'] },
    );
  },
};
