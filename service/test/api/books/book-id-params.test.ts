// The id parameter's fast path answers exactly as its joi schema does: same value, same errors.
import fc from 'fast-check';
import type Joi from 'joi';
import t from 'tap';
import { bookIdParams } from '../../../src/modules/books/book.schemas.ts';

const joiSchema = Object.getPrototypeOf(bookIdParams) as Joi.ObjectSchema;
const options = { abortEarly: false } as const;

async function outcome(schema: Joi.ObjectSchema, params: object): Promise<unknown> {
  try {
    return { value: (await schema.validateAsync(params, options)) as unknown };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

const ids = fc.oneof(
  fc.uuid({ version: [1, 4, 7, 8] }),
  fc.uuid({ version: [4, 7] }).map((id) => id.toUpperCase()),
  fc.uuid({ version: [4, 7] }).map((id) => `{${id}}`),
  fc.uuid({ version: [4, 7] }).map((id) => id.replaceAll('-', '')),
  fc.string(),
);

void t.test('the fast path and joi agree', async (t) => {
  t.ok(joiSchema !== bookIdParams && 'describe' in joiSchema, 'the joi schema behind it');
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        ids.map((id) => ({ id })),
        fc.record({ id: ids, extra: fc.string() }),
        fc.constant({}),
        fc.record({ id: fc.oneof(fc.integer(), fc.constant(null)) }),
      ),
      async (params) => {
        t.same(await outcome(bookIdParams, params), await outcome(joiSchema, params));
      },
    ),
    { numRuns: 500 },
  );
});
