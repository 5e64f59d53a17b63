// What a module folder exports; modules/index.ts lists it, the only place a module registers.
import type { Plugin } from '@hapi/hapi';
import type { EntitySchema } from '@mikro-orm/core';
import type { Config } from '../config.ts';
import type { ErrorCodeDefinition } from '../errors/error-codes.ts';

export interface DomainModule {
  // Registered after the cross-cutting plugins, in list order.
  readonly plugin: Plugin<{ config: Config }>;
  readonly openApiTag?: { readonly name: string; readonly description: string };
  // Loaded with the ORM: the startup snapshot keeps MikroORM off the start path.
  readonly entities: () => Promise<readonly EntitySchema[]>;
  readonly errorCodes: Readonly<Record<string, ErrorCodeDefinition>>;
  readonly cors?: { readonly allowHeaders?: readonly string[]; readonly exposeHeaders?: readonly string[] };
  readonly responseHeaders?: {
    // On every answer of a route without `auth: false`.
    readonly authenticated?: HeaderObjects;
    // By refusal status, e.g. a 401's WWW-Authenticate.
    readonly refusals?: Readonly<Record<number, HeaderObjects>>;
  };
}

export type HeaderObjects = Readonly<
  Record<string, { readonly description: string; readonly required?: boolean; readonly schema: object }>
>;
