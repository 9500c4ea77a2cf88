/**
 * The layout every WeChat bill shares (trade and fund-flow bills, APIv2 and APIv3):
 *
 *   a header line: column names, comma-separated
 *   one line per row, every field prefixed with a backtick: `2024-01-16 22:43:59,`wx…,…
 *   a summary header line: the names of the totals
 *   the summary line, backtick-prefixed
 *
 * Columns are found by name, so their order does not matter; a column the format does not know
 * is skipped (and listed in `unknownColumns`), a required one missing is an error. Fields are
 * split on ",`" (a comma alone may sit inside a value). Blank lines carry nothing and are
 * skipped. At the end every total the summary states is checked against the sum of the rows.
 * `BillTable` is the state machine, fed one line at a time; `BillReader` feeds it a stream.
 */
import { unitsToYuan, yuanToUnits } from './amounts.js';
import { BillFormatError, BillSummaryMismatchError } from './bill-errors.js';
import { type BillLine, BillLines, type BillReadOptions, type BillSource } from './bill-lines.js';
import { beijingDateTime, parseBeijingTime } from './ids.js';

/** How one column's text becomes a value and back; `parse` throws RangeError on bad text. */
export interface BillCodec {
  parse(text: string): unknown;
  format(value: unknown): string;
}

export interface BillColumn<T> {
  /** The name in the header line (交易时间, 收支金额(元), ...). */
  readonly name: string;
  readonly field: keyof T & string;
  readonly codec: BillCodec;
}

/** One kind of bill: its columns, its summary's columns and how rows add up to the summary. */
export interface BillTableFormat<R, S> {
  /** What the bill is called in messages. */
  readonly what: string;
  readonly columns: readonly BillColumn<R>[];
  /** The columns a header must have. */
  readonly required: readonly string[];
  /** Groups of columns a header has all or none of. */
  readonly requiredTogether?: readonly (readonly string[])[];
  readonly summary: readonly BillColumn<S>[];
  /** A row with every field at its empty value. */
  blank(): R;
  /** The totals of no rows. */
  zero(): S;
  /** Adds a row to the totals. */
  add(totals: S, row: R): void;
}

/** Strict text billCodecs of the values bills carry. */
export const billCodecs = {
  text: {
    parse: (text) => text,
    // A value holding ",`", a backtick or a line break would break the layout.
    format: (value) =>
      String(value ?? '')
        .replace(/[\r\n]+/g, ' ')
        .replaceAll('`', "'"),
  },
  /** `yyyy-MM-dd HH:mm:ss`, Beijing time. */
  time: {
    parse: (text) => billTime(text),
    format: (value) => beijingDateTime(value as Date),
  },
  /** A time or nothing. */
  optionalTime: {
    parse: (text) => (text === '' ? undefined : billTime(text)),
    format: (value) => (value === undefined ? '' : beijingDateTime(value as Date)),
  },
  /** Yuan with 2 decimals, as integer fen. */
  fen: {
    parse: (text) => yuanToUnits(text, 2),
    format: (value) => unitsToYuan(value as number, 2),
  },
  /** Yuan with 5 decimals (手续费), as integer 1/1000 fen. */
  milliFen: {
    parse: (text) => yuanToUnits(text, 5),
    format: (value) => unitsToYuan(value as number, 5),
  },
  /** A reference that may be empty. */
  ref: {
    parse: (text) => (text === '' ? undefined : text),
    format: (value) => (value === undefined ? '' : String(value)),
  },
  /** A reference written `0` when there is none (refund numbers on trade rows). */
  refNo: {
    parse: (text) => (text === '' || text === '0' ? undefined : text),
    format: (value) => (value === undefined ? '0' : String(value)),
  },
  /** A count of rows: `3`, or `20.0` as the fund-flow summary writes it. */
  count: {
    parse: (text) => {
      if (!/^(0|[1-9][0-9]{0,14})(\.0+)?$/.test(text)) {
        throw new RangeError(`not a count: ${JSON.stringify(text)}`);
      }
      return Number.parseInt(text, 10);
    },
    format: (value) => String(value),
  },
} satisfies Record<string, BillCodec>;

/** Midnight (Beijing) of the days seen lately, by `yyyy-MM-dd`: a bill's rows share a day or two. */
const midnights = new Map<string, number>();

/** `parseBeijingTime` for `yyyy-MM-dd HH:mm:ss`, each day's date checked once. */
function billTime(text: string): Date {
  if (text.length !== 19 || text[10] !== ' ' || text[13] !== ':' || text[16] !== ':') {
    return parseBeijingTime(text);
  }
  const date = text.slice(0, 10);
  let midnight = midnights.get(date);
  if (midnight === undefined) {
    midnight = parseBeijingTime(`${date} 00:00:00`).getTime();
    if (midnights.size >= 64) midnights.clear();
    midnights.set(date, midnight);
  }
  const h = twoDigits(text, 11);
  const m = twoDigits(text, 14);
  const s = twoDigits(text, 17);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59) return parseBeijingTime(text);
  return new Date(midnight + ((h * 60 + m) * 60 + s) * 1000);
}

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** The line of column names. */
export function billHeaderLine<T>(columns: readonly BillColumn<T>[]): string {
  return columns.map((c) => c.name).join(',');
}

/** One backtick-prefixed line of `values` in `columns`. */
export function billValuesLine<T>(columns: readonly BillColumn<T>[], values: T): string {
  let line = '';
  for (const c of columns) line += `${line === '' ? '' : ','}\`${c.codec.format(values[c.field])}`;
  return line;
}

type Setter<T> = (target: T, text: string, line: number) => void;

/** The bill's state machine: feed it every line with `push`, then call `end`. */
export class BillTable<R, S> {
  /** The header's column names (empty until the header line was read). */
  header: readonly string[] = [];
  /** Header columns the format does not know (their values are skipped). */
  unknownColumns: readonly string[] = [];
  /** The sums of the rows so far. */
  readonly totals: S;
  private state: 'header' | 'rows' | 'summary' | 'done' = 'header';
  private setters: (Setter<R> | undefined)[] = [];
  private summaryColumns: BillColumn<S>[] = [];
  private stated: S;
  private summaryLine = 0;

  constructor(readonly format: BillTableFormat<R, S>) {
    this.totals = format.zero();
    this.stated = format.zero();
  }

  /** Reads one line; returns the row it holds, if it is a row. */
  push(line: BillLine): R | undefined {
    const { text, no } = line;
    if (text === '') return undefined;
    switch (this.state) {
      case 'header':
        this.readHeader(text, no);
        return undefined;
      case 'rows': {
        if (!text.startsWith('`')) {
          this.readSummaryHeader(text, no);
          return undefined;
        }
        const row = this.format.blank();
        this.fill(row, this.setters, text, no);
        this.format.add(this.totals, row);
        return row;
      }
      case 'summary':
        if (!text.startsWith('`')) throw layout('the summary line must follow its header', no);
        this.fill(this.stated, this.summarySetters(), text, no);
        this.summaryLine = no;
        this.state = 'done';
        return undefined;
      default:
        throw layout('text after the summary line', no);
    }
  }

  /** After the last line: checks every stated total against the rows; returns the totals. */
  end(): S {
    if (this.state !== 'done') {
      const what =
        this.state === 'header' ? 'the bill is empty' : 'the bill ends before its summary';
      throw new BillFormatError('TRUNCATED', `${what} (${this.format.what})`);
    }
    for (const c of this.summaryColumns) {
      const stated = this.stated[c.field] as number;
      const computed = this.totals[c.field] as number;
      if (!Number.isSafeInteger(computed)) {
        throw new BillFormatError('BAD_VALUE', `the rows' ${c.name} is beyond exact arithmetic`);
      }
      if (stated !== computed) {
        throw new BillSummaryMismatchError(c.name, stated, computed, this.summaryLine);
      }
    }
    return this.totals;
  }

  private readHeader(text: string, no: number): void {
    const names = text.replaceAll('`', '').split(',');
    const known = new Map(this.format.columns.map((c) => [c.name, c]));
    const present = (name: string) => names.includes(name);
    const wanted = [this.format.required, ...(this.format.requiredTogether ?? [])]
      .filter((group, i) => i === 0 || group.some(present))
      .flat();
    const missing = wanted.filter((name) => !present(name));
    if (missing.length > 0 || new Set(names).size !== names.length) {
      const problem = missing.length > 0 ? `no ${missing.join(', ')}` : 'a column named twice';
      throw new BillFormatError(
        'BAD_HEADER',
        `not a ${this.format.what} header (${problem}): ${text.slice(0, 80)}`,
        no,
      );
    }
    this.header = names;
    this.unknownColumns = names.filter((name) => !known.has(name));
    this.setters = names.map((name) => {
      const column = known.get(name);
      return column && setter(column);
    });
    this.state = 'rows';
  }

  private readSummaryHeader(text: string, no: number): void {
    const names = text.replaceAll('`', '').split(',');
    const known = new Map(this.format.summary.map((c) => [c.name, c]));
    const columns = names.map((name) => known.get(name));
    if (columns.some((c) => c === undefined) || new Set(names).size !== names.length) {
      throw layout(
        `neither a row (fields start with \`) nor a summary header: ${text.slice(0, 80)}`,
        no,
      );
    }
    this.summaryColumns = columns as BillColumn<S>[];
    this.state = 'summary';
  }

  private summarySetters(): Setter<S>[] {
    return this.summaryColumns.map(setter);
  }

  private fill<T>(
    target: T,
    setters: readonly (Setter<T> | undefined)[],
    text: string,
    no: number,
  ) {
    const values = text.slice(1).split(',`');
    if (values.length !== setters.length) {
      throw new BillFormatError(
        'FIELD_COUNT',
        `${values.length} fields, expected ${setters.length}`,
        no,
      );
    }
    for (let i = 0; i < values.length; i++) setters[i]?.(target, values[i]!, no);
  }
}

function setter<T>(column: BillColumn<T>): Setter<T> {
  return (target, text, line) => {
    let value: unknown;
    try {
      value = column.codec.parse(text);
    } catch (err) {
      throw new BillFormatError('BAD_VALUE', `${column.name}: ${(err as Error).message}`, line, {
        cause: err,
      });
    }
    (target as Record<string, unknown>)[column.field] = value;
  };
}

function layout(message: string, line: number): BillFormatError {
  return new BillFormatError('BAD_LAYOUT', message, line);
}

/**
 * A bill read from a byte stream: iterate it once for the rows (line by line, never the whole
 * file); when the iteration ends without an error, `summary` holds the checked totals. A row
 * is only trustworthy once the whole bill was read: a summary that lies, a truncated gzip or a
 * bad line further down throws at the end, and whatever was done with the rows must be undone.
 */
export class BillReader<R, S> implements AsyncIterable<R> {
  protected readonly table: BillTable<R, S>;
  readonly lines: BillLines;
  /** The checked totals (equal to the summary line), once every row was read. */
  summary: S | undefined;

  constructor(format: BillTableFormat<R, S>, source: BillSource, options: BillReadOptions = {}) {
    this.table = new BillTable(format);
    this.lines = new BillLines(source, options);
  }

  /** Header columns the format does not know. */
  get unknownColumns(): readonly string[] {
    return this.table.unknownColumns;
  }

  /** The hex digest of the bill's bytes (after gunzip) when `hash` was asked, at the end. */
  get digest(): string | undefined {
    return this.lines.digest;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<R> {
    for await (const lines of this.lines) {
      for (const line of lines) {
        const row = this.table.push(line);
        if (row !== undefined) yield row;
      }
    }
    this.summary = this.table.end();
  }

  /** Every row, in batches of the lines one chunk held (fewer awaits for bulk loading). */
  async *batches(): AsyncGenerator<R[]> {
    for await (const lines of this.lines) {
      const rows: R[] = [];
      for (const line of lines) {
        const row = this.table.push(line);
        if (row !== undefined) rows.push(row);
      }
      if (rows.length > 0) yield rows;
    }
    this.summary = this.table.end();
  }
}
