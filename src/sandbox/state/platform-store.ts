/**
 * What the sandbox's mini program platform (api.weixin.qq.com, platform/) remembers: the
 * access_tokens it issued, the shipping info of each paid trade, the user's subscriptions to
 * message templates and the messages sent, `getPhoneNumber` codes, and the pushes sent to
 * the merchant's event URL.
 */
import type Database from 'better-sqlite3';
import { insertRow } from './insert-row.js';

export interface AccessTokenRow {
  token: string;
  issued_at: number;
  expires_at: number;
  revoked_at: number | null;
  forced: number;
}

/** One paid trade's shipping, as WeChat's order shipping service sees it. */
export interface ShipmentRow {
  transaction_id: string;
  logistics_type: number;
  delivery_mode: number;
  /** JSON of the parcels as uploaded (shipping_list entries plus their upload time). */
  parcels: string;
  upload_time: string;
  /** The canonical JSON of the last upload's info, to tell an unchanged upload (10060023). */
  last_info: string;
  finished: number;
  /** 0 before the shipment completes, 1 after, 2 after the one correction. */
  finish_count: number;
  shipped_at: number | null;
  reminded_at: number | null;
  confirmed_at: number | null;
  /** WeChat's documented values: 1 automatic, 2 by the user. */
  confirm_method: number | null;
  settled_at: number | null;
}

export interface SubscribeMessageRow {
  id: number;
  openid: string;
  template_id: string;
  body: string;
  sent_at: number;
  errcode: number;
}

export interface PhoneCodeRow {
  code: string;
  openid: string;
  phone: string;
  created_at: number;
  used_at: number | null;
}

export type PushStatus = 'delivered' | 'failed' | 'unconfigured';

export interface PushRow {
  id: number;
  event: string;
  transaction_id: string | null;
  /** The message before encryption. */
  message: string;
  url: string | null;
  status: PushStatus | 'pending';
  attempts: number;
  http_status: number | null;
  reply: string | null;
  error: string | null;
  created_at: number;
}

export const PLATFORM_SCHEMA = `
CREATE TABLE IF NOT EXISTS access_tokens (
  token TEXT PRIMARY KEY, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  revoked_at INTEGER, forced INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shipments (
  transaction_id TEXT PRIMARY KEY, logistics_type INTEGER NOT NULL,
  delivery_mode INTEGER NOT NULL, parcels TEXT NOT NULL, upload_time TEXT NOT NULL,
  last_info TEXT NOT NULL, finished INTEGER NOT NULL, finish_count INTEGER NOT NULL,
  shipped_at INTEGER, reminded_at INTEGER, confirmed_at INTEGER, confirm_method INTEGER,
  settled_at INTEGER);
CREATE TABLE IF NOT EXISTS subscriptions (
  openid TEXT NOT NULL, template_id TEXT NOT NULL, remaining INTEGER NOT NULL,
  PRIMARY KEY (openid, template_id));
CREATE TABLE IF NOT EXISTS subscribe_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, openid TEXT NOT NULL, template_id TEXT NOT NULL,
  body TEXT NOT NULL, sent_at INTEGER NOT NULL, errcode INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS phone_codes (
  code TEXT PRIMARY KEY, openid TEXT NOT NULL, phone TEXT NOT NULL,
  created_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS pushes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL, transaction_id TEXT,
  message TEXT NOT NULL, url TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL,
  http_status INTEGER, reply TEXT, error TEXT, created_at INTEGER NOT NULL);
`;

export class PlatformStore {
  constructor(private readonly db: Database.Database) {}

  insertToken(row: AccessTokenRow): void {
    insertRow(this.db, 'access_tokens', row);
  }

  token(token: string): AccessTokenRow | undefined {
    return this.db.prepare('SELECT * FROM access_tokens WHERE token = ?').get(token) as
      | AccessTokenRow
      | undefined;
  }

  /** The newest token still valid and not revoked at `now`. */
  currentToken(now: number): AccessTokenRow | undefined {
    return this.db
      .prepare(
        'SELECT * FROM access_tokens WHERE revoked_at IS NULL AND expires_at > ? ORDER BY issued_at DESC, rowid DESC LIMIT 1',
      )
      .get(now) as AccessTokenRow | undefined;
  }

  revokeTokens(now: number): number {
    return this.db
      .prepare(
        'UPDATE access_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND expires_at > ?',
      )
      .run(now, now).changes;
  }

  /** Tokens issued since `since` (all, and forced ones). */
  tokenCounts(since: number): { issued: number; forced: number; lastForcedAt: number | null } {
    return this.db
      .prepare(
        `SELECT COUNT(*) AS issued, COALESCE(SUM(forced), 0) AS forced,
           (SELECT MAX(issued_at) FROM access_tokens WHERE forced = 1) AS lastForcedAt
         FROM access_tokens WHERE issued_at >= ?`,
      )
      .get(since) as { issued: number; forced: number; lastForcedAt: number | null };
  }

  shipment(transactionId: string): ShipmentRow | undefined {
    return this.db.prepare('SELECT * FROM shipments WHERE transaction_id = ?').get(transactionId) as
      | ShipmentRow
      | undefined;
  }

  saveShipment(row: ShipmentRow): void {
    const columns = Object.keys(row).filter((c) => c !== 'transaction_id');
    this.db
      .prepare(
        `INSERT INTO shipments (transaction_id, ${columns.join(', ')})
         VALUES (@transaction_id, ${columns.map((c) => `@${c}`).join(', ')})
         ON CONFLICT (transaction_id) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      )
      .run(row);
  }

  subscribe(openid: string, templateId: string, times: number): number {
    this.db
      .prepare(
        `INSERT INTO subscriptions (openid, template_id, remaining) VALUES (?, ?, ?)
         ON CONFLICT (openid, template_id) DO UPDATE SET remaining = remaining + excluded.remaining`,
      )
      .run(openid, templateId, times);
    return this.subscriptions(openid, templateId);
  }

  subscriptions(openid: string, templateId: string): number {
    const row = this.db
      .prepare('SELECT remaining FROM subscriptions WHERE openid = ? AND template_id = ?')
      .get(openid, templateId) as { remaining: number } | undefined;
    return row?.remaining ?? 0;
  }

  /** Spends one subscription; false when there is none left. */
  spendSubscription(openid: string, templateId: string): boolean {
    return (
      this.db
        .prepare(
          'UPDATE subscriptions SET remaining = remaining - 1 WHERE openid = ? AND template_id = ? AND remaining > 0',
        )
        .run(openid, templateId).changes === 1
    );
  }

  recordMessage(row: Omit<SubscribeMessageRow, 'id'>): void {
    insertRow(this.db, 'subscribe_messages', row);
  }

  messages(openid?: string): SubscribeMessageRow[] {
    return (
      openid
        ? this.db
            .prepare('SELECT * FROM subscribe_messages WHERE openid = ? ORDER BY id')
            .all(openid)
        : this.db.prepare('SELECT * FROM subscribe_messages ORDER BY id').all()
    ) as SubscribeMessageRow[];
  }

  insertPhoneCode(row: PhoneCodeRow): void {
    insertRow(this.db, 'phone_codes', row);
  }

  phoneCode(code: string): PhoneCodeRow | undefined {
    return this.db.prepare('SELECT * FROM phone_codes WHERE code = ?').get(code) as
      | PhoneCodeRow
      | undefined;
  }

  usePhoneCode(code: string, at: number): boolean {
    return (
      this.db
        .prepare('UPDATE phone_codes SET used_at = ? WHERE code = ? AND used_at IS NULL')
        .run(at, code).changes === 1
    );
  }

  insertPush(row: Omit<PushRow, 'id'>): number {
    return Number(insertRow(this.db, 'pushes', row).lastInsertRowid);
  }

  updatePush(
    id: number,
    change: Pick<PushRow, 'status' | 'attempts' | 'http_status' | 'reply' | 'error'>,
  ): void {
    this.db
      .prepare(
        'UPDATE pushes SET status = @status, attempts = @attempts, http_status = @http_status, reply = @reply, error = @error WHERE id = @id',
      )
      .run({ ...change, id });
  }

  pushes(): PushRow[] {
    return this.db.prepare('SELECT * FROM pushes ORDER BY id').all() as PushRow[];
  }
}
