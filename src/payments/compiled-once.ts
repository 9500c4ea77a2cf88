/**
 * Hot queries compiled once. Kysely builds and compiles a query anew on every call, which costs
 * more CPU (20-60 µs) than SQLite takes to run most of the checkout's statements. A query made
 * with `compiledOnce` is built and compiled on its first use per dialect and shape, with a
 * marker in place of each value; later calls put their own values where the markers were.
 *
 * The values' shape (object keys in order, array lengths) is part of the cache key, so a
 * multi-row insert or an IN list of another length compiles anew. `build` must use the values
 * only as query values: never branch on them, never put them in names or in `is`/`is not`.
 */
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from './orders-repo.js';

type Path = readonly (string | number)[];

/** Stands for the value at `path` while the query is compiled. */
class Marker {
  constructor(readonly path: Path) {}
}

interface Compiled<O> {
  query: CompiledQuery<O>;
  /** Per parameter: the path of the value it takes, or null for a constant of the query. */
  paths: (Path | null)[];
}

export interface CompiledOnce<V, O> {
  /** Runs the query with `values` in `db` (a Kysely instance or a transaction). */
  execute(db: Db, values: V): Promise<QueryResult<O>>;
}

export function compiledOnce<V extends object, O>(
  build: (db: Db, values: V) => Compilable<O>,
): CompiledOnce<V, O> {
  // Per dialect (the executor's adapter, shared by a database and its transactions), per shape.
  const byDialect = new WeakMap<object, Map<string, Compiled<O>>>();
  return {
    execute(db, values) {
      const adapter = db.getExecutor().adapter;
      let shapes = byDialect.get(adapter);
      if (shapes === undefined) {
        shapes = new Map();
        byDialect.set(adapter, shapes);
      }
      const shape = shapeOf(values);
      let compiled = shapes.get(shape);
      if (compiled === undefined) {
        const query = build(db, markers(values, []) as V).compile();
        const paths = query.parameters.map((p) => (p instanceof Marker ? p.path : null));
        compiled = { query, paths };
        shapes.set(shape, compiled);
      }
      const { query, paths } = compiled;
      const parameters = paths.map((path, i) => (path ? at(values, path) : query.parameters[i]));
      return db.executeQuery({ ...query, parameters });
    },
  };
}

/** A key for what decides the SQL text: keys in order and array lengths, not the values. */
function shapeOf(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(shapeOf).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .map((k) => `${k}:${shapeOf(value[k])}`)
      .join(',')}}`;
  }
  return '';
}

function markers(value: unknown, path: Path): unknown {
  if (Array.isArray(value)) return value.map((v, i) => markers(v, [...path, i]));
  if (isRecord(value)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, markers(value[k], [...path, k])]));
  }
  return new Marker(path);
}

function at(value: unknown, path: Path): unknown {
  let v = value;
  for (const step of path) v = (v as Record<string | number, unknown>)[step];
  return v;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
  );
}
