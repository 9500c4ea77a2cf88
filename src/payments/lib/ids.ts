/**
 * Opaque, unguessable ids: `<prefix>_` + 22 base62 characters, time-ordered: the first 8 are
 * the creation millisecond, the other 14 random (~83 bits). Rows made together then sit
 * together in every index keyed by an id, so a write touches a few pages at the end of the
 * index instead of one random page per row.
 */
import { randomBytes, randomFillSync } from 'node:crypto';

// In ASCII order, so ids sort by time as text (SQLite's BINARY, PostgreSQL's "C" and byte order).
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_CHARS = 22;

/**
 * Random bytes drawn 4 KiB at a time, not a `randomBytes` call per id: a payment notify makes
 * three ids, and the calls showed in its profile (BENCHMARKS.md, "Notify throughput"). Every
 * byte is used once.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomByte(): number {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  return pool[used++] as number;
}

/** Characters of an id that are its creation time (62^8 ms: until the year 8900). */
const TIME_CHARS = 8;

export function newId(prefix: string, now = Date.now()): string {
  let out = '';
  for (let t = now, i = 0; i < TIME_CHARS; i++, t = Math.floor(t / 62)) {
    out = ALPHABET[t % 62] + out;
  }
  while (out.length < ID_CHARS) {
    const byte = randomByte();
    // 248 = 4 * 62: rejecting bytes above it keeps every character equally likely.
    if (byte < 248) out += ALPHABET[byte % 62];
  }
  return `${prefix}_${out}`;
}

/** A secret bearer token (256 bits, base64url). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * `n` ids in ascending order: rows written together in one statement (same `created_at`) then
 * list, by `created_at` and id, in the order they were given.
 */
export function newIds(prefix: string, n: number): string[] {
  const now = Date.now();
  return Array.from({ length: n }, () => newId(prefix, now)).sort();
}
