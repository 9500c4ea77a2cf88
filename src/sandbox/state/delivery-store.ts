/** The notifications the sandbox sends (deliveries) and every attempt at each (notifier.ts). */
import type Database from 'better-sqlite3';
import { DueRows } from './due-rows.js';
import { insertRow } from './insert-row.js';

export type DeliveryKind = 'payment' | 'refund';
/** pending: more attempts to come; delivered: answered SUCCESS; failed: gave up; suppressed: never sent (fault). */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'suppressed';

export interface DeliveryRow {
  id: number;
  kind: DeliveryKind;
  out_trade_no: string;
  out_refund_no: string | null;
  url: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_at: number | null;
  created_at: number;
  delivered_at: number | null;
  /** v2: XML, judged by its reply's return_code; v3: JSON, signed at each attempt, 200/204. */
  format: DeliveryFormat;
}

export type DeliveryFormat = 'v2' | 'v3';

export type AttemptOutcome = 'success' | 'fail' | 'timeout' | 'error' | 'dropped';

export interface AttemptRow {
  delivery_id: number;
  attempt: number;
  copy: number;
  due_at: number;
  started_at: number;
  duration_ms: number;
  outcome: AttemptOutcome;
  http_status: number | null;
  reply: string | null;
  error: string | null;
}

export const DELIVERY_SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, out_trade_no TEXT NOT NULL,
  out_refund_no TEXT, url TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
  attempts INTEGER NOT NULL, next_at INTEGER, created_at INTEGER NOT NULL, delivered_at INTEGER,
  format TEXT NOT NULL DEFAULT 'v2');
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_at);
CREATE TABLE IF NOT EXISTS attempts (
  delivery_id INTEGER NOT NULL, attempt INTEGER NOT NULL, copy INTEGER NOT NULL,
  due_at INTEGER NOT NULL, started_at INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER, reply TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS attempts_by_delivery ON attempts (delivery_id, attempt, copy);
`;

export class DeliveryStore {
  /** Pending deliveries by when their next attempt is due. */
  readonly pending: DueRows<DeliveryRow>;

  constructor(private readonly db: Database.Database) {
    this.pending = new DueRows(db, 'deliveries', 'next_at', "status = 'pending'");
  }

  insert(row: Omit<DeliveryRow, 'id'>): number {
    return Number(insertRow(this.db, 'deliveries', row).lastInsertRowid);
  }

  get(id: number): DeliveryRow | undefined {
    return this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as
      | DeliveryRow
      | undefined;
  }

  update(
    id: number,
    set: Pick<DeliveryRow, 'status' | 'attempts' | 'next_at' | 'delivered_at'>,
  ): void {
    this.db
      .prepare(
        'UPDATE deliveries SET status = @status, attempts = @attempts, next_at = @next_at, delivered_at = @delivered_at WHERE id = @id',
      )
      .run({ ...set, id });
  }

  /** Moves the first attempt of never-tried pending deliveries to `at` (reorder hold). */
  holdUntried(at: number): void {
    this.db
      .prepare("UPDATE deliveries SET next_at = ? WHERE status = 'pending' AND attempts = 0")
      .run(at);
  }

  /**
   * Schedules at `at` the pending deliveries that have no next attempt: those a previous run
   * was sending when it stopped (an attempt in flight clears `next_at`).
   */
  resumeInterrupted(at: number): void {
    this.db
      .prepare("UPDATE deliveries SET next_at = ? WHERE status = 'pending' AND next_at IS NULL")
      .run(at);
  }

  all(): DeliveryRow[] {
    return this.db.prepare('SELECT * FROM deliveries ORDER BY id').all() as DeliveryRow[];
  }

  insertAttempt(row: AttemptRow): void {
    insertRow(this.db, 'attempts', row);
  }

  attempts(): AttemptRow[] {
    return this.db
      .prepare('SELECT * FROM attempts ORDER BY delivery_id, attempt, copy')
      .all() as AttemptRow[];
  }
}
