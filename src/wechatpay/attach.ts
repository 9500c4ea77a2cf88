/**
 * `attach`, the merchant's own data on a trade: WeChat returns it unchanged in the payment
 * notify and orderquery (unifiedorder, `attach` String(127); docs/wechatpay.md). What can come
 * back unchanged is what this accepts: 1 to 127 bytes of UTF-8, no leading or trailing
 * whitespace (XML readers and the v2 signature disagree about it), no control characters
 * (XML 1.0 cannot carry most of them and rewrites CR), no U+FFFE / U+FFFF, no lone surrogate
 * (it has no UTF-8).
 */

export const MAX_ATTACH_BYTES = 127;

// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
const FORBIDDEN = /[\u0000-\u001F\u007F-\u009F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with `attach` as a sentence for the caller, or null when WeChat can carry it. */
export function attachProblem(attach: string): string | null {
  if (attach === '') return 'attach is empty; leave it out (or send null) for none';
  const bytes = Buffer.byteLength(attach, 'utf8');
  if (bytes > MAX_ATTACH_BYTES) {
    return `attach is ${bytes} bytes of UTF-8; WeChat takes at most ${MAX_ATTACH_BYTES}`;
  }
  if (attach.trim() !== attach) return 'attach must not start or end with whitespace';
  if (FORBIDDEN.test(attach)) {
    return 'attach must not contain control characters (U+0000-U+001F, U+007F-U+009F) or U+FFFE/U+FFFF';
  }
  if (LONE_SURROGATE.test(attach)) return 'attach contains a lone surrogate (not valid UTF-16)';
  return null;
}
