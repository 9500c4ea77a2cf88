/**
 * Units of work that each need a transaction of their own, committed together when they arrive
 * together ("group commit"). On SQLite every transaction runs alone on the one connection, and
 * its COMMIT (the write-ahead log's writes, now and then a checkpoint) was the largest single cost
 * of a payment notify (BENCHMARKS.md, "Notify throughput"); units that queue up behind a
 * running one share the next COMMIT instead. Each unit runs in a SAVEPOINT of its own: one that
 * throws is rolled back alone and its caller gets the error; the others are unaffected. A unit's
 * promise settles only after the COMMIT that makes it durable (or fails with that COMMIT's error),
 * so nobody answers for a change that is not yet on disk.
 *
 * A unit must only use the database: it holds up every unit batched after it.
 */
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export type UnitOfWork<T> = (trx: Transaction<Database>) => Promise<T>;

/** Runs a unit of work in a transaction and resolves after its commit. */
export type Transactor = <T>(work: UnitOfWork<T>) => Promise<T>;

/** One transaction per unit (PostgreSQL: the pool runs units side by side). */
export function transactionPerUnit(db: Kysely<Database>): Transactor {
  return (work) => db.transaction().execute(work);
}

interface Queued {
  work: UnitOfWork<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const SAVEPOINT = CompiledQuery.raw('savepoint unit_of_work');
const RELEASE = CompiledQuery.raw('release savepoint unit_of_work');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint unit_of_work');

/**
 * A batch starts on the next turn of the event loop (`setImmediate`), after the I/O callbacks of
 * this turn: SQLite statements never wait for I/O, so without that pause a unit would finish
 * before the next request is even read, and nothing would ever be grouped. Units queued while a
 * batch runs make up the next batch (at most `maxBatch`). A lone unit runs as a plain
 * transaction, without a savepoint.
 */
export function groupCommit(db: Kysely<Database>, maxBatch = 64): Transactor {
  const queue: Queued[] = [];
  let scheduled = false;

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) await runBatch(queue.splice(0, maxBatch));
    } finally {
      scheduled = false;
    }
  }

  async function runBatch(batch: Queued[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await db.transaction().execute(async (trx) => {
        if (batch.length === 1) return [{ ok: true, value: await batch[0]!.work(trx) }];
        const done: Outcome[] = [];
        for (const unit of batch) done.push(await inSavepoint(trx, unit.work));
        return done;
      });
    } catch (error) {
      // The COMMIT failed (or the lone unit threw): nothing of this batch was kept.
      for (const unit of batch) unit.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const unit = batch[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }

  return <T>(work: UnitOfWork<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void drain());
      }
    });
}

async function inSavepoint(
  trx: Transaction<Database>,
  work: UnitOfWork<unknown>,
): Promise<Outcome> {
  await trx.executeQuery(SAVEPOINT);
  try {
    const value = await work(trx);
    await trx.executeQuery(RELEASE);
    return { ok: true, value };
  } catch (error) {
    // If even this fails the transaction is unusable: the throw fails the whole batch.
    await trx.executeQuery(ROLLBACK_TO);
    await trx.executeQuery(RELEASE);
    return { ok: false, error };
  }
}
