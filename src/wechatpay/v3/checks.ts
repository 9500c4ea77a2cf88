/**
 * Argument checks of the v3 products, made before anything is sent: a refusal is
 * `WechatPayError('rejected', 'INVALID_ARGUMENT')`, as in the v2 client (docs/wechatpay.md).
 */
import { MAX_TOTAL_FEE } from '../amounts.js';
import { OUT_TRADE_NO_PATTERN } from '../ids.js';
import { utf8Length } from '../limits.js';
import type { WechatPayV3Client } from './client.js';
import { argument } from './errors.js';

export function checkOutTradeNo(value: string): void {
  if (!OUT_TRADE_NO_PATTERN.test(value))
    argument('outTradeNo must be 6 to 32 of 0-9 a-z A-Z _ - | *');
}

export function checkFen(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_TOTAL_FEE) {
    argument(`${name} must be a whole number of fen from 1 to ${MAX_TOTAL_FEE}`);
  }
}

export function checkBytes(name: string, value: string, min: number, max: number): void {
  const bytes = typeof value === 'string' ? utf8Length(value) : -1;
  if (bytes < min || bytes > max) {
    argument(
      `${name} must be ${min} to ${max} bytes of UTF-8 (a Chinese character is 3); it is ${bytes}`,
    );
  }
}

export function checkNotifyUrl(client: WechatPayV3Client, url: string): void {
  if (!/^https?:\/\/[^?#\s]{1,247}$/.test(url)) {
    argument('notifyUrl must be an http(s) URL of at most 255 characters without a query');
  }
  if (!url.startsWith('https:') && client.talksToWechat()) {
    argument('notifyUrl must be https: WeChat Pay requires an https notify_url');
  }
}
