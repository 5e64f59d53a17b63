// A test-only route whose query outlasts every bound a test sets, so the bound's answer is what comes back.
import type { Server } from '@hapi/hapi';

export const SLOW_QUERY_PATH = '/test/slow';

/** GET /test/slow: `select pg_sleep(5)` through the database plugin, as a module's query runs. */
export function addSlowQueryRoute(server: Server): void {
  server.route({
    method: 'GET',
    path: SLOW_QUERY_PATH,
    handler: async (request) =>
      request.server.plugins.database.run(request, async (em) => {
        await em.getConnection().execute('select pg_sleep(5)');
        return 'unreachable';
      }),
  });
}
