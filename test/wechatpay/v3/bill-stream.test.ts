/**
 * APIv3 bill files streamed (`openBill`, `tradeBillStream`'s reading half): rows leave before
 * the file has all arrived, gzip is inflated on the way, the SHA1 is checked at the end; a
 * wrong hash, a truncated gzip, a summary that disagrees and a huge line each fail the read
 * with a typed error and no summary (docs/wechat-rules.md, "APIv3 bills, checked by SHA1").
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  BILL_COLUMNS,
  BillFormatError,
  BillSummaryMismatchError,
  readTradeBill,
} from '../../../src/wechatpay/index.js';
import { openBill, type WechatPayV3Client } from '../../../src/wechatpay/v3/index.js';

const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

function payment(n: number): string {
  const no = String(n).padStart(6, '0');
  return `\`2026-12-03 10:00:00,\`wx0000000000000001,\`1900000109,\`0,\`,\`42000000002026120300${no},\`MP${no},\`oUser,\`JSAPI,\`SUCCESS,\`OTHERS,\`CNY,\`6.00,\`0.00,\`0,\`0,\`0.00,\`0.00,\`,\`,\`tea,\`,\`0.04000,\`0.60%,\`6.00,\`0.00,\``;
}

/** A trade bill of `n` payments of 6.00 each. */
function bill(n: number, summaryCount = n): string {
  const rows = Array.from({ length: n }, (_, i) => payment(i + 1));
  const yuan = (6 * n).toFixed(2);
  const fee = (0.04 * n).toFixed(5);
  return `${[
    BILL_COLUMNS.ALL.join(','),
    ...rows,
    SUMMARY_HEADER,
    `\`${summaryCount},\`${yuan},\`0.00,\`0.00,\`${fee},\`${yuan},\`0.00`,
  ].join('\r\n')}\r\n`;
}

const sha1 = (bytes: Buffer | string) => createHash('sha1').update(bytes).digest('hex');

/** A client whose download answers `bytes` in `size`-byte chunks, counting what was pulled. */
function clientAnswering(bytes: Buffer, size = 1024) {
  const pulled = { chunks: 0 };
  const client = {
    maxBillBytes: 1 << 30,
    async downloadStream() {
      return (async function* () {
        for (let i = 0; i < bytes.length; i += size) {
          pulled.chunks++;
          yield bytes.subarray(i, i + size);
        }
      })();
    },
  } as unknown as WechatPayV3Client;
  return { client, pulled, total: Math.ceil(bytes.length / size) };
}

async function read(bytes: Buffer, hashOf: string, size?: number) {
  const { client } = clientAnswering(bytes, size);
  const reader = readTradeBill(
    await openBill(client, { hashType: 'SHA1', hashValue: hashOf, downloadUrl: 'x' }),
    { hash: 'sha256' },
  );
  let rows = 0;
  for await (const batch of reader.batches()) rows += batch.length;
  return { rows, reader };
}

async function failure(bytes: Buffer, hashOf: string) {
  const { client } = clientAnswering(bytes);
  const reader = readTradeBill(
    await openBill(client, { hashType: 'SHA1', hashValue: hashOf, downloadUrl: 'x' }),
  );
  let rows = 0;
  try {
    for await (const batch of reader.batches()) rows += batch.length;
  } catch (err) {
    assert.equal(reader.summary, undefined, 'a failed bill has no summary');
    return { err: err as Error & { code?: string }, rows };
  }
  assert.fail('the bill was accepted');
}

describe('APIv3 bill files, streamed', () => {
  it('plain or gzip: the rows, the checked summary and a SHA-256 of the text', async () => {
    const text = bill(3);
    for (const bytes of [Buffer.from(text), gzipSync(text)]) {
      const { rows, reader } = await read(bytes, sha1(text).toUpperCase(), 7);
      assert.equal(rows, 3);
      assert.equal(reader.summary?.tradeCount, 3);
      assert.equal(reader.digest, createHash('sha256').update(text).digest('hex'));
    }
  });

  it('rows leave before the file has arrived, plain or gzip', async () => {
    const text = bill(20_000);
    for (const bytes of [Buffer.from(text), gzipSync(text)]) {
      const { client, pulled, total } = clientAnswering(bytes, 1024);
      const reader = readTradeBill(
        await openBill(client, { hashType: 'SHA1', hashValue: sha1(text), downloadUrl: 'x' }),
      );
      let firstAt: number | undefined;
      for await (const _ of reader.batches()) firstAt ??= pulled.chunks;
      assert.ok(total > 100, `${total} chunks`);
      assert.ok(firstAt! < total / 2, `first rows after ${firstAt} of ${total} chunks`);
      assert.equal(reader.summary?.tradeCount, 20_000);
    }
  });

  it('a wrong hash fails at the end, after the rows: BAD_HASH', async () => {
    const text = bill(3);
    const { err, rows } = await failure(gzipSync(text), sha1(`${text} `));
    assert.equal(err.code, 'BAD_HASH');
    assert.match(err.message, /altered or cut/);
    assert.equal(rows, 3, 'the rows were handed on: the caller undoes them');
  });

  it('a truncated gzip: BAD_GZIP', async () => {
    const text = bill(50);
    const gz = gzipSync(text);
    const { err } = await failure(gz.subarray(0, gz.length - 40), sha1(text));
    assert.ok(err instanceof BillFormatError);
    assert.equal(err.code, 'BAD_GZIP');
  });

  it('a summary that disagrees with the rows, its hash right: SUMMARY_MISMATCH', async () => {
    const text = bill(3, 4);
    const { err } = await failure(Buffer.from(text), sha1(text));
    assert.ok(err instanceof BillSummaryMismatchError);
    assert.match(err.message, /总交易单数 is 4, the rows add up to 3/);
  });

  it('a huge line is refused as it grows, not read whole: LINE_TOO_LONG', async () => {
    const text = `${BILL_COLUMNS.ALL.join(',')}\r\n\`${'9'.repeat(8 << 20)}`;
    const { client, pulled, total } = clientAnswering(Buffer.from(text), 16 * 1024);
    const reader = readTradeBill(
      await openBill(client, { hashType: 'SHA1', hashValue: sha1(text), downloadUrl: 'x' }),
    );
    await assert.rejects(
      (async () => {
        for await (const _ of reader.batches());
      })(),
      (e: unknown) => e instanceof BillFormatError && e.code === 'LINE_TOO_LONG',
    );
    assert.ok(pulled.chunks < total / 10, `stopped after ${pulled.chunks} of ${total} chunks`);
  });
});
