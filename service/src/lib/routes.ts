// Route helpers the domain modules share: a service per request, error answers, binary downloads.
import type { ReqRef, Request, ResponseObject, ResponseToolkit } from '@hapi/hapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import { errorSchema } from './envelope.ts';

// `withService(request, work)`: `work` runs inside the connection gate.
export function serviceRunner<Service>(serviceFor: (em: EntityManager) => Promise<Service>) {
  return <Refs extends ReqRef, T>(
    request: Request<Refs>,
    work: (service: Service) => Promise<T>,
  ): Promise<T> => request.server.plugins.database.run(request, async (em) => work(await serviceFor(em)));
}

export function errorResponses(...statuses: number[]) {
  return {
    'hapi-swagger': {
      responses: Object.fromEntries(
        statuses.map((status) => [status, { description: 'Error', schema: errorSchema }]),
      ),
    },
  };
}

export interface BinaryFile {
  readonly data: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export function binaryReply<Refs extends ReqRef>(h: ResponseToolkit<Refs>, file: BinaryFile): ResponseObject {
  return h.response(file.data).type(file.contentType).etag(file.etag).header('cache-control', 'no-cache');
}

// hapi-swagger describes JSON answers only.
export function binaryDownload(description: string, contentTypes: readonly string[]) {
  return {
    openapi: {
      responses: {
        200: {
          description,
          headers: {
            ETag: { $ref: '#/components/headers/ETag' },
            'Cache-Control': { schema: { type: 'string', example: 'no-cache' } },
          },
          content: Object.fromEntries(
            contentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
          ),
        },
        304: { description: 'Not modified: If-None-Match named the current ETag' },
      },
    },
  };
}
