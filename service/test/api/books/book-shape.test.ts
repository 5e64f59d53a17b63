// The Book shape is declared once, by the entity: the response schema requires exactly its fields but the
// soft-delete marker. tsc holds the types together (book.dto.ts); this checks them at run time.
import t from 'tap';
import { BookSchema } from '../../../src/modules/books/book.entity.ts';
import { book } from '../../../src/modules/books/book.schemas.ts';

const publicFields = Object.keys(BookSchema.meta.properties).filter((name) => name !== 'deletedAt');

t.test('the book response schema requires the entity fields, deletedAt aside', async (t) => {
  const missing = book.validate({}, { abortEarly: false }).error?.details.map((detail) => detail.path[0]);
  t.same(missing?.sort(), [...publicFields].sort());
  const unknown = book.validate({ deletedAt: null }, { abortEarly: false }).error?.details ?? [];
  t.ok(
    unknown.some((detail) => detail.type === 'object.unknown' && detail.path[0] === 'deletedAt'),
    'the soft-delete marker is not part of the response',
  );
});

t.test('nullable entity fields are nullable in the response, and only those', async (t) => {
  for (const [name, property] of Object.entries(BookSchema.meta.properties)) {
    if (name === 'deletedAt') continue;
    const acceptsNull = book.extract(name).validate(null).error === undefined;
    t.equal(acceptsNull, property.nullable === true, name);
  }
});
