// Typed against book.dto.ts (Joi.object<T, true>), so no schema can drift from the entity.
import Joi from 'joi';
import { successSchema } from '../../lib/envelope.ts';
import type {
  BookFields,
  BookIdParams,
  BookPage,
  CoverFields,
  CreateBookInput,
  ListBooksInput,
  UpdateBookInput,
} from './book.dto.ts';
import { isValidIsbn, normalizeIsbn, toIsbn13 } from './isbn.ts';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
// Deep offsets are slow on any database: narrow the filter instead.
const MAX_OFFSET = 10_000;
const SORT_FIELDS = ['title', 'author', 'publishedYear', 'createdAt'] as const;
const SORT_VALUES = SORT_FIELDS.flatMap((field) => [field, `-${field}`]);

// Stored as ISBN-13, so both forms of one book are one value and one unique key.
const isbn = Joi.string()
  .trim()
  .max(20)
  .custom((value: string, helpers) => {
    const normalized = normalizeIsbn(value);
    return isValidIsbn(normalized) ? toIsbn13(normalized) : helpers.error('any.invalid');
  })
  .messages({ 'any.invalid': '{{#label}} must be a valid ISBN-10 or ISBN-13' })
  .description('ISBN-10 or ISBN-13, hyphens and spaces allowed; stored and answered as ISBN-13')
  // Not the README's ISBN: trying the example must not collide with it.
  .example('9780262011532');

const title = Joi.string().trim().min(1).max(200);
const author = Joi.string().trim().min(1).max(200);
// Read per request: the V8 snapshot evaluates modules at build time, and a process can outlive New Year.
const publishedYear = Joi.number()
  .integer()
  .min(0)
  .custom((year: number, helpers) => {
    const limit = new Date().getUTCFullYear() + 1;
    return year <= limit ? year : helpers.error('number.max', { limit });
  })
  .description('At most next year (UTC).');

const bookIdParamsSchema = Joi.object<BookIdParams, true>({
  id: Joi.string()
    .guid({ version: ['uuidv4', 'uuidv7'] })
    .required()
    .description('Book id')
    .example('0192d7a5-3c1e-7b4a-9f00-3a6c2e8b1d45'),
}).label('BookIdParams');

/** A dashed lower- or upper-case UUID v4 or v7: a strict subset of what the schema's guid() accepts. */
const CANONICAL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * That schema, except that a canonical id skips joi (its cost per request: docs/performance.md); any
 * other value, valid or not, goes through joi for the same answer and errors.
 */
export const bookIdParams: Joi.ObjectSchema<BookIdParams> = Object.create(bookIdParamsSchema, {
  validateAsync: {
    value: async (params: { id?: unknown }, options?: Joi.AsyncValidationOptions): Promise<unknown> =>
      Object.keys(params).length === 1 && typeof params.id === 'string' && CANONICAL_ID.test(params.id)
        ? { id: params.id }
        : bookIdParamsSchema.validateAsync(params, options),
  },
}) as Joi.ObjectSchema<BookIdParams>;

export const createBookPayload = Joi.object<CreateBookInput, true>({
  title: title.required().example('Structure and Interpretation of Computer Programs'),
  author: author.required().example('Harold Abelson'),
  isbn: isbn.required(),
  publishedYear: publishedYear.allow(null).example(1996),
}).label('CreateBook');

export const updateBookPayload = Joi.object<UpdateBookInput, true>({
  title: title.example('Structure and Interpretation of Computer Programs, 2nd edition'),
  author,
  isbn,
  publishedYear: publishedYear.allow(null).example(1996),
})
  .min(1)
  .label('UpdateBook');

export const listBooksQuery = Joi.object<ListBooksInput, true>({
  limit: Joi.number().integer().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).example(20),
  offset: Joi.number().integer().min(0).max(MAX_OFFSET).default(0).example(0),
  author: author.description('Case-insensitive substring of the author').example('Abelson'),
  sort: Joi.string()
    .valid(...SORT_VALUES)
    .default('-createdAt')
    .description('Field to sort by; prefix with - for descending')
    .example('-createdAt'),
}).label('ListBooksQuery');

export const book = Joi.object<BookFields, true>({
  id: Joi.string().required(),
  title: Joi.string().required(),
  author: Joi.string().required(),
  isbn: Joi.string().required(),
  publishedYear: Joi.number().integer().allow(null).required(),
  createdAt: Joi.date().iso().required(),
  updatedAt: Joi.date().iso().required(),
}).label('Book');

const bookPage = Joi.object<BookPage, true>({
  items: Joi.array().items(book).required(),
  total: Joi.number().integer().min(0).required(),
  limit: Joi.number().integer().required(),
  offset: Joi.number().integer().required(),
}).label('BookPage');

export const bookEnvelope = successSchema(book, 'BookEnvelope');
export const bookPageEnvelope = successSchema(bookPage, 'BookPageEnvelope');

const coverInfo = Joi.object<CoverFields, true>({
  contentType: Joi.string().required(),
  size: Joi.number().integer().required(),
  etag: Joi.string().required(),
  updatedAt: Joi.date().iso().required(),
}).label('Cover');
export const coverEnvelope = successSchema(coverInfo, 'CoverEnvelope');
