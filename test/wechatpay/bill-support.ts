/** Helpers of the bill tests: read a bill to the end, cut bytes in two, check an error. */
import assert from 'node:assert/strict';
import { BillFormatError } from '../../src/wechatpay/index.js';

/** Every row of a bill reader (the summary is checked at the end). */
export async function readAll<R>(reader: AsyncIterable<R>): Promise<R[]> {
  const rows: R[] = [];
  for await (const row of reader) rows.push(row);
  return rows;
}

/** `bytes` as two chunks, cut at `at`. */
export function splitAt(bytes: Buffer, at: number): Buffer[] {
  return [bytes.subarray(0, at), bytes.subarray(at)];
}

/** A check for `assert.rejects` / `throws`: a BillFormatError with this code, line, message. */
export function billFails(code: string, line: number | undefined, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof BillFormatError, `expected BillFormatError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.line, line, err.message);
    assert.match(err.message, message);
    return true;
  };
}
