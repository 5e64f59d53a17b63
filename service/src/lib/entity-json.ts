// Types that derive an API shape from a MikroORM entity, so the entity stays the one declaration of
// its fields.

/** An entity's own fields, without the symbol-keyed markers MikroORM's inferred types carry. */
export type EntityFields<T> = { [K in keyof T as K extends string ? K : never]: T[K] };

/** Fields as JSON carries them: dates become ISO 8601 strings. */
export type AsJson<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
