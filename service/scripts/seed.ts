// `npm run db:seed`: example books; idempotent, the unique ISBN index skips repeats.
import { DomainError } from '../src/errors/domain-error.ts';
import type { CreateBookInput } from '../src/modules/books/book.dto.ts';
import { bookServiceFor } from '../src/modules/books/book.service-for.ts';
import { withDevelopmentDatabase } from '../tools/dev-database.ts';
import { withOrm } from '../tools/with-orm.ts';

const BOOKS: readonly CreateBookInput[] = [
  { title: 'The Pragmatic Programmer', author: 'David Thomas', isbn: '9780135957059', publishedYear: 2019 },
  {
    title: 'Designing Data-Intensive Applications',
    author: 'Martin Kleppmann',
    isbn: '9781449373320',
    publishedYear: 2017,
  },
  { title: 'Refactoring', author: 'Martin Fowler', isbn: '9780134757599', publishedYear: 2018 },
];

await withDevelopmentDatabase((url, embedded) =>
  // Only the throwaway development database is migrated implicitly; a real one is migrated on deploy.
  withOrm({ ...process.env, DATABASE_URL: url }, { migrate: embedded !== undefined }, async ({ orm }) => {
    let added = 0;
    for (const book of BOOKS) {
      // A fresh context per book: a refused insert must not linger in the next one's unit of work.
      const books = await bookServiceFor(orm.em.fork());
      try {
        await books.create(book);
        added += 1;
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'BOOK_ISBN_TAKEN')) throw error;
      }
    }
    console.log(`Seeded ${added} example books (${BOOKS.length - added} already there).`);
  }),
);
