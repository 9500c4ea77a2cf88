/**
 * Opaque cursors for newest-first keyset pagination, for every paged list (admin and mini
 * program). A cursor names the last row of a page (its time and id, or its sequence number)
 * and the list it belongs to, so a page is never shifted by rows inserted meanwhile and a
 * cursor from another list, or a forged one, is refused with one message.
 */
import { type ExpressionBuilder, type SelectQueryBuilder, sql } from 'kysely';
import { validation } from './errors.js';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,300}$/;

/** A row of a list paged by time: when it was created, and its id for ties. */
type TimeRow = { created_at: string; id: string };

export interface TimeKey {
  at: string;
  id: string;
}

function encode(list: string, parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify([list, ...parts])).toString('base64url');
}

function decode(list: string, cursor: string): unknown[] {
  const refused = validation('cursor is not one this list issued; start again without it');
  if (!CURSOR.test(cursor)) throw refused;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  if (!Array.isArray(parts) || parts[0] !== list) throw refused;
  return parts.slice(1);
}

/** A cursor after the row created at `at` with id `id` (ties on time are broken by id). */
export function encodeTimeCursor(list: string, key: TimeKey): string {
  return encode(list, [key.at, key.id]);
}

export function decodeTimeCursor(list: string, cursor: string): TimeKey {
  const [at, id, ...rest] = decode(list, cursor);
  if (typeof at !== 'string' || !ISO_UTC.test(at) || typeof id !== 'string' || !ID.test(id)) {
    throw validation('cursor is not one this list issued; start again without it');
  }
  if (rest.length > 0)
    throw validation('cursor is not one this list issued; start again without it');
  return { at, id };
}

/**
 * The rows of a newest-first (created_at, id) list that come after `key`: older, or as old
 * with a smaller id. For a query on one table that has both columns.
 */
export function olderThan(key: TimeKey) {
  const at = sql.ref<string>('created_at');
  const id = sql.ref<string>('id');
  return <DB, TB extends keyof DB>(eb: ExpressionBuilder<DB, TB>) =>
    eb.or([eb(at, '<', key.at), eb.and([eb(at, '=', key.at), eb(id, '<', key.id)])]);
}

/**
 * A newest-first (created_at, id) page from the `limit + 1` rows asked for: the first `limit`,
 * and the cursor after the last of them when there were more.
 */
export function timePage<Row extends TimeRow>(
  list: string,
  rows: Row[],
  limit: number,
): { page: Row[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const more = rows.length > limit && last !== undefined;
  return {
    page,
    nextCursor: more ? encodeTimeCursor(list, { at: last.created_at, id: last.id }) : null,
  };
}

/**
 * One newest-first page of `query` (a select of one table with `created_at` and `id`, its
 * filters applied): the rows after `cursor` (refused unless this list issued it), at most
 * `limit` of them, and the cursor of the next page when there is one.
 */
export async function newestFirst<DB, TB extends keyof DB, Row extends TimeRow>(
  list: string,
  query: SelectQueryBuilder<DB, TB, Row>,
  limit: number,
  cursor: string | undefined,
): Promise<{ page: Row[]; nextCursor: string | null }> {
  const after = cursor === undefined ? undefined : decodeTimeCursor(list, cursor);
  let q = query
    .orderBy(sql.ref('created_at'), 'desc')
    .orderBy(sql.ref('id'), 'desc')
    .limit(limit + 1);
  if (after) q = q.where(olderThan(after));
  return timePage(list, await q.execute(), limit);
}

/** A cursor after the row with sequence number `seq`. */
export function encodeSeqCursor(list: string, seq: number): string {
  return encode(list, [seq]);
}

export function decodeSeqCursor(list: string, cursor: string): number {
  const [seq, ...rest] = decode(list, cursor);
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1 || rest.length > 0) {
    throw validation('cursor is not one this list issued; start again without it');
  }
  return seq;
}

/** A cursor after the row with these keys (short texts: days, kinds, order numbers, ids). */
export function encodeKeyCursor(list: string, keys: string[]): string {
  return encode(list, keys);
}

export function decodeKeyCursor(list: string, cursor: string, count: number): string[] {
  const keys = decode(list, cursor);
  if (keys.length !== count || !keys.every((k) => typeof k === 'string' && KEY.test(k))) {
    throw validation('cursor is not one this list issued; start again without it');
  }
  return keys as string[];
}

/** A key as cursors carry it: 1 to 64 characters, letters and marks, no control characters. */
const KEY = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]{1,64}$/u;

/** `?limit=`: a whole number from 1 to `max` (default `fallback`). */
export function parseLimit(value: string | number | undefined, fallback = 50, max = 100): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw validation(`limit must be a whole number from 1 to ${max}, got ${String(value)}`);
  }
  return n;
}
