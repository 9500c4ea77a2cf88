/** Where a repository function runs: the database, or the caller's transaction. */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';

export type Db = Kysely<Database> | Transaction<Database>;

/** Runs `work` in the caller's transaction when `db` is one, else in a new transaction. */
export function inTransaction<T>(
  db: Db,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
}
