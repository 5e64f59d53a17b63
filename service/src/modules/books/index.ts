// The books domain module: its manifest (listed in modules/index.ts) and its hapi plugin.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import type { DomainModule } from '../module.ts';
import { addBookRoutes } from './book.routes.ts';
import { bookServiceFor } from './book.service-for.ts';

const booksPlugin: Plugin<{ config: Config }> = {
  name: 'books',
  dependencies: ['database', 'errors', 'lambda-events'],
  register(server, { config }) {
    addBookRoutes(server);
    server.plugins['lambda-events'].registerMaintenanceTask('books.purgeDeleted', async (em) =>
      (await bookServiceFor(em)).purgeDeleted(config.deletedRetentionDays),
    );
  },
};

export const booksModule = {
  plugin: booksPlugin,
  openApiTag: { name: 'books', description: 'The example domain module' },
  entities: async () => {
    const [{ BookSchema }, { BookCoverSchema }] = await Promise.all([
      import('./book.entity.ts'),
      import('./book-cover.entity.ts'),
    ]);
    return [BookSchema, BookCoverSchema];
  },
  errorCodes: {
    BOOK_NOT_FOUND: {
      code: 9001,
      status: 404,
      message: 'The book was not found',
      when: 'No (live) book with this id',
    },
    BOOK_ISBN_TAKEN: {
      code: 9002,
      status: 409,
      message: 'A book with this ISBN already exists',
      when: 'Another live book has this ISBN',
    },
  },
} as const satisfies DomainModule;
