/** The sandbox's `wx.login` codes: each exchanges once, within 5 minutes (login.ts). */
import type Database from 'better-sqlite3';
import { insertRow } from './insert-row.js';

export interface LoginCodeRow {
  code: string;
  openid: string;
  session_key: string;
  created_at: number;
  used_at: number | null;
}

export const LOGIN_CODE_SCHEMA = `
CREATE TABLE IF NOT EXISTS login_codes (
  code TEXT PRIMARY KEY, openid TEXT NOT NULL, session_key TEXT NOT NULL,
  created_at INTEGER NOT NULL, used_at INTEGER);
`;

export class LoginCodeStore {
  constructor(private readonly db: Database.Database) {}

  insert(row: LoginCodeRow): void {
    insertRow(this.db, 'login_codes', row);
  }

  get(code: string): LoginCodeRow | undefined {
    return this.db.prepare('SELECT * FROM login_codes WHERE code = ?').get(code) as
      | LoginCodeRow
      | undefined;
  }

  /** Marks a code used; false when it was already used (the check and the write are one step). */
  use(code: string, at: number): boolean {
    return (
      this.db
        .prepare('UPDATE login_codes SET used_at = ? WHERE code = ? AND used_at IS NULL')
        .run(at, code).changes === 1
    );
  }
}
