/**
 * A bill's bytes as lines, streamed. WeChat's bills (trade and fund-flow, APIv2 and APIv3) are
 * UTF-8 text, gzip when asked with `tar_type=GZIP`; they can be hundreds of megabytes, so they
 * are read chunk by chunk and only the line being cut is ever held. gzip is recognised by its
 * magic bytes, whatever was asked. A BOM on the first line and CR before LF are dropped (real
 * bills start with a BOM). Errors of the source (a network failure, a hash that does not match)
 * pass through unchanged.
 */
import { isUtf8 } from 'node:buffer';
import { createHash, type Hash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BillFormatError } from './bill-errors.js';

/** A bill's bytes: a Node stream, a web `ReadableStream`, any (async) iterable of chunks. */
export type BillSource =
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>
  | ReadableStream<Uint8Array>;

export interface BillReadOptions {
  /** Longest line accepted, in bytes. Default 64 KiB (a fund-flow 备注 may be 2048 characters). */
  maxLineBytes?: number;
  /** Most bytes accepted after gunzip. Default 4 GiB. */
  maxBytes?: number;
  /** Hash the bytes (after gunzip) as they pass; the hex digest is `digest` at the end. */
  hash?: 'sha1' | 'sha256';
}

export interface BillLine {
  /** 1-based. */
  no: number;
  text: string;
}

const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
const DEFAULT_MAX_BYTES = 4 * 1024 ** 3;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The lines of a bill; iterate once. `bytes`, `gzipped` and `digest` are final at the end. */
export class BillLines implements AsyncIterable<BillLine[]> {
  /** Bytes read so far, after gunzip. */
  bytes = 0;
  /** Whether the source was gzip. */
  gzipped = false;
  /** The hex digest of the bytes when `hash` was asked, once every line was read. */
  digest: string | undefined;
  private readonly maxLineBytes: number;
  private readonly maxBytes: number;
  private readonly hash: Hash | undefined;
  private used = false;

  constructor(
    private readonly source: BillSource,
    options: BillReadOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.hash = options.hash ? createHash(options.hash) : undefined;
  }

  /** The lines, a chunk's worth at a time (one await per chunk, not per line). */
  async *[Symbol.asyncIterator](): AsyncGenerator<BillLine[]> {
    if (this.used) throw new Error('a bill can be read once');
    this.used = true;
    let carry: Buffer | undefined;
    let no = 0;
    const plain = plainBytes(this.source);
    for await (const chunk of plain.chunks) {
      this.gzipped = plain.gzipped();
      this.count(chunk);
      const lines: BillLine[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, nl);
        lines.push(this.line(++no, carry ? Buffer.concat([carry, piece]) : piece));
        carry = undefined;
        start = nl + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        carry = carry ? Buffer.concat([carry, rest]) : Buffer.from(rest);
        if (carry.length > this.maxLineBytes) throw this.tooLong(no + 1);
      }
      if (lines.length > 0) yield lines;
    }
    if (carry) yield [this.line(++no, carry)];
    this.digest = this.hash?.digest('hex');
  }

  private count(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      throw new BillFormatError('TOO_LARGE', `the bill is larger than ${this.maxBytes} bytes`);
    }
    this.hash?.update(chunk);
  }

  private line(no: number, bytes: Buffer): BillLine {
    if (bytes.length > this.maxLineBytes) throw this.tooLong(no);
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 13) end--;
    const start = no === 1 && bytes.subarray(0, 3).equals(BOM) ? 3 : 0;
    const text = bytes.subarray(start, end);
    if (!isUtf8(text)) throw new BillFormatError('NOT_UTF8', 'not UTF-8', no);
    return { no, text: text.toString('utf8') };
  }

  private tooLong(no: number): BillFormatError {
    return new BillFormatError('LINE_TOO_LONG', `longer than ${this.maxLineBytes} bytes`, no);
  }
}

/**
 * The source's bytes, gunzipped when they start with gzip's magic bytes (whatever was asked:
 * the answer says what it is). `gzipped()` is known once the first chunk was read.
 */
export function plainBytes(source: BillSource): {
  chunks: AsyncGenerator<Buffer>;
  gzipped: () => boolean;
} {
  let gzipped = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    const raw = buffers(source);
    const first = await head(raw, 2);
    gzipped = first[0] === 0x1f && first[1] === 0x8b;
    if (!gzipped) {
      if (first.length > 0) yield first;
      yield* raw;
      return;
    }
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    pipeline(Readable.from(prepend(first, raw)), gunzip, () => {
      // Errors reach the reader through `gunzip`.
    });
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      if (!isZlibError(err)) throw err;
      throw new BillFormatError(
        'BAD_GZIP',
        `the gzip stream is truncated or corrupt (${(err as Error).message})`,
        undefined,
        { cause: err },
      );
    } finally {
      gunzip.destroy();
    }
  }
  return { chunks: chunks(), gzipped: () => gzipped };
}

/** The lines of a bill's text (already in memory), as `BillLines` cuts them. */
export function textLines(text: string): BillLine[] {
  const parts = text.split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts.map((part, i) => ({
    no: i + 1,
    text: (i === 0 ? part.replace(/^\uFEFF/, '') : part).replace(/\r$/, ''),
  }));
}

export async function* buffers(source: BillSource): AsyncGenerator<Buffer> {
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    yield Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  }
}

/** Reads from `chunks` until at least `n` bytes (or the end); the rest stays in `chunks`. */
export async function head(chunks: AsyncGenerator<Buffer>, n: number): Promise<Buffer> {
  let bytes: Buffer = Buffer.alloc(0);
  while (bytes.length < n) {
    const next = await chunks.next();
    if (next.done) break;
    bytes = bytes.length === 0 ? next.value : Buffer.concat([bytes, next.value]);
  }
  return bytes;
}

export async function* prepend(
  first: Buffer,
  rest: AsyncGenerator<Buffer>,
): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}
