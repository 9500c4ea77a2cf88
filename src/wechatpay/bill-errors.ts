/**
 * What can be wrong with a bill WeChat sent (trade or fund-flow, APIv2 or APIv3). Every reader
 * throws `BillFormatError` with a stable `code` and, where it applies, the 1-based `line`;
 * a summary that does not add up is its subclass `BillSummaryMismatchError`. A bill that fails
 * is never half-read: callers keep nothing of it (docs/wechatpay.md, "Bills").
 */

export type BillFormatCode =
  /** The bytes are not UTF-8. */
  | 'NOT_UTF8'
  /** A line longer than `maxLineBytes`. */
  | 'LINE_TOO_LONG'
  /** More than `maxBytes` (after gunzip). */
  | 'TOO_LARGE'
  /** A gzip stream that is truncated or corrupt. */
  | 'BAD_GZIP'
  /** The header line: unknown, a column missing or named twice. */
  | 'BAD_HEADER'
  /** A row with another number of fields than the header. */
  | 'FIELD_COUNT'
  /** A value that is not what its column holds (an amount, a time, a count). */
  | 'BAD_VALUE'
  /** Lines out of place: a row without its backtick, text after the summary. */
  | 'BAD_LAYOUT'
  /** The bill ends before its summary. */
  | 'TRUNCATED'
  /** The summary differs from the sums of the rows. */
  | 'SUMMARY_MISMATCH';

/** A bill that does not have WeChat's format; the message says where. */
export class BillFormatError extends Error {
  override readonly name: string = 'BillFormatError';
  constructor(
    readonly code: BillFormatCode,
    message: string,
    /** The 1-based line the problem is on, when it is on one. */
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`, options);
  }
}

/** The summary line states a total that the rows do not add up to. */
export class BillSummaryMismatchError extends BillFormatError {
  override readonly name: string = 'BillSummaryMismatchError';
  constructor(
    /** The summary column, as WeChat names it (总交易单数, 手续费总金额, ...). */
    readonly column: string,
    /** What the summary says, and what the rows add up to (fen, 1/1000 fen or a count). */
    readonly stated: number,
    readonly computed: number,
    line: number,
  ) {
    super(
      'SUMMARY_MISMATCH',
      `the summary's ${column} is ${stated}, the rows add up to ${computed}`,
      line,
    );
  }
}
