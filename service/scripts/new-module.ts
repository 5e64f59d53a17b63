// `npm run new:module -- <name> [--singular <word>] [--relation <module>]`
// What to edit next: docs/development.md#add-a-module
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as prettier from 'prettier';

const SERVICE_DIR = path.resolve(import.meta.dirname, '..');
const MODULES_DIR = path.join(SERVICE_DIR, 'src/modules');
const TESTS_DIR = path.join(SERVICE_DIR, 'test/api');

const RESERVED = new Set(
  [
    'api',
    'docs',
    'documentation',
    'events',
    'health',
    'index',
    'lib',
    'module',
    'modules',
    'openapi',
    'swagger',
    'v1',
    'break case catch class const continue debugger default delete do else enum export extends false finally',
    'for function if import in instanceof new null return super switch this throw true try typeof var void',
    'while with yield let static implements interface package private protected public await',
    ...readdirSync(path.join(SERVICE_DIR, 'src/plugins')).map((file) => file.replace(/\.ts$/, '')),
    ...readdirSync(path.join(SERVICE_DIR, 'src')).map((file) => file.replace(/\.ts$/, '')),
  ].flatMap((words) => words.split(' ')),
);

const USAGE =
  'usage: npm run new:module -- <name> [--singular <word>] [--relation <module>]   (name: plural, lower-case kebab-case)';

function fail(message: string): never {
  console.error(`new:module: ${message}\n${USAGE}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { singular: { type: 'string' }, relation: { type: 'string' } },
});
if (positionals.length !== 1) fail('give exactly one module name, e.g. `npm run new:module -- authors`');
const name = positionals[0] ?? '';
const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
if (!KEBAB.test(name) || name.length > 40) {
  fail(
    `"${name}" is not a module name: lower-case letters and digits, words joined by "-", at most 40 characters`,
  );
}
if (RESERVED.has(name)) fail(`"${name}" is reserved (the service already uses it, or JavaScript does)`);
if (existsSync(path.join(MODULES_DIR, name))) fail(`a module "${name}" already exists in src/modules/`);

const singular = values.singular ?? singularOf(name);
if (!KEBAB.test(singular)) fail(`--singular "${singular}" must be lower-case kebab-case too`);
if (singular === name) fail(`"${name}" reads as singular: name the module in the plural, or pass --singular`);

const words = name.split('-');
const singularWords = singular.split('-');
const pascal = singularWords.map(upperFirst).join('');
const camelPlural = camel(words);
const pluralPascal = upperFirst(camelPlural);
const table = words.join('_');
const phrase = singularWords.join(' ');
const pluralPhrase = words.join(' ');

const taken = existingEntities();
if (taken.names.has(pascal))
  fail(`an entity named ${pascal} already exists: choose another name or --singular`);
if (taken.tables.has(table)) fail(`a table named ${table} already exists: choose another name`);

// Many-to-many, owned here.
interface Relation {
  module: string;
  entity: string;
  file: string;
  property: string;
  idParam: string;
  phrase: string;
  pluralPhrase: string;
  softDelete: boolean;
}
const relation = values.relation === undefined ? undefined : relationTo(values.relation);

function relationTo(target: string): Relation {
  const folder = path.join(MODULES_DIR, target);
  if (!KEBAB.test(target) || !existsSync(folder))
    fail(`--relation ${target}: no module of that name in src/modules/`);
  const routes = readdirSync(folder)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(path.join(folder, file), 'utf8'));
  if (!routes.some((source) => source.includes(`'/v1/${target}'`) && source.includes("method: 'POST'")))
    fail(`--relation ${target}: the module has no POST /v1/${target}, through which the test makes one`);
  const targetTable = target.split('-').join('_');
  for (const file of readdirSync(folder).filter((entry) => entry.endsWith('.entity.ts'))) {
    const source = readFileSync(path.join(folder, file), 'utf8');
    const entity = /export const (\w+)Schema = defineEntity\(\{\s*name: '(\w+)',\s*tableName: '(\w+)'/.exec(
      source,
    );
    if (!entity || entity[3] !== targetTable) continue;
    if (entity[1] !== entity[2])
      fail(`--relation ${target}: ${file} exports ${entity[1]}Schema for entity ${entity[2]}`);
    if (!/\bid: p\s*\.uuid\(\)/.test(source)) fail(`--relation ${target}: ${entity[2]}'s id is not a UUID`);
    const targetSingular = file.replace(/\.entity\.ts$/, '').split('-');
    return {
      module: target,
      entity: entity[2] ?? '',
      file,
      property: camel(target.split('-')),
      idParam: `${camel(targetSingular)}Id`,
      phrase: targetSingular.join(' '),
      pluralPhrase: target.split('-').join(' '),
      softDelete: /\bdeletedAt: p\./.test(source),
    };
  }
  fail(`--relation ${target}: no entity file in src/modules/${target}/ maps the table ${targetTable}`);
}

function singularOf(plural: string): string {
  if (plural.endsWith('ies')) return `${plural.slice(0, -3)}y`;
  if (/(?:ss|us|is)$/.test(plural)) return plural;
  if (/(?:xes|ches|shes|sses)$/.test(plural)) return plural.slice(0, -2);
  return plural.endsWith('s') ? plural.slice(0, -1) : plural;
}

function existingEntities(): { names: Set<string>; tables: Set<string> } {
  const names = new Set<string>();
  const tables = new Set<string>();
  for (const folder of readdirSync(MODULES_DIR, { withFileTypes: true })) {
    if (!folder.isDirectory()) continue;
    for (const file of readdirSync(path.join(MODULES_DIR, folder.name))) {
      if (!file.endsWith('.entity.ts')) continue;
      const source = readFileSync(path.join(MODULES_DIR, folder.name, file), 'utf8');
      for (const match of source.matchAll(/\bname: '(\w+)'/g)) names.add(match[1] ?? '');
      for (const match of source.matchAll(/\btableName: '(\w+)'/g)) tables.add(match[1] ?? '');
    }
  }
  return { names, tables };
}

const variable = camel(singularWords);
const related = relation && {
  ...relation,
  schema: `${relation.entity}Schema`,
  pascalPlural: upperFirst(relation.property),
  pivot: `${table}_${relation.module.split('-').join('_')}`,
  live: relation.softDelete ? ', deletedAt: null' : '',
};
const rel = related
  ? {
      entityImport: `import { ${related.schema} } from '../${related.module}/${related.file}';\n`,
      entityProperty: `    // Owned here, in a join table of its own: the ${related.module} module is unchanged.\n    ${related.property}: p.manyToMany(${related.schema}).owner().pivotTable('${related.pivot}'),\n`,
      fields: `Omit<EntityFields<${pascal}>, '${related.property}'>`,
      dtoTypes: `
export interface ${pascal}${related.entity}Params {
  id: string;
  ${related.idParam}: string;
}

export interface ${pascal}${related.pascalPlural} {
  ${related.idParam}s: string[];
}

export function to${pascal}${related.pascalPlural}(${variable}: ${pascal}): ${pascal}${related.pascalPlural} {
  const ${related.property} = ${variable}.${related.property}.getItems()${related.softDelete ? `.filter((item) => item.deletedAt === null)` : ''};
  return { ${related.idParam}s: ${related.property}.map((item) => item.id).sort() };
}
`,
      repositoryImport: `import { ${related.schema}, type ${related.entity} } from '../${related.module}/${related.file}';\n`,
      repositoryMethods: `
  /** With all its ${related.pluralPhrase} loaded, so adding a linked one again changes nothing. */
  findWith${related.pascalPlural}(id: string): Promise<${pascal} | null> {
    return this.em.findOne(${pascal}Schema, { id }, { populate: ['${related.property}'] });
  }

  find${related.entity}(id: string): Promise<${related.entity} | null> {
    return this.em.findOne(${related.schema}, { id${related.live} });
  }

  async flush(): Promise<void> {
    await this.em.flush();
  }
`,
      serviceImports: `  to${pascal}${related.pascalPlural},\n  type ${pascal}${related.pascalPlural},\n`,
      serviceMethods: `
  async ${related.property}Of(id: string): Promise<${pascal}${related.pascalPlural}> {
    return to${pascal}${related.pascalPlural}(await this.with${related.pascalPlural}(id));
  }

  async link${related.entity}(id: string, ${related.idParam}: string): Promise<${pascal}${related.pascalPlural}> {
    const ${variable} = await this.with${related.pascalPlural}(id);
    const linked = await this.${camelPlural}.find${related.entity}(${related.idParam});
    if (!linked) throw new DomainError('NOT_FOUND', \`No ${related.phrase} with id \${${related.idParam}}\`);
    ${variable}.${related.property}.add(linked);
    await this.${camelPlural}.flush();
    return to${pascal}${related.pascalPlural}(${variable});
  }

  async unlink${related.entity}(id: string, ${related.idParam}: string): Promise<${pascal}${related.pascalPlural}> {
    const ${variable} = await this.with${related.pascalPlural}(id);
    const linked = ${variable}.${related.property}.getItems().find((item) => item.id === ${related.idParam});
    if (linked) {
      ${variable}.${related.property}.remove(linked);
      await this.${camelPlural}.flush();
    }
    return to${pascal}${related.pascalPlural}(${variable});
  }

  private async with${related.pascalPlural}(id: string) {
    const found = await this.${camelPlural}.findWith${related.pascalPlural}(id);
    if (!found) throw new DomainError('NOT_FOUND', \`No ${phrase} with id \${id}\`);
    return found;
  }
`,
      schemaImports: `  ${pascal}${related.entity}Params,\n  ${pascal}${related.pascalPlural},\n`,
      schemas: `
export const ${variable}${related.entity}Params = Joi.object<${pascal}${related.entity}Params, true>({
  id: Joi.string()
    .guid({ version: ['uuidv4', 'uuidv7'] })
    .required()
    .description('${pascal} id')
    .example('0192d7a5-3c1e-7b4a-9f00-3a6c2e8b1d45'),
  ${related.idParam}: Joi.string()
    .guid({ version: ['uuidv4', 'uuidv7'] })
    .required()
    .description('${related.entity} id')
    .example('0192d7a5-3c1e-7b4a-9f00-3a6c2e8b1d46'),
}).label('${pascal}${related.entity}Params');

const ${variable}${related.pascalPlural} = Joi.object<${pascal}${related.pascalPlural}, true>({
  ${related.idParam}s: Joi.array().items(Joi.string()).required(),
}).label('${pascal}${related.pascalPlural}');

export const ${variable}${related.pascalPlural}Envelope = successSchema(${variable}${related.pascalPlural}, '${pascal}${related.pascalPlural}Envelope');
`,
      routeTypeImports: `${pascal}${related.entity}Params, `,
      routeSchemaImports: `  ${variable}${related.entity}Params,\n  ${variable}${related.pascalPlural}Envelope,\n`,
      routes: `
const list${pascal}${related.pascalPlural}: ServerRoute<{ Params: ${pascal}IdParams }> = {
  method: 'GET',
  path: \`\${PATH}/{id}/${related.module}\`,
  options: {
    tags: ['api', '${name}'],
    description: 'The ids of the ${related.pluralPhrase} linked to a ${phrase}',
    validate: { params: ${variable}IdParams },
    response: { status: { 200: ${variable}${related.pascalPlural}Envelope } },
    plugins: errors(400, 404, 503),
    handler: async (request, h) =>
      h.success(await with${pluralPascal}(request, (service) => service.${related.property}Of(request.params.id))),
  },
};

const link${pascal}${related.entity}: ServerRoute<{ Params: ${pascal}${related.entity}Params }> = {
  method: 'PUT',
  path: \`\${PATH}/{id}/${related.module}/{${related.idParam}}\`,
  options: {
    tags: ['api', '${name}'],
    description: 'Link a ${related.phrase} to a ${phrase} (linking it again changes nothing)',
    validate: { params: ${variable}${related.entity}Params },
    response: { status: { 200: ${variable}${related.pascalPlural}Envelope } },
    plugins: errors(400, 404, 409, 503),
    handler: async (request, h) =>
      h.success(
        await with${pluralPascal}(request, (service) =>
          service.link${related.entity}(request.params.id, request.params.${related.idParam}),
        ),
        { message: '${upperFirst(related.phrase)} linked' },
      ),
  },
};

const unlink${pascal}${related.entity}: ServerRoute<{ Params: ${pascal}${related.entity}Params }> = {
  method: 'DELETE',
  path: \`\${PATH}/{id}/${related.module}/{${related.idParam}}\`,
  options: {
    tags: ['api', '${name}'],
    description: 'Unlink a ${related.phrase} from a ${phrase}',
    validate: { params: ${variable}${related.entity}Params },
    response: { status: { 200: ${variable}${related.pascalPlural}Envelope } },
    plugins: errors(400, 404, 503),
    handler: async (request, h) =>
      h.success(
        await with${pluralPascal}(request, (service) =>
          service.unlink${related.entity}(request.params.id, request.params.${related.idParam}),
        ),
        { message: '${upperFirst(related.phrase)} unlinked' },
      ),
  },
};
`,
      register: `  server.route(list${pascal}${related.pascalPlural});\n  server.route(link${pascal}${related.entity});\n  server.route(unlink${pascal}${related.entity});\n`,
      dependency: `, '${related.module}'`,
    }
  : {
      entityImport: '',
      entityProperty: '',
      fields: `EntityFields<${pascal}>`,
      dtoTypes: '',
      repositoryImport: '',
      repositoryMethods: '',
      serviceImports: '',
      serviceMethods: '',
      schemaImports: '',
      schemas: '',
      routeTypeImports: '',
      routeSchemaImports: '',
      routes: '',
      register: '',
      dependency: '',
    };

const moduleFiles: Record<string, string> = {
  [`${singular}.entity.ts`]: `// The ${pascal} entity: a plain schema (no decorators, no reflect-metadata), like the books example's.
import { randomUUID } from 'node:crypto';
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
${rel.entityImport}
export const ${pascal}Schema = defineEntity({
  name: '${pascal}',
  tableName: '${table}',
  properties: {
    id: p.uuid().primary().onCreate(() => randomUUID()),
    name: p.string().length(200),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
${rel.entityProperty}  },
});

export type ${pascal} = InferEntity<typeof ${pascal}Schema>;
`,
  [`${singular}.dto.ts`]: `// What the API takes and answers about ${pluralPhrase}, derived from the entity: a field added there shows up
// here, and tsc then asks for it in the response schema and in to${pascal}Dto.
import type { AsJson, EntityFields } from '../../lib/entity-json.ts';
import type { ${pascal} } from './${singular}.entity.ts';

export type ${pascal}Fields = ${rel.fields};
export type ${pascal}Dto = AsJson<${pascal}Fields>;
export type Create${pascal}Input = Pick<${pascal}Fields, 'name'>;

export interface ${pascal}IdParams {
  id: string;
}

export interface List${pluralPascal}Input {
  limit: number;
  offset: number;
}

export interface ${pascal}Page {
  items: ${pascal}Dto[];
  total: number;
  limit: number;
  offset: number;
}

export function to${pascal}Dto(${camel(singularWords)}: ${pascal}): ${pascal}Dto {
  return {
    id: ${camel(singularWords)}.id,
    name: ${camel(singularWords)}.name,
    createdAt: ${camel(singularWords)}.createdAt.toISOString(),
    updatedAt: ${camel(singularWords)}.updatedAt.toISOString(),
  };
}
${rel.dtoTypes}`,
  [`${singular}.repository.ts`]: `// Data access for ${pluralPhrase}: the only place that builds queries.
import type { EntityManager } from '@mikro-orm/postgresql';
${rel.repositoryImport}import { ${pascal}Schema, type ${pascal} } from './${singular}.entity.ts';
import type { Create${pascal}Input, List${pluralPascal}Input } from './${singular}.dto.ts';

export class ${pascal}Repository {
  private readonly em: EntityManager;

  constructor(em: EntityManager) {
    this.em = em;
  }

  findById(id: string): Promise<${pascal} | null> {
    return this.em.findOne(${pascal}Schema, { id });
  }

  /** The page, then the total, one after the other: findAndCount would take a second pooled connection. */
  async list({ limit, offset }: List${pluralPascal}Input): Promise<[${pascal}[], number]> {
    const items = await this.em.find(
      ${pascal}Schema,
      {},
      { limit, offset, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] },
    );
    return [items, await this.em.count(${pascal}Schema, {})];
  }

  async create(input: Create${pascal}Input): Promise<${pascal}> {
    const created = this.em.create(${pascal}Schema, input);
    await this.em.flush();
    return created;
  }
${rel.repositoryMethods}}
`,
  [`${singular}.service.ts`]: `// ${pascal} use cases. Speaks in domain errors; knows nothing about HTTP.
import { DomainError } from '../../errors/domain-error.ts';
import type { ${pascal}Repository } from './${singular}.repository.ts';
import {
${rel.serviceImports}  to${pascal}Dto,
  type ${pascal}Dto,
  type ${pascal}Page,
  type Create${pascal}Input,
  type List${pluralPascal}Input,
} from './${singular}.dto.ts';

export class ${pascal}Service {
  private readonly ${camelPlural}: ${pascal}Repository;

  constructor(${camelPlural}: ${pascal}Repository) {
    this.${camelPlural} = ${camelPlural};
  }

  async get(id: string): Promise<${pascal}Dto> {
    const found = await this.${camelPlural}.findById(id);
    if (!found) throw new DomainError('NOT_FOUND', \`No ${phrase} with id \${id}\`);
    return to${pascal}Dto(found);
  }

  async list(input: List${pluralPascal}Input): Promise<${pascal}Page> {
    const [items, total] = await this.${camelPlural}.list(input);
    return { items: items.map(to${pascal}Dto), total, limit: input.limit, offset: input.offset };
  }

  async create(input: Create${pascal}Input): Promise<${pascal}Dto> {
    return to${pascal}Dto(await this.${camelPlural}.create(input));
  }
${rel.serviceMethods}}
`,
  [`${singular}.service-for.ts`]: `// The lazy ${pascal}Service factory: the repository pulls in the ORM, which start-up never needs.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ${pascal}Service } from './${singular}.service.ts';

export async function ${camel(singularWords)}ServiceFor(em: EntityManager): Promise<${pascal}Service> {
  const [{ ${pascal}Repository }, { ${pascal}Service }] = await Promise.all([
    import('./${singular}.repository.ts'),
    import('./${singular}.service.ts'),
  ]);
  return new ${pascal}Service(new ${pascal}Repository(em));
}
`,
  [`${singular}.schemas.ts`]: `// Request and response schemas of the ${pluralPhrase} API, each typed against its shape in ${singular}.dto.ts
// (Joi.object<T, true>: every field, of the right kind), so a schema cannot drift from the entity.
import Joi from 'joi';
import { successSchema } from '../../lib/envelope.ts';
import type {
${rel.schemaImports}  ${pascal}Fields,
  ${pascal}IdParams,
  ${pascal}Page,
  Create${pascal}Input,
  List${pluralPascal}Input,
} from './${singular}.dto.ts';

export const ${camel(singularWords)}IdParams = Joi.object<${pascal}IdParams, true>({
  id: Joi.string()
    .guid({ version: ['uuidv4', 'uuidv7'] })
    .required()
    .description('${pascal} id')
    .example('0192d7a5-3c1e-7b4a-9f00-3a6c2e8b1d45'),
}).label('${pascal}IdParams');

export const create${pascal}Payload = Joi.object<Create${pascal}Input, true>({
  name: Joi.string().trim().min(1).max(200).required().example('An example ${phrase}'),
}).label('Create${pascal}');

export const list${pluralPascal}Query = Joi.object<List${pluralPascal}Input, true>({
  limit: Joi.number().integer().min(1).max(100).default(20).example(20),
  offset: Joi.number().integer().min(0).max(10_000).default(0).example(0),
}).label('List${pluralPascal}Query');

const ${camel(singularWords)} = Joi.object<${pascal}Fields, true>({
  id: Joi.string().required(),
  name: Joi.string().required(),
  createdAt: Joi.date().iso().required(),
  updatedAt: Joi.date().iso().required(),
}).label('${pascal}');

const ${camel(singularWords)}Page = Joi.object<${pascal}Page, true>({
  items: Joi.array().items(${camel(singularWords)}).required(),
  total: Joi.number().integer().min(0).required(),
  limit: Joi.number().integer().required(),
  offset: Joi.number().integer().required(),
}).label('${pascal}Page');

export const ${camel(singularWords)}Envelope = successSchema(${camel(singularWords)}, '${pascal}Envelope');
export const ${camel(singularWords)}PageEnvelope = successSchema(${camel(singularWords)}Page, '${pascal}PageEnvelope');
${rel.schemas}`,
  [`${singular}.routes.ts`]: `// The ${pluralPhrase} HTTP API as data: validation and response schemas from ${singular}.schemas.ts; handlers
// parse, call the service, reply.
import type { Server, ServerRoute } from '@hapi/hapi';
import { errorResponses as errors, serviceRunner } from '../../lib/routes.ts';
import { ${camel(singularWords)}ServiceFor } from './${singular}.service-for.ts';
import type { ${rel.routeTypeImports}${pascal}IdParams, Create${pascal}Input, List${pluralPascal}Input } from './${singular}.dto.ts';
import {
${rel.routeSchemaImports}  ${camel(singularWords)}Envelope,
  ${camel(singularWords)}IdParams,
  ${camel(singularWords)}PageEnvelope,
  create${pascal}Payload,
  list${pluralPascal}Query,
} from './${singular}.schemas.ts';

const PATH = '/v1/${name}';
const with${pluralPascal} = serviceRunner(${camel(singularWords)}ServiceFor);

const create${pascal}: ServerRoute<{ Payload: Create${pascal}Input }> = {
  method: 'POST',
  path: PATH,
  options: {
    tags: ['api', '${name}'],
    description: 'Create a ${phrase}',
    validate: { payload: create${pascal}Payload },
    response: { status: { 201: ${camel(singularWords)}Envelope } },
    plugins: errors(400, 413, 415, 503),
    handler: async (request, h) =>
      h.success(await with${pluralPascal}(request, (service) => service.create(request.payload)), {
        message: '${upperFirst(phrase)} created',
        statusCode: 201,
      }),
  },
};

const list${pluralPascal}: ServerRoute<{ Query: List${pluralPascal}Input }> = {
  method: 'GET',
  path: PATH,
  options: {
    tags: ['api', '${name}'],
    description: 'List ${pluralPhrase}, newest first, paginated',
    validate: { query: list${pluralPascal}Query },
    response: { status: { 200: ${camel(singularWords)}PageEnvelope } },
    plugins: errors(400, 503),
    handler: async (request, h) =>
      h.success(await with${pluralPascal}(request, (service) => service.list(request.query))),
  },
};

const get${pascal}: ServerRoute<{ Params: ${pascal}IdParams }> = {
  method: 'GET',
  path: \`\${PATH}/{id}\`,
  options: {
    tags: ['api', '${name}'],
    description: 'Get a ${phrase}',
    validate: { params: ${camel(singularWords)}IdParams },
    response: { status: { 200: ${camel(singularWords)}Envelope } },
    plugins: errors(400, 404, 503),
    handler: async (request, h) =>
      h.success(await with${pluralPascal}(request, (service) => service.get(request.params.id))),
  },
};

${rel.routes}
/** One by one: hapi's route type is invariant in its ReqRef, so these routes have no common array type. */
export function add${pascal}Routes(server: Server): void {
  server.route(create${pascal});
  server.route(list${pluralPascal});
  server.route(get${pascal});
${rel.register}}
`,
  'index.ts': `// The ${pluralPhrase} domain module: its manifest (listed in modules/index.ts) and its hapi plugin.
import type { Plugin } from '@hapi/hapi';
import type { Config } from '../../config.ts';
import type { DomainModule } from '../module.ts';
import { add${pascal}Routes } from './${singular}.routes.ts';

const ${camelPlural}Plugin: Plugin<{ config: Config }> = {
  name: '${name}',
  dependencies: ['database', 'errors'${rel.dependency}],
  register(server) {
    add${pascal}Routes(server);
  },
};

export const ${camelPlural}Module = {
  plugin: ${camelPlural}Plugin,
  openApiTag: { name: '${name}', description: '${upperFirst(pluralPhrase)}' },
  entities: async () => {
    const { ${pascal}Schema } = await import('./${singular}.entity.ts');
    return [${pascal}Schema];
  },
  // Its codes go here, then \`npm run docs:errors\`; the generic NOT_FOUND serves until then.
  errorCodes: {},
} as const satisfies DomainModule;
`,
};

const relationTest = related
  ? `
interface OpenApiDocument {
  paths: Record<string, { post?: { requestBody?: { content: Record<string, { example?: unknown }> } } }>;
}

t.test('${pluralPhrase} link ${related.pluralPhrase}, list the ids of the live ones and unlink them', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url });
  const ${variable} = await app.json<Envelope<${pascal}Dto>>({ method: 'POST', url: '/v1/${name}', payload: { name: 'Linked' } });
  const url = \`/v1/${name}/\${${variable}.body.data.id}/${related.module}\`;
  // A ${related.phrase} made through its own API, with the body the OpenAPI document gives as its example.
  const document = (await app.json<OpenApiDocument>('/openapi.json')).body;
  const example = document.paths['/v1/${related.module}']?.post?.requestBody?.content['application/json']?.example;
  const created = await app.json<Envelope<{ id: string }>>({ method: 'POST', url: '/v1/${related.module}', payload: example as object });
  t.equal(created.status, 201, 'POST /v1/${related.module} with its example');
  const ${related.idParam} = created.body.data.id;

  const linked = await app.json<Envelope<${pascal}${related.pascalPlural}>>({ method: 'PUT', url: \`\${url}/\${${related.idParam}}\` });
  t.match(linked, { status: 200, body: { message: '${upperFirst(related.phrase)} linked', data: { ${related.idParam}s: [${related.idParam}] } } });
  const again = await app.json<Envelope<${pascal}${related.pascalPlural}>>({ method: 'PUT', url: \`\${url}/\${${related.idParam}}\` });
  t.same(again.body.data, { ${related.idParam}s: [${related.idParam}] }, 'linking again changes nothing');
  t.same((await app.json<Envelope<${pascal}${related.pascalPlural}>>(url)).body.data, { ${related.idParam}s: [${related.idParam}] });

  const unknown = '0192d7a5-3c1e-7b4a-9f00-3a6c2e8b1d45';
  t.match(await app.json({ method: 'PUT', url: \`\${url}/\${unknown}\` }), { status: 404, body: { code: 4041 } });
  t.match(await app.json(\`/v1/${name}/\${unknown}/${related.module}\`), { status: 404, body: { code: 4041 } });
  t.match(await app.json({ method: 'PUT', url: \`\${url}/not-an-id\` }), { status: 400 });

  const unlinked = await app.json<Envelope<${pascal}${related.pascalPlural}>>({ method: 'DELETE', url: \`\${url}/\${${related.idParam}}\` });
  t.match(unlinked, { status: 200, body: { data: { ${related.idParam}s: [] } } });${
    related.softDelete
      ? `

  // A deleted ${related.phrase} is no longer listed.
  await app.json({ method: 'PUT', url: \`\${url}/\${${related.idParam}}\` });
  t.equal((await app.json({ method: 'DELETE', url: \`/v1/${related.module}/\${${related.idParam}}\` })).status, 200);
  t.same((await app.json<Envelope<${pascal}${related.pascalPlural}>>(url)).body.data, { ${related.idParam}s: [] });`
      : ''
  }
});
`
  : '';

const testFile = `// The ${pluralPhrase} API against a real PostgreSQL: create, read and list${related ? `, links to ${related.pluralPhrase}` : ''}, and the answers to bad input.
import t from 'tap';
import type { ${related ? `${pascal}${related.pascalPlural}, ` : ''}${pascal}Dto, ${pascal}Page } from '../../src/modules/${name}/${singular}.dto.ts';
import { startTestDatabase } from '../helpers/database.ts';
import { buildServer, type Envelope } from '../helpers/server.ts';

const db = await startTestDatabase(t);

t.test('a created ${phrase} can be read and is listed', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url });
  const created = await app.json<Envelope<${pascal}Dto>>({
    method: 'POST',
    url: '/v1/${name}',
    payload: { name: '  An example ${phrase} ' },
  });
  t.equal(created.status, 201);
  t.match(created.body, { success: true, message: '${upperFirst(phrase)} created', data: { name: 'An example ${phrase}' } });

  const read = await app.json<Envelope<${pascal}Dto>>(\`/v1/${name}/\${created.body.data.id}\`);
  t.equal(read.status, 200);
  t.same(read.body.data, created.body.data);

  const page = await app.json<Envelope<${pascal}Page>>('/v1/${name}?limit=1');
  t.equal(page.status, 200);
  t.match(page.body.data, { total: 1, limit: 1, offset: 0 });
  t.same(page.body.data.items, [created.body.data]);
});

t.test('an unknown id is a 404; a malformed id or an empty name a 400', async (t) => {
  const app = await buildServer(t, { DATABASE_URL: db.url });
  const missing = await app.json('/v1/${name}/0192d7a5-3c1e-7b4a-9f00-3a6c2e8b1d45');
  t.match(missing, { status: 404, body: { success: false, code: 4041 } });
  t.match(await app.json('/v1/${name}/not-an-id'), { status: 400, body: { success: false } });
  const empty = await app.json({ method: 'POST', url: '/v1/${name}', payload: { name: ' ' } });
  t.match(empty, { status: 400, body: { success: false } });
});
${relationTest}`;

function camel(parts: string[]): string {
  return parts.map((word, i) => (i === 0 ? word : upperFirst(word))).join('');
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function format(file: string, source: string): Promise<string> {
  const options = await prettier.resolveConfig(file);
  return prettier.format(source, { ...options, filepath: file });
}

async function write(file: string, source: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, source, { flag: 'wx' });
  console.log(`wrote ${path.relative(SERVICE_DIR, file)}`);
}

function listedModules(source: string): string {
  const list = /export const DOMAIN_MODULES = \[([^\]]*)\]/.exec(source);
  if (!list) fail('src/modules/index.ts has no `export const DOMAIN_MODULES = [...]` to add the module to');
  const imports = [...source.matchAll(/^import .*;$/gm)];
  const lastImport = imports.at(-1);
  const importLine = `import { ${camelPlural}Module } from './${name}/index.ts';`;
  const withImport =
    lastImport?.index === undefined
      ? `${importLine}\n${source}`
      : `${source.slice(0, lastImport.index + lastImport[0].length)}\n${importLine}${source.slice(lastImport.index + lastImport[0].length)}`;
  const entries = (list[1] ?? '').trim().replace(/,$/, '');
  return withImport.replace(list[0], `export const DOMAIN_MODULES = [${entries}, ${camelPlural}Module]`);
}

const testPath = path.join(TESTS_DIR, `${name}.test.ts`);
if (existsSync(testPath)) fail(`${path.relative(SERVICE_DIR, testPath)} already exists`);

const folder = path.join(MODULES_DIR, name);
for (const [file, source] of Object.entries(moduleFiles)) {
  const target = path.join(folder, file);
  await write(target, await format(target, source));
}
const listPath = path.join(MODULES_DIR, 'index.ts');
await writeFile(listPath, await format(listPath, listedModules(readFileSync(listPath, 'utf8'))));
console.log(`listed ${camelPlural}Module in src/modules/index.ts`);

// The project's generator, so the schema snapshot moves too.
const migration = spawnSync(
  process.execPath,
  [path.join(SERVICE_DIR, 'scripts/create-migration.ts'), '--name', table],
  { cwd: SERVICE_DIR, stdio: 'inherit' },
);
if (migration.status !== 0) {
  fail(
    `the module is written, its migration is not: fix the above, then \`npm run db:migration:create -- --name ${table}\``,
  );
}

await write(testPath, await format(testPath, testFile));
console.log(
  `\nNext: edit the entity's fields (then \`npm run db:migration:create -- --name ${table}_fields\`), run ` +
    `\`cd service && npx tap --disable-coverage test/api/${name}.test.ts\`, and see docs/development.md.`,
);
