// What a domain module's folder exports. modules/index.ts lists them; the server, the docs plugin, the
// ORM configuration and the error registry read that list, so a new module registers nowhere else.
import type { Plugin } from '@hapi/hapi';
import type { EntitySchema } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import type { ErrorCodeDefinition } from '../errors/error-codes.ts';

export interface DomainModule {
  /** Registered after the cross-cutting plugins, in the list's order: adds routes and Lambda events. */
  readonly plugin: Plugin<{ config: Config }>;
  /** The OpenAPI tag its routes carry; a module without routes has none. */
  readonly openApiTag?: { readonly name: string; readonly description: string };
  /** Loaded with the ORM, never at start-up: the startup snapshot keeps MikroORM off the start path. */
  readonly entities: () => Promise<readonly EntitySchema[]>;
  /** Its codes in the error registry (each listed in docs/api.md's error table). */
  readonly errorCodes: Readonly<Record<string, ErrorCodeDefinition>>;
  /** Request headers browsers may send, and response headers they may read (CORS). */
  readonly cors?: { readonly allowHeaders?: readonly string[]; readonly exposeHeaders?: readonly string[] };
  /** Response headers it adds, as the OpenAPI document describes them. */
  readonly responseHeaders?: {
    /** On every answer of a route that needs credentials (any without `auth: false`). */
    readonly authenticated?: HeaderObjects;
    /** On the answers, by status, that refuse such a route (a 401's WWW-Authenticate). */
    readonly refusals?: Readonly<Record<number, HeaderObjects>>;
  };
}

/** OpenAPI Header Objects by header name. */
export type HeaderObjects = Readonly<
  Record<string, { readonly description: string; readonly required?: boolean; readonly schema: object }>
>;
