/** `INSERT INTO table (a, b) VALUES (@a, @b)`: every column, bound by name from a row object. */
export function insertStatement(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`;
}
