// API shapes derived from MikroORM entities, so an entity stays the one declaration of its fields.

// Drops the symbol-keyed markers of MikroORM's inferred types.
export type EntityFields<T> = { [K in keyof T as K extends string ? K : never]: T[K] };

// Dates become ISO 8601 strings.
export type AsJson<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
