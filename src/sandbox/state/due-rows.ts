import type Database from 'better-sqlite3';

/**
 * The rows of a table that come due at a time kept in one of its columns (refunds settle at
 * `settle_at`, notifications are sent at `next_at`): what a DueTimer asks for.
 */
export class DueRows<Row> {
  constructor(
    private readonly db: Database.Database,
    private readonly table: string,
    /** The column holding when a row comes due (ms, sandbox time). */
    private readonly dueColumn: string,
    /** The SQL condition of a row still waiting. */
    private readonly waiting: string,
  ) {}

  /** When the next row comes due; undefined when none waits. */
  nextAt(): number | undefined {
    const row = this.db
      .prepare(`SELECT MIN(${this.dueColumn}) AS at FROM ${this.table} WHERE ${this.waiting}`)
      .get() as { at: number | null };
    return row.at ?? undefined;
  }

  /** The rows due by `at`, the earliest first (then in the order they were written). */
  dueBy(at: number): Row[] {
    return this.db
      .prepare(
        `SELECT * FROM ${this.table} WHERE ${this.waiting} AND ${this.dueColumn} <= ? ORDER BY ${this.dueColumn}, rowid`,
      )
      .all(at) as Row[];
  }
}
