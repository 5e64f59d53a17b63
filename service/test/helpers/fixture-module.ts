// A test-only domain module (a `notes` table and CRUD routes under /v1/fixture-notes): tests of what every
// module gets (envelope, input guard, protocol, auth) use it, so they do not depend on the books example.
import Boom from '@hapi/boom';
import type { Plugin, Server } from '@hapi/hapi';
import Joi from 'joi';
import type { Config } from '../../src/config.ts';
import type { DomainModule } from '../../src/modules/module.ts';

export const FIXTURE_PATH = '/v1/fixture-notes';

export interface FixtureNote {
  id: string;
  title: string;
  tag: string | null;
}

const payload = { title: Joi.string().max(200), tag: Joi.string().max(50).allow(null) };
const idParams = Joi.object({ id: Joi.string().guid({ version: 'uuidv4' }).required() });
const TABLE = `create table if not exists fixture_notes (
  id uuid primary key default gen_random_uuid(), title varchar(200) not null, tag varchar(50) null)`;

const fixturePlugin: Plugin<{ config: Config }> = {
  name: 'fixture-notes',
  dependencies: ['database', 'errors'],
  register(server) {
    let table: Promise<unknown> | undefined;
    const sql = <T>(
      request: Parameters<typeof server.plugins.database.run>[0],
      query: string,
      args: unknown[],
    ) =>
      server.plugins.database.run(request, async (em) => {
        const connection = em.getConnection();
        await (table ??= connection.execute(TABLE).catch((error: unknown) => {
          table = undefined;
          throw error;
        }));
        return connection.execute<T[]>(query, args);
      });
    const found = (rows: FixtureNote[]) => {
      if (rows[0] === undefined) throw Boom.notFound('The note was not found');
      return rows[0];
    };
    server.route([
      {
        method: 'POST',
        path: FIXTURE_PATH,
        options: {
          validate: { payload: Joi.object({ ...payload, title: payload.title.required() }) },
          handler: async (request, h) => {
            const { title, tag = null } = request.payload as { title: string; tag?: string | null };
            const rows = await sql<FixtureNote>(
              request,
              'insert into fixture_notes (title, tag) values (?, ?) returning id, title, tag',
              [title, tag],
            );
            return h.success(rows[0], { message: 'Note created', statusCode: 201 });
          },
        },
      },
      {
        method: 'GET',
        path: FIXTURE_PATH,
        options: {
          validate: {
            query: Joi.object({ tag: Joi.string().max(50), limit: Joi.number().integer().min(1) }),
          },
          handler: async (request, h) => {
            const { tag, limit = 20 } = request.query as { tag?: string; limit?: number };
            const rows = await sql<FixtureNote>(
              request,
              `select id, title, tag from fixture_notes ${tag === undefined ? '' : 'where tag = ?'} limit ?`,
              tag === undefined ? [limit] : [tag, limit],
            );
            return h.success({ items: rows });
          },
        },
      },
      {
        method: 'GET',
        path: `${FIXTURE_PATH}/{id}`,
        options: {
          validate: { params: idParams },
          handler: async (request, h) =>
            h.success(
              found(
                await sql<FixtureNote>(request, 'select id, title, tag from fixture_notes where id = ?', [
                  (request.params as { id: string }).id,
                ]),
              ),
            ),
        },
      },
      {
        method: 'PATCH',
        path: `${FIXTURE_PATH}/{id}`,
        options: {
          validate: { params: idParams, payload: Joi.object(payload).min(1) },
          handler: async (request, h) => {
            const { title, tag } = request.payload as { title?: string; tag?: string | null };
            const rows = await sql<FixtureNote>(
              request,
              'update fixture_notes set title = coalesce(?, title), tag = coalesce(?, tag) where id = ? returning id, title, tag',
              [title ?? null, tag ?? null, (request.params as { id: string }).id],
            );
            return h.success(found(rows), { message: 'Note updated' });
          },
        },
      },
      {
        method: 'DELETE',
        path: `${FIXTURE_PATH}/{id}`,
        options: {
          validate: { params: idParams },
          handler: async (request, h) => {
            const rows = await sql<FixtureNote>(
              request,
              'delete from fixture_notes where id = ? returning id, title, tag',
              [(request.params as { id: string }).id],
            );
            found(rows);
            return h.success(null, { message: 'Note deleted' });
          },
        },
      },
    ]);
  },
};

export const fixtureModule = {
  plugin: fixturePlugin,
  entities: () => Promise.resolve([]),
  errorCodes: {},
} as const satisfies DomainModule;

/** Registers the fixture module as server.ts registers the listed ones (after the test's server is built). */
export async function addFixtureModule(server: Server): Promise<void> {
  await server.register({ plugin: fixtureModule.plugin, options: { config: server.app.config } });
}
