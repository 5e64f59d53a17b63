// A test-only domain module built with the shared route helpers (notes with a binary attachment): tests of
// what every module gets (envelope, input guard, protocol, auth) use it, so they do not depend on books.
import { createHash } from 'node:crypto';
import Boom from '@hapi/boom';
import type { Plugin, RouteOptions, Server, ServerRoute } from '@hapi/hapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import Joi from 'joi';
import pg from 'pg';
import type { Config } from '../../src/config.ts';
import { emptySuccessSchema } from '../../src/lib/envelope.ts';
import {
  binaryDownload,
  binaryReply,
  errorResponses,
  serviceRunner,
  type BinaryFile,
} from '../../src/lib/routes.ts';
import type { DomainModule } from '../../src/modules/module.ts';

export const FIXTURE_PATH = '/v1/fixture-notes';
export const ATTACHMENT_TYPE = 'application/octet-stream';

interface FixtureNote {
  id: string;
  title: string;
  tag: string | null;
}

const TABLE = `create table if not exists fixture_notes (id uuid primary key default gen_random_uuid(),
  title varchar(200) not null, tag varchar(50) null, attachment bytea null)`;
const COLUMNS = 'id, title, tag';

class Notes {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async #rows<T = FixtureNote>(query: string, args: unknown[]): Promise<T[]> {
    return this.#em.getConnection().execute<T[]>(query, args);
  }

  async #one(query: string, args: unknown[]): Promise<FixtureNote> {
    const [row] = await this.#rows(query, args);
    if (row === undefined) throw Boom.notFound('The note was not found');
    return row;
  }

  create(title: string, tag: string | null) {
    return this.#one(`insert into fixture_notes (title, tag) values (?, ?) returning ${COLUMNS}`, [
      title,
      tag,
    ]);
  }

  list(tag: string | undefined, limit: number) {
    return tag === undefined
      ? this.#rows(`select ${COLUMNS} from fixture_notes limit ?`, [limit])
      : this.#rows(`select ${COLUMNS} from fixture_notes where tag = ? limit ?`, [tag, limit]);
  }

  get(id: string) {
    return this.#one(`select ${COLUMNS} from fixture_notes where id = ?`, [id]);
  }

  update(id: string, title: string | null, tag: string | null) {
    return this.#one(
      `update fixture_notes set title = coalesce(?, title), tag = coalesce(?, tag) where id = ? returning ${COLUMNS}`,
      [title, tag, id],
    );
  }

  remove(id: string) {
    return this.#one(`delete from fixture_notes where id = ? returning ${COLUMNS}`, [id]);
  }

  attach(id: string, data: Buffer) {
    return this.#one(`update fixture_notes set attachment = ? where id = ? returning ${COLUMNS}`, [data, id]);
  }

  async attachment(id: string): Promise<BinaryFile> {
    const [row] = await this.#rows<{ attachment: Buffer | null }>(
      'select attachment from fixture_notes where id = ?',
      [id],
    );
    if (row?.attachment == null) throw Boom.notFound('The note has no attachment');
    const etag = createHash('sha256').update(row.attachment).digest('hex');
    return { data: row.attachment, contentType: ATTACHMENT_TYPE, etag };
  }
}

const fields = { title: Joi.string().max(200), tag: Joi.string().max(50).allow(null) };
const idParams = Joi.object({ id: Joi.string().guid({ version: 'uuidv4' }).required() });
/** A role without CREATE on the schema (test/api/database-rotation.test.ts) finds it made by createFixtureTable. */
async function createTableIfMissing(em: EntityManager): Promise<void> {
  const connection = em.getConnection();
  const [found] = await connection.execute<{ name: string | null }[]>(
    "select to_regclass('fixture_notes')::text as name",
  );
  if (found?.name == null) await connection.execute(TABLE);
}

/** Makes the fixture's table as `url`'s user, for a server that connects as a role that cannot. */
export async function createFixtureTable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(TABLE);
  } finally {
    await client.end();
  }
}

/** The routes over one server's database: the table is created by the first request that needs it. */
function routes(): ServerRoute[] {
  let table: Promise<unknown> | undefined;
  const withNotes = serviceRunner(async (em) => {
    table ??= createTableIfMissing(em).catch((error: unknown) => {
      table = undefined;
      throw error;
    });
    await table;
    return new Notes(em);
  });
  return [
    {
      method: 'POST',
      path: FIXTURE_PATH,
      options: {
        validate: { payload: Joi.object({ ...fields, title: fields.title.required() }) },
        plugins: errorResponses(400, 413, 415, 503),
        handler: async (request, h) => {
          const { title, tag = null } = request.payload as { title: string; tag?: string | null };
          return h.success(await withNotes(request, (notes) => notes.create(title, tag)), {
            message: 'Note created',
            statusCode: 201,
          });
        },
      },
    },
    {
      method: 'GET',
      path: FIXTURE_PATH,
      options: {
        validate: {
          query: Joi.object({ tag: Joi.string().max(50), limit: Joi.number().integer().min(1).max(100) }),
        },
        handler: async (request, h) => {
          const { tag, limit = 20 } = request.query as { tag?: string; limit?: number };
          return h.success({ items: await withNotes(request, (notes) => notes.list(tag, limit)) });
        },
      },
    },
    {
      method: 'GET',
      path: `${FIXTURE_PATH}/{id}`,
      options: {
        validate: { params: idParams },
        handler: async (request, h) => {
          const { id } = request.params as { id: string };
          return h.success(await withNotes(request, (notes) => notes.get(id)));
        },
      },
    },
    {
      method: 'PATCH',
      path: `${FIXTURE_PATH}/{id}`,
      options: {
        validate: { params: idParams, payload: Joi.object(fields).min(1) },
        handler: async (request, h) => {
          const { title = null, tag = null } = request.payload as { title?: string; tag?: string | null };
          const { id } = request.params as { id: string };
          return h.success(await withNotes(request, (notes) => notes.update(id, title, tag)), {
            message: 'Note updated',
          });
        },
      },
    },
    {
      method: 'DELETE',
      path: `${FIXTURE_PATH}/{id}`,
      options: {
        validate: { params: idParams },
        response: { status: { 200: emptySuccessSchema } },
        handler: async (request, h) => {
          const { id } = request.params as { id: string };
          await withNotes(request, (notes) => notes.remove(id));
          return h.success(null, { message: 'Note deleted' });
        },
      },
    },
    {
      method: 'PUT',
      path: `${FIXTURE_PATH}/{id}/attachment`,
      options: {
        validate: { params: idParams },
        payload: { allow: ATTACHMENT_TYPE, maxBytes: 1024 * 1024, output: 'data', parse: false },
        handler: async (request, h) => {
          const { id } = request.params as { id: string };
          return h.success(await withNotes(request, (notes) => notes.attach(id, request.payload as Buffer)));
        },
      },
    },
    {
      method: 'GET',
      path: `${FIXTURE_PATH}/{id}/attachment`,
      options: {
        validate: { params: idParams },
        plugins: binaryDownload('The attachment', [ATTACHMENT_TYPE]),
        handler: async (request, h) => {
          const { id } = request.params as { id: string };
          return binaryReply(h, await withNotes(request, (notes) => notes.attachment(id)));
        },
      },
    },
  ];
}

const fixturePlugin: Plugin<{ config: Config; documented?: boolean }> = {
  name: 'fixture-notes',
  dependencies: ['database', 'errors'],
  register(server, { documented = false }) {
    // Documented, its routes are in /openapi.json as a listed module's are (tagged 'api').
    const tags = documented ? ['api', 'fixture-notes'] : [];
    server.route(
      routes().map((route) => ({ ...route, options: { ...(route.options as RouteOptions), tags } })),
    );
  },
};

const fixtureModule = {
  plugin: fixturePlugin,
  entities: () => Promise.resolve([]),
  errorCodes: {},
} as const satisfies DomainModule;

/** Registers the fixture module as server.ts registers the listed ones (after the test's server is built). */
export async function addFixtureModule(
  server: Server,
  { documented = false }: { documented?: boolean } = {},
): Promise<void> {
  await server.register({
    plugin: fixtureModule.plugin,
    options: { config: server.app.config, documented },
  });
}
