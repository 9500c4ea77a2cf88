import type Database from 'better-sqlite3';

/**
 * Inserts `row` into `table`, a column per key. The keys come from the stores' own typed rows,
 * never from a request, so they are safe to put in the SQL.
 */
export function insertRow(db: Database.Database, table: string, row: object): Database.RunResult {
  const columns = Object.keys(row);
  const values = columns.map((c) => `@${c}`);
  return db
    .prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')})`)
    .run(row);
}
