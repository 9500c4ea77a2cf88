/**
 * Text limits of APIv2 fields. WeChat counts them in bytes of UTF-8, not in characters: a
 * Chinese character is 3 bytes, so `body` holds 42 of them, not 127 (docs/wechat-rules.md,
 * "Text fields are limited in bytes"). The client, the checkout and the sandbox all measure
 * with `utf8Length`.
 */

/** Byte limits of the text fields minipay sends. */
export const TEXT_LIMITS = {
  body: 127,
  attach: 127,
  detail: 6000,
  refund_desc: 80,
} as const;

export type LimitedField = keyof typeof TEXT_LIMITS;

/** The length of `text` in bytes of UTF-8. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Whether `text` fits the byte limit of `field`. */
export function fitsLimit(field: LimitedField, text: string): boolean {
  return utf8Length(text) <= TEXT_LIMITS[field];
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` shortened to at most `maxBytes` bytes of UTF-8, ending in `ellipsis` when cut. It is
 * cut between user-perceived characters (grapheme clusters): never inside a character, a
 * surrogate pair or an emoji sequence.
 */
export function fitUtf8(text: string, maxBytes: number, ellipsis = '…'): string {
  if (utf8Length(text) <= maxBytes) return text;
  const room = maxBytes - utf8Length(ellipsis);
  if (room < 0) throw new RangeError(`the ellipsis alone is longer than ${maxBytes} bytes`);
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = utf8Length(segment);
    if (used + size > room) break;
    out += segment;
    used += size;
  }
  return out + ellipsis;
}
