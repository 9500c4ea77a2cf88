/**
 * Everything the sandbox remembers, in one SQLite database: a file when `stateFile` is given
 * (so a long-lived sandbox survives restarts, undelivered notifications included), memory
 * otherwise. better-sqlite3 directly rather than Kysely: it is synchronous, so each simulated
 * WeChat operation runs as one uninterrupted transaction without locks, and the sandbox needs
 * none of Kysely's dialect portability (it never runs on PostgreSQL). Each concept has its
 * store (trades, refunds, deliveries, login codes, the mini program platform's); this class opens the file, keeps the
 * schema's version and runs transactions across them.
 */
import Database from 'better-sqlite3';
import { DELIVERY_SCHEMA, DeliveryStore } from './delivery-store.js';
import { LOGIN_CODE_SCHEMA, LoginCodeStore } from './login-code-store.js';
import { PLATFORM_SCHEMA, PlatformStore } from './platform-store.js';
import { REFUND_SCHEMA, RefundStore } from './refund-store.js';
import { TRADE_SCHEMA, TradeStore } from './trade-store.js';

const SCHEMA_VERSION = 2;

/** What a file of each older version needs to reach the current one. */
const UPGRADES: Readonly<Record<number, string>> = {
  1: `ALTER TABLE refunds ADD COLUMN api TEXT NOT NULL DEFAULT 'v2';
      ALTER TABLE deliveries ADD COLUMN format TEXT NOT NULL DEFAULT 'v2';`,
};

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);',
  LOGIN_CODE_SCHEMA,
  TRADE_SCHEMA,
  REFUND_SCHEMA,
  DELIVERY_SCHEMA,
  PLATFORM_SCHEMA,
].join('\n');

/** The sandbox's database. One instance per running sandbox. */
export class SandboxState {
  private readonly db: Database.Database;
  readonly loginCodes: LoginCodeStore;
  readonly trades: TradeStore;
  readonly refunds: RefundStore;
  readonly deliveries: DeliveryStore;
  readonly platform: PlatformStore;

  constructor(file?: string) {
    this.db = new Database(file ?? ':memory:');
    if (file) this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `state file ${file} was written by a newer minipay (schema ${version}); use that version or a new file`,
      );
    }
    this.db.transaction(() => {
      for (let v = version; v > 0 && v < SCHEMA_VERSION; v++) this.db.exec(UPGRADES[v]!);
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    this.loginCodes = new LoginCodeStore(this.db);
    this.trades = new TradeStore(this.db);
    this.refunds = new RefundStore(this.db);
    this.deliveries = new DeliveryStore(this.db);
    this.platform = new PlatformStore(this.db);
  }

  /** Runs `fn` in one transaction. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
