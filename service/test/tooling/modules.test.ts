// The module list (src/modules/index.ts) is the one place a domain module is registered: a module folder
// missing from it, an entity file, route tag or response header its manifest has but the app lacks fails here.
import { readdirSync } from 'node:fs';
import type { RequestRoute, RouteDefMethods } from '@hapi/hapi';
import { EntitySchema } from '@mikro-orm/core';
import t from 'tap';
import { errorRegistry } from '../../src/errors/error-codes.ts';
import { DOMAIN_MODULES, domainModules } from '../../src/modules/index.ts';
import type { DomainModule } from '../../src/modules/module.ts';
import { completeOpenApiDocument, type OpenApiDocument } from '../../src/plugins/openapi-completion.ts';
import { addFixtureModule } from '../helpers/fixture-module.ts';
import { buildServer } from '../helpers/server.ts';

const modulesDir = new URL('../../src/modules/', import.meta.url);
const folders = readdirSync(modulesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

t.test('every module folder is in the list once, its plugin named as the folder', async (t) => {
  t.same(DOMAIN_MODULES.map((module) => module.plugin.name).sort(), [...folders].sort());
});

t.test('each module loads every entity its folder defines, and only those', async (t) => {
  for (const module of DOMAIN_MODULES) {
    const folder = new URL(`${module.plugin.name}/`, modulesDir);
    const files = readdirSync(folder).filter((file) => file.endsWith('.entity.ts'));
    const exported = await Promise.all(
      files.map(async (file) => (await import(new URL(file, folder).href)) as Record<string, unknown>),
    );
    const defined = exported
      .flatMap((namespace) => Object.values(namespace))
      .filter((value) => value instanceof EntitySchema)
      .map((schema) => schema.meta.className);
    const loaded = (await module.entities()).map((schema) => schema.meta.className);
    t.same([...loaded].sort(), [...defined].sort(), module.plugin.name);
  }
});

t.test("the registry holds each module's codes, with no name or number twice", async (t) => {
  const registry = errorRegistry();
  for (const module of DOMAIN_MODULES) {
    for (const [name, definition] of Object.entries(module.errorCodes)) {
      t.same(registry.get(name as never), definition, name);
    }
  }
});

t.test('every tag a route carries is declared in the OpenAPI document', async (t) => {
  const { server } = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
  const document = (await server.inject('/openapi.json')).result as { tags: { name: string }[] };
  const declared = document.tags.map((tag) => tag.name);
  const used = new Set(server.table().flatMap((route) => route.settings.tags ?? []));
  used.delete('api');
  t.ok(used.size > 0);
  for (const tag of used) t.ok(declared.includes(tag), `${tag} is declared`);
});

t.test("the document has each manifest's response headers on the answers it names", async (t) => {
  const { server } = await buildServer(t, { DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused' });
  // A documented module of its own, so the check has keyed routes whichever example modules are listed.
  await addFixtureModule(server, { documented: true });
  const served = (await server.inject('/openapi.json')).result as OpenApiDocument;
  const integer = { description: 'A probe', schema: { type: 'integer' } };
  const probe: DomainModule = {
    plugin: { name: 'probe', register: () => undefined },
    entities: async () => [],
    errorCodes: {},
    cors: { exposeHeaders: ['X-Probe'] },
    responseHeaders: {
      authenticated: { 'X-Probe': integer },
      refusals: { 403: { 'X-Probe-Refused': integer } },
    },
  };
  const keyed = (route: RequestRoute) => (route.settings.auth as unknown) !== false;
  const route = (method: string, path: string) => server.match(method.toUpperCase() as RouteDefMethods, path);
  const withProbe = completeOpenApiDocument(served, {
    route,
    keyed,
    security: [],
    modules: [...domainModules, probe],
  });

  for (const [document, modules] of [
    [served, domainModules],
    [withProbe, [...domainModules, probe]],
  ] as const) {
    const operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).flatMap(([method, operation]) => {
        const found = route(method, path);
        return found !== null && keyed(found) ? [{ name: `${method} ${path}`, operation }] : [];
      }),
    );
    t.ok(operations.length > 0);
    for (const module of modules) {
      const { authenticated = {}, refusals = {} } = module.responseHeaders ?? {};
      const components = (document.components.headers ?? {}) as Record<string, unknown>;
      const missing = (module.cors?.exposeHeaders ?? [])
        .filter((name) => components[name] === undefined)
        .map((name) => `${name} (CORS)`);
      for (const { name, operation } of operations) {
        const expected: [string, string][] = [
          ...Object.keys(operation.responses).flatMap((status) =>
            Object.keys(authenticated).map((header): [string, string] => [status, header]),
          ),
          ...Object.entries(refusals).flatMap(([status, declared]) =>
            Object.keys(declared).map((header): [string, string] => [status, header]),
          ),
        ];
        for (const [status, header] of expected) {
          const headers = (operation.responses[status]?.headers ?? {}) as Record<string, unknown>;
          if (headers[header] === undefined) missing.push(`${header} on ${name} ${status}`);
        }
      }
      const { name: moduleName } = module.plugin as { name: string };
      t.same(missing, [], `${moduleName}: every header its manifest declares is documented`);
    }
  }
});
