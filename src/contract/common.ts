/** The building blocks every schema of the contract shares. */
import { type Static, type TSchema, Type } from 'typebox';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** One of a list of string constants (statuses.ts): a union of literals, typed as the list's. */
export const OneOf = <const V extends readonly string[]>(values: V) =>
  Type.Unsafe<V[number]>(Type.Union(values.map((v) => Type.Literal(v))));

/** An instant as the API writes it: ISO-8601 UTC (`2026-11-22T08:00:00.000Z`). */
export const DateTime = () => Type.String({ format: 'date-time' });

/**
 * `{ $ref: id }` in the JSON Schema, the schema's own type in TypeScript. For the schemas made
 * with a `$id`: the server registers each once (`app.addSchema`, index.ts COMPONENTS) and
 * OpenAPI lists it as a component.
 */
export function ref<T extends TSchema>(schema: T) {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== 'string') throw new TypeError('ref() needs a schema with a $id');
  return Type.Unsafe<Static<T>>(Type.Ref(id));
}

/** Free-form JSON the server chose the fields of (never secrets): typed as an object. */
export const FreeForm = (description: string) =>
  Type.Unsafe<Record<string, unknown>>(Type.Unknown({ description }));

/** Why something failed, in WeChat's or minipay's code and words. */
export const Failure = () => Type.Object({ code: Type.String(), message: Type.String() });

/** Every failure: `{ error: { code, message } }` (docs/http-api.md "Errors"). */
export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** The error answers a route documents beside its success. */
export const errorResponses = {
  400: ref(ErrorBody),
  401: ref(ErrorBody),
  403: ref(ErrorBody),
  404: ref(ErrorBody),
  409: ref(ErrorBody),
  413: ref(ErrorBody),
  415: ref(ErrorBody),
  422: ref(ErrorBody),
  500: ref(ErrorBody),
  502: ref(ErrorBody),
};

/** A resource id in a path (`/orders/:id`); the domain says whether it exists. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParams = Static<typeof IdParams>;

/** A page of a newest-first list: the items under `key` and the cursor of the next page. */
export const Page = <K extends string, T extends TSchema>(key: K, item: T) =>
  Type.Object({
    ...({ [key]: Type.Array(item) } as { [P in K]: ReturnType<typeof Type.Array<T>> }),
    nextCursor: Nullable(Type.String()),
  });

/** An optional text filter of a list query, bounded in size; the domain checks its value. */
export const filter = (maxLength: number, description: string) =>
  Type.Optional(Type.String({ maxLength, description }));

/** `?limit=&cursor=` of the admin console's lists: sizes bounded here, values checked by the domain. */
export const pageQuery = {
  limit: filter(10, 'page size, 1 to 100 (default 50)'),
  cursor: filter(300, 'nextCursor of the previous page'),
};

/** `?limit=&cursor=` checked here: a number of at most 3 digits, a cursor of at most 200 characters. */
export const checkedPageQuery = {
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};
