/**
 * A Kysely query built and compiled once per database dialect, then run with new values.
 * Kysely creates and freezes an operation tree for every call, and building and compiling the
 * queries cost a payment notify more than SQLite's own work on two of them (BENCHMARKS.md,
 * "Notify throughput"), so the statements of the notify's usual path are compiled once here.
 * The SQL is exactly what Kysely compiles; only the parameter values change, so what runs is
 * the same statement with different bindings. Only repository files (*-repo.ts) use it
 * (.dependency-cruiser.cjs).
 *
 *   const byNo = preparedQuery<{ no: string }, OrderRow>((db, p) =>
 *     db.selectFrom('orders').selectAll().where('out_trade_no', '=', p('no')));
 *   const rows = await byNo(trx, { no: 'A1' });
 *
 * Limits, checked when the query is compiled: a parameter is one value (no lists), and every
 * named parameter must appear in the compiled query. Query-transforming plugins run only on the
 * first compile, so do not use this on a Kysely instance whose plugins rewrite queries.
 */
import type { Compilable, CompiledQuery, DialectAdapter, Kysely } from 'kysely';
import type { Database } from './schema.js';

type Db = Pick<Kysely<Database>, 'executeQuery' | 'getExecutor'>;

/** Stands for a parameter while the query is built; never reaches the database. */
class Placeholder {
  constructor(readonly name: string) {}
}

interface Compiled {
  query: CompiledQuery;
  /** For each of the compiled query's parameters: the name it takes its value from, or none. */
  names: (string | undefined)[];
}

export type PreparedQuery<P, O> = (db: Db, params: P) => Promise<O[]>;

export function preparedQuery<P extends Record<string, unknown>, O>(
  build: (db: Kysely<Database>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable,
): PreparedQuery<P, O> {
  // One compiled form per dialect adapter: a transaction shares its database's adapter.
  const compiled = new WeakMap<DialectAdapter, Compiled>();
  return async (db, params) => {
    const adapter = db.getExecutor().adapter;
    let entry = compiled.get(adapter);
    if (entry === undefined) {
      entry = compile(db as Kysely<Database>, build, Object.keys(params));
      compiled.set(adapter, entry);
    }
    const { query, names } = entry;
    const parameters = query.parameters.map((value, i) => {
      const name = names[i];
      return name === undefined ? value : params[name];
    });
    const result = await db.executeQuery<O>({ ...query, parameters });
    return result.rows;
  };
}

function compile<P>(
  db: Kysely<Database>,
  build: (db: Kysely<Database>, param: <K extends keyof P & string>(name: K) => P[K]) => Compilable,
  expected: string[],
): Compiled {
  const query = build(db, (name) => new Placeholder(name) as never).compile();
  const names = query.parameters.map((value) =>
    value instanceof Placeholder ? value.name : undefined,
  );
  for (const name of expected) {
    if (!names.includes(name)) {
      throw new Error(`prepared query: parameter ${name} is not in the compiled SQL`);
    }
  }
  return { query, names };
}
