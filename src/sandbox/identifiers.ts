/**
 * The identifiers WeChat mints, in the shapes seen in real responses (not documented:
 * docs/wechat-rules.md, "Identifier formats"). Random parts come from node:crypto.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { beijingCompact } from '../wechatpay/index.js';

function digits(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(randomInt(10));
  return out;
}

/** `wx` + Beijing `yyyyMMddHHmmss` + 20 hex digits (36 characters), like the official examples. */
export function prepayId(now: number): string {
  return `wx${beijingCompact(new Date(now))}${randomBytes(10).toString('hex')}`;
}

/** 28 digits starting `4200` + the Beijing date, like real JSAPI transaction ids. */
export function transactionId(now: number): string {
  return `4200${digits(6)}${beijingCompact(new Date(now)).slice(0, 8)}${digits(10)}`;
}

/** 29 digits starting `50`, like real refund ids. */
export function refundId(now: number): string {
  return `50${digits(9)}${beijingCompact(new Date(now)).slice(0, 8)}${digits(10)}`;
}

const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A 28-character openid starting with `o`, like real mini program openids. */
export function openid(): string {
  let out = 'o';
  for (let i = 0; i < 27; i++) out += URL_SAFE[randomInt(URL_SAFE.length)];
  return out;
}

/** A one-time `wx.login` code: 32 URL-safe characters. */
export function loginCode(): string {
  return randomBytes(24).toString('base64url');
}

/** A session_key: base64 of 16 random bytes (24 characters), as jscode2session returns. */
export function sessionKey(): string {
  return randomBytes(16).toString('base64');
}

/** The out_refund_no the merchant portal gives a refund made there: 21 digits, like WeChat's. */
export function outRefundNoFromPortal(now: number): string {
  return `${beijingCompact(new Date(now))}${digits(7)}`;
}
