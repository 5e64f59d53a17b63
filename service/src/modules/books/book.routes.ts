// The books HTTP API as data: validation and response schemas from book.schemas.ts; handlers parse,
// call the service, reply.
import type { Request, ServerRoute } from '@hapi/hapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import { emptySuccessSchema, errorSchema } from '../../lib/envelope.ts';
import {
  bookEnvelope,
  bookIdParams,
  bookPageEnvelope,
  COVER_TYPES,
  coverEnvelope,
  MAX_COVER_BYTES,
  createBookPayload,
  listBooksQuery,
  updateBookPayload,
  type CreateBookInput,
  type ListBooksInput,
  type UpdateBookInput,
} from './book.schemas.ts';
import type { BookService } from './book.service.ts';

export const BOOKS_PATH = '/v1/books';

/**
 * The service over a request's (or a job's) EntityManager. Imported on first use: the repository pulls
 * in the ORM, which start-up and the liveness route never need (≈ 40 ms less CPU to ready).
 */
export async function bookServiceFor(em: EntityManager): Promise<BookService> {
  const [{ BookRepository }, { BookService }] = await Promise.all([
    import('./book.repository.ts'),
    import('./book.service.ts'),
  ]);
  return new BookService(new BookRepository(em));
}

async function booksFor(request: Request): Promise<BookService> {
  return bookServiceFor(await request.server.plugins.database.em(request));
}

/** GET cover: the bytes as uploaded, with their own type (hapi-swagger describes JSON answers only). */
const coverDownload = {
  openapi: {
    responses: {
      200: {
        description: 'The cover image',
        headers: {
          ETag: { $ref: '#/components/headers/ETag' },
          'Cache-Control': { schema: { type: 'string', example: 'no-cache' } },
        },
        content: Object.fromEntries(
          Object.keys(COVER_TYPES).map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
        ),
      },
      304: { description: 'Not modified: If-None-Match named the current ETag' },
    },
  },
};

const errors = (...statuses: number[]) => ({
  'hapi-swagger': {
    responses: Object.fromEntries(
      statuses.map((status) => [status, { description: 'Error', schema: errorSchema }]),
    ),
  },
});

export const bookRoutes: ServerRoute[] = [
  {
    method: 'POST',
    path: BOOKS_PATH,
    options: {
      tags: ['api', 'books'],
      description: 'Create a book',
      validate: { payload: createBookPayload },
      response: { status: { 201: bookEnvelope } },
      plugins: errors(400, 409, 413, 415, 503),
      handler: async (request, h) =>
        h.success(await (await booksFor(request)).create(request.payload as CreateBookInput), {
          message: 'Book created',
          statusCode: 201,
        }),
    },
  },
  {
    method: 'GET',
    path: BOOKS_PATH,
    options: {
      tags: ['api', 'books'],
      description: 'List books, paginated, optionally filtered by author',
      validate: { query: listBooksQuery },
      response: { status: { 200: bookPageEnvelope } },
      plugins: errors(400, 503),
      handler: async (request, h) =>
        h.success(await (await booksFor(request)).list(request.query as unknown as ListBooksInput)),
    },
  },
  {
    method: 'GET',
    path: `${BOOKS_PATH}/{id}`,
    options: {
      tags: ['api', 'books'],
      description: 'Get a book',
      validate: { params: bookIdParams },
      response: { status: { 200: bookEnvelope } },
      plugins: errors(400, 404, 503),
      handler: async (request, h) =>
        h.success(await (await booksFor(request)).get(request.params.id as string)),
    },
  },
  {
    method: 'PATCH',
    path: `${BOOKS_PATH}/{id}`,
    options: {
      tags: ['api', 'books'],
      description: 'Update some fields of a book',
      validate: { params: bookIdParams, payload: updateBookPayload },
      response: { status: { 200: bookEnvelope } },
      plugins: errors(400, 404, 409, 413, 415, 503),
      handler: async (request, h) =>
        h.success(
          await (
            await booksFor(request)
          ).update(request.params.id as string, request.payload as UpdateBookInput),
          { message: 'Book updated' },
        ),
    },
  },
  {
    method: 'DELETE',
    path: `${BOOKS_PATH}/{id}`,
    options: {
      tags: ['api', 'books'],
      description: 'Delete a book',
      validate: { params: bookIdParams },
      response: { status: { 200: emptySuccessSchema } },
      plugins: errors(400, 404, 503),
      handler: async (request, h) => {
        await (await booksFor(request)).delete(request.params.id as string);
        return h.success(null, { message: 'Book deleted' });
      },
    },
  },
  {
    method: 'PUT',
    path: `${BOOKS_PATH}/{id}/cover`,
    options: {
      tags: ['api', 'books'],
      description: 'Upload the cover image (raw PNG, JPEG, GIF or WebP bytes, up to 1 MiB)',
      validate: { params: bookIdParams },
      // Raw bytes in (not parsed); the declared type is checked against the bytes themselves.
      payload: { parse: false, output: 'data', allow: Object.keys(COVER_TYPES), maxBytes: MAX_COVER_BYTES },
      response: { status: { 200: coverEnvelope } },
      plugins: errors(400, 404, 413, 415, 503),
      handler: async (request, h) =>
        h.success(
          await (
            await booksFor(request)
          ).putCover(request.params.id as string, request.mime, request.payload as Buffer),
          { message: 'Cover saved' },
        ),
    },
  },
  {
    method: 'GET',
    path: `${BOOKS_PATH}/{id}/cover`,
    options: {
      tags: ['api', 'books'],
      description: 'Download the cover image, byte for byte as uploaded',
      validate: { params: bookIdParams },
      plugins: { ...errors(400, 404, 503), ...coverDownload },
      handler: async (request, h) => {
        const cover = await (await booksFor(request)).getCover(request.params.id as string);
        return h
          .response(cover.data)
          .type(cover.contentType)
          .etag(cover.etag)
          .header('cache-control', 'no-cache');
      },
    },
  },
  {
    method: 'DELETE',
    path: `${BOOKS_PATH}/{id}/cover`,
    options: {
      tags: ['api', 'books'],
      description: 'Remove the cover image',
      validate: { params: bookIdParams },
      response: { status: { 200: emptySuccessSchema } },
      plugins: errors(400, 404, 503),
      handler: async (request, h) => {
        await (await booksFor(request)).deleteCover(request.params.id as string);
        return h.success(null, { message: 'Cover deleted' });
      },
    },
  },
];
