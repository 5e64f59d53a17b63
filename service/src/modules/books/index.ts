// The books domain module, registered as one hapi plugin.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import { bookRoutes } from './book.routes.ts';
import { BookRepository } from './book.repository.ts';
import { BookService } from './book.service.ts';

export const booksPlugin: Plugin<{ config: Config }> = {
  name: 'books',
  dependencies: ['database', 'errors', 'lambda-events'],
  register(server, { config }) {
    server.route(bookRoutes);
    server.plugins['lambda-events'].registerMaintenanceTask('books.purgeDeleted', (em) =>
      new BookService(new BookRepository(em)).purgeDeleted(config.deletedRetentionDays),
    );
  },
};
