/**
 * Identifiers and times in the formats WeChat Pay expects. Random parts come from
 * `crypto.randomInt`, never `Math.random`.
 */
import { randomInt } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A `nonce_str` / `nonceStr`: 32 random letters and digits (WeChat allows ≤ 32). */
export function nonce(length = 32): string {
  if (length < 16 || length > 32) throw new RangeError('nonce length must be 16..32');
  return randomString(ALNUM, length);
}

/** `out_trade_no` / `out_refund_no` charset: ≤ 32 of `[0-9a-zA-Z_-|*]` (refunds ≤ 64, also `@`). */
export const OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*]{6,32}$/;
export const OUT_REFUND_NO_PATTERN = /^[0-9A-Za-z_\-|*@]{1,64}$/;

/**
 * A unique merchant order number: `prefix` + Beijing time `yyyyMMddHHmmss` + random
 * (32 characters in all; with the default 2-letter prefix 16 random characters from a
 * 32-letter alphabet, 80 bits).
 */
export function outTradeNo(prefix = 'MP', now: Date = new Date()): string {
  if (!/^[A-Za-z0-9]{0,8}$/.test(prefix)) throw new TypeError('prefix must be ≤ 8 letters/digits');
  return prefix + beijingCompact(now) + randomString(UPPER_ALNUM, 32 - 14 - prefix.length);
}

/** A unique `out_refund_no`, same shape as `outTradeNo` with prefix `RF`. */
export function outRefundNo(prefix = 'RF', now: Date = new Date()): string {
  return outTradeNo(prefix, now);
}

/** Seconds since the epoch as a string (`timeStamp` of `wx.requestPayment`). */
export function unixSeconds(now: Date = new Date()): string {
  return String(Math.floor(now.getTime() / 1000));
}

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

/** `yyyyMMddHHmmss` in Beijing time (UTC+8), as `time_start`, `time_expire`, `time_end`. */
export function beijingCompact(date: Date): string {
  const d = new Date(date.getTime() + BEIJING_OFFSET_MS);
  return (
    String(d.getUTCFullYear()).padStart(4, '0') +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds())
  );
}

/** `yyyy-MM-dd HH:mm:ss` in Beijing time, as refund `success_time` and bill rows. */
export function beijingDateTime(date: Date): string {
  const c = beijingCompact(date);
  return `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)} ${c.slice(8, 10)}:${c.slice(10, 12)}:${c.slice(12, 14)}`;
}

/** `yyyyMMdd` in Beijing time, as `bill_date`. */
export function beijingDate(date: Date): string {
  return beijingCompact(date).slice(0, 8);
}

/** Parses `yyyyMMddHHmmss` or `yyyy-MM-dd HH:mm:ss` (Beijing time); throws on anything else. */
export function parseBeijingTime(value: string): Date {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ ]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(value);
  if (!m || (value.includes('-') ? value.length !== 19 : value.length !== 14)) {
    throw new RangeError(`not a WeChat Pay time: ${JSON.stringify(value)}`);
  }
  const [, y, mo, d, h, mi, s] = m.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_OFFSET_MS;
  const check = new Date(ms + BEIJING_OFFSET_MS);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new RangeError(`not a valid date: ${JSON.stringify(value)}`);
  }
  return new Date(ms);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
