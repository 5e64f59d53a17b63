// The books routes; each declares the types its validation produces (hapi's ReqRef).
import type { Server, ServerRoute } from '@hapi/hapi';
import { emptySuccessSchema } from '../../lib/envelope.ts';
import { binaryDownload, binaryReply, errorResponses as errors, serviceRunner } from '../../lib/routes.ts';
import { bookServiceFor } from './book.service-for.ts';
import type { BookIdParams, CreateBookInput, ListBooksInput, UpdateBookInput } from './book.dto.ts';
import {
  bookEnvelope,
  bookIdParams,
  bookPageEnvelope,
  coverEnvelope,
  createBookPayload,
  listBooksQuery,
  updateBookPayload,
} from './book.schemas.ts';
import { COVER_TYPES, MAX_COVER_BYTES } from './cover-image.ts';

const BOOKS_PATH = '/v1/books';

const withBooks = serviceRunner(bookServiceFor);

const createBook: ServerRoute<{ Payload: CreateBookInput }> = {
  method: 'POST',
  path: BOOKS_PATH,
  options: {
    tags: ['api', 'books'],
    description: 'Create a book',
    validate: { payload: createBookPayload },
    response: { status: { 201: bookEnvelope } },
    plugins: errors(400, 409, 413, 415, 503),
    handler: async (request, h) =>
      h.success(await withBooks(request, (books) => books.create(request.payload)), {
        message: 'Book created',
        statusCode: 201,
      }),
  },
};

const listBooks: ServerRoute<{ Query: ListBooksInput }> = {
  method: 'GET',
  path: BOOKS_PATH,
  options: {
    tags: ['api', 'books'],
    description: 'List books, paginated, optionally filtered by author',
    validate: { query: listBooksQuery },
    response: { status: { 200: bookPageEnvelope } },
    plugins: errors(400, 503),
    handler: async (request, h) => h.success(await withBooks(request, (books) => books.list(request.query))),
  },
};

const getBook: ServerRoute<{ Params: BookIdParams }> = {
  method: 'GET',
  path: `${BOOKS_PATH}/{id}`,
  options: {
    tags: ['api', 'books'],
    description: 'Get a book',
    validate: { params: bookIdParams },
    response: { status: { 200: bookEnvelope } },
    plugins: errors(400, 404, 503),
    handler: async (request, h) =>
      h.success(await withBooks(request, (books) => books.get(request.params.id))),
  },
};

const updateBook: ServerRoute<{ Params: BookIdParams; Payload: UpdateBookInput }> = {
  method: 'PATCH',
  path: `${BOOKS_PATH}/{id}`,
  options: {
    tags: ['api', 'books'],
    description: 'Update some fields of a book',
    validate: { params: bookIdParams, payload: updateBookPayload },
    response: { status: { 200: bookEnvelope } },
    plugins: errors(400, 404, 409, 413, 415, 503),
    handler: async (request, h) =>
      h.success(await withBooks(request, (books) => books.update(request.params.id, request.payload)), {
        message: 'Book updated',
      }),
  },
};

const deleteBook: ServerRoute<{ Params: BookIdParams }> = {
  method: 'DELETE',
  path: `${BOOKS_PATH}/{id}`,
  options: {
    tags: ['api', 'books'],
    description: 'Delete a book',
    validate: { params: bookIdParams },
    response: { status: { 200: emptySuccessSchema } },
    plugins: errors(400, 404, 503),
    handler: async (request, h) => {
      await withBooks(request, (books) => books.delete(request.params.id));
      return h.success(null, { message: 'Book deleted' });
    },
  },
};

const putCover: ServerRoute<{ Params: BookIdParams; Payload: Buffer }> = {
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
        await withBooks(request, (books) => books.putCover(request.params.id, request.mime, request.payload)),
        {
          message: 'Cover saved',
        },
      ),
  },
};

const getCover: ServerRoute<{ Params: BookIdParams }> = {
  method: 'GET',
  path: `${BOOKS_PATH}/{id}/cover`,
  options: {
    tags: ['api', 'books'],
    description: 'Download the cover image, byte for byte as uploaded',
    validate: { params: bookIdParams },
    plugins: {
      ...errors(400, 404, 503),
      ...binaryDownload('The cover image', Object.keys(COVER_TYPES)),
    },
    handler: async (request, h) => {
      return binaryReply(h, await withBooks(request, (books) => books.getCover(request.params.id)));
    },
  },
};

const deleteCover: ServerRoute<{ Params: BookIdParams }> = {
  method: 'DELETE',
  path: `${BOOKS_PATH}/{id}/cover`,
  options: {
    tags: ['api', 'books'],
    description: 'Remove the cover image',
    validate: { params: bookIdParams },
    response: { status: { 200: emptySuccessSchema } },
    plugins: errors(400, 404, 503),
    handler: async (request, h) => {
      await withBooks(request, (books) => books.deleteCover(request.params.id));
      return h.success(null, { message: 'Cover deleted' });
    },
  },
};

// One by one: hapi's route type is invariant in its ReqRef, so the routes share no array type.
export function addBookRoutes(server: Server): void {
  server.route(createBook);
  server.route(listBooks);
  server.route(getBook);
  server.route(updateBook);
  server.route(deleteBook);
  server.route(putCover);
  server.route(getCover);
  server.route(deleteCover);
}
