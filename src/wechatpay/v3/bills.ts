/**
 * Bills on APIv3 (申请交易账单, 申请资金账单, 下载账单; docs/wechat-rules.md): apply (a signed answer with `hash_type`, `hash_value`
 * and a `download_url` valid 30 s), then a signed GET of the file, which WeChat does NOT sign:
 * it is checked by its SHA1 instead, which WeChat computes over the bill uncompressed
 * ("原始账单（gzip需要解压缩）的摘要值"). With `gzip`, WeChat sends the file gzipped (`tar_type=GZIP`)
 * and it is inflated here before the check.
 *
 * `tradeBillStream` / `fundFlowBillStream` read the file as it arrives (gunzip, SHA1 and the
 * line parser chunk by chunk, never the whole file in memory) and check the SHA1 when it ends:
 * a reader whose hash does not match throws from its last step, before its summary is set, so
 * rows already handed on must be undone. `tradeBill` / `fundFlowBill` read it whole.
 *
 * A day without trades is `null` (NO_STATEMENT_EXIST); a day not published yet is
 * `WechatPayError('later', 'BILL_NOT_READY')`, as v2's "Bill Creating".
 */
import { createHash, hash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { readTradeBill, type TradeBillReader } from '../bill.js';
import type { BillReadOptions } from '../bill-lines.js';
import { plainBytes } from '../bill-lines.js';
import { WechatPayError } from '../errors.js';
import { type FundFlowBillReader, readFundFlowBill } from '../fund-flow-bill.js';
import type { WechatPayV3Client } from './client.js';
import { argument, invalid, WechatPayV3Error } from './errors.js';
import { Fields } from './fields.js';

export interface TradeBillRequest {
  /** `yyyy-MM-dd`, Beijing; WeChat keeps 3 months. */
  billDate: string;
  /** Default ALL. */
  billType?: 'ALL' | 'SUCCESS' | 'REFUND';
  /** Ask for the file gzipped (it is inflated here). */
  gzip?: boolean;
}

export interface FundFlowBillRequest {
  billDate: string;
  /** Default BASIC. */
  accountType?: 'BASIC' | 'OPERATION' | 'FEES';
  gzip?: boolean;
}

/** An applied bill: where to download it and the SHA1 its uncompressed text must have. */
export interface AppliedBill {
  hashType: 'SHA1';
  hashValue: string;
  downloadUrl: string;
}

/** `GET /v3/bill/tradebill`: the bill's download URL and hash, or null when there is none. */
export function applyTradeBill(
  client: WechatPayV3Client,
  req: TradeBillRequest,
): Promise<AppliedBill | null> {
  return apply(client, '/v3/bill/tradebill', req.billDate, ['bill_type', req.billType], req.gzip);
}

/** `GET /v3/bill/fundflowbill`: the bill's download URL and hash, or null when there is none. */
export function applyFundFlowBill(
  client: WechatPayV3Client,
  req: FundFlowBillRequest,
): Promise<AppliedBill | null> {
  return apply(
    client,
    '/v3/bill/fundflowbill',
    req.billDate,
    ['account_type', req.accountType],
    req.gzip,
  );
}

/** The trade bill's text (its format is v2's: `parseBill`), or null when there is none. */
export async function tradeBill(
  client: WechatPayV3Client,
  req: TradeBillRequest,
): Promise<string | null> {
  const applied = await applyTradeBill(client, req);
  return applied && (await downloadBill(client, applied, { gzip: req.gzip })).toString('utf8');
}

/** The fund-flow bill's text, or null when there is none. */
export async function fundFlowBill(
  client: WechatPayV3Client,
  req: FundFlowBillRequest,
): Promise<string | null> {
  const applied = await applyFundFlowBill(client, req);
  return applied && (await downloadBill(client, applied, { gzip: req.gzip })).toString('utf8');
}

/** The trade bill streamed (see above), or null when there is none. */
export async function tradeBillStream(
  client: WechatPayV3Client,
  req: TradeBillRequest,
  options: BillReadOptions = {},
): Promise<TradeBillReader | null> {
  const applied = await applyTradeBill(client, req);
  return applied && readTradeBill(await openBill(client, applied), readOptions(client, options));
}

/** The fund-flow bill streamed (see above), or null when there is none. */
export async function fundFlowBillStream(
  client: WechatPayV3Client,
  req: FundFlowBillRequest,
  options: BillReadOptions = {},
): Promise<FundFlowBillReader | null> {
  const applied = await applyFundFlowBill(client, req);
  return applied && readFundFlowBill(await openBill(client, applied), readOptions(client, options));
}

function readOptions(client: WechatPayV3Client, options: BillReadOptions): BillReadOptions {
  return { maxBytes: client.maxBillBytes, ...options };
}

/**
 * An applied bill's bytes as they arrive, inflated when gzip (whatever was asked: the bytes
 * say), hashed on the way; when they end, a SHA1 other than the announced one is thrown.
 */
export async function openBill(
  client: WechatPayV3Client,
  applied: AppliedBill,
): Promise<AsyncIterable<Buffer>> {
  const body = await client.downloadStream(applied.downloadUrl);
  return checkedBytes(body, applied.hashValue.toLowerCase());
}

async function* checkedBytes(body: AsyncIterable<Buffer>, expected: string) {
  const sha1 = createHash('sha1');
  for await (const chunk of plainBytes(body).chunks) {
    sha1.update(chunk);
    yield chunk;
  }
  const actual = sha1.digest('hex');
  if (actual !== expected) throw badHash(actual, expected);
}

function badHash(actual: string, announced: string) {
  return invalid(
    'BAD_HASH',
    `the bill file's SHA1 is ${actual}, not the ${announced} WeChat announced: it was altered or cut on the way; download it again`,
  );
}

/** Downloads an applied bill, inflates it when gzipped, and checks its SHA1. */
export async function downloadBill(
  client: WechatPayV3Client,
  applied: AppliedBill,
  options: { gzip?: boolean } = {},
): Promise<Buffer> {
  const raw = await client.download(applied.downloadUrl);
  let bill = raw;
  if (options.gzip) {
    try {
      bill = gunzipSync(raw, { maxOutputLength: client.maxBillBytes });
    } catch (err) {
      throw invalid('BAD_GZIP', 'the bill file does not inflate (tar_type=GZIP)', { cause: err });
    }
  }
  const actual = hash('sha1', bill, 'hex');
  if (actual !== applied.hashValue.toLowerCase()) throw badHash(actual, applied.hashValue);
  return bill;
}

async function apply(
  client: WechatPayV3Client,
  path: string,
  billDate: string,
  [typeName, typeValue]: [string, string | undefined],
  gzip: boolean | undefined,
): Promise<AppliedBill | null> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(billDate)) argument('billDate must be yyyy-MM-dd');
  const query = new URLSearchParams({ bill_date: billDate });
  if (typeValue) query.set(typeName, typeValue);
  if (gzip) query.set('tar_type', 'GZIP');
  let json: unknown;
  try {
    json = (await client.request({ method: 'GET', path: `${path}?${query}`, retry: true })).json;
  } catch (err) {
    if (err instanceof WechatPayError && err.code === 'NO_STATEMENT_EXIST') return null;
    if (err instanceof WechatPayV3Error && err.code === 'STATEMENT_CREATING') {
      throw new WechatPayV3Error(
        'later',
        'BILL_NOT_READY',
        `GET ${path}: the bill of ${billDate} is not ready; WeChat publishes a day's bill the next morning: ask again later`,
        {
          status: err.status,
          description: err.description,
          requestId: err.requestId,
          verified: err.verified,
          cause: err,
        },
      );
    }
    throw err;
  }
  const f = Fields.of(json, `the GET ${path} answer`);
  const hashType = f.string('hash_type');
  if (hashType.toUpperCase() !== 'SHA1') {
    throw invalid('MALFORMED', `GET ${path}: hash_type ${hashType} is not SHA1`);
  }
  const hashValue = f.string('hash_value');
  if (!/^[0-9a-fA-F]{40}$/.test(hashValue))
    throw invalid('MALFORMED', `GET ${path}: hash_value is not a SHA1`);
  return { hashType: 'SHA1', hashValue, downloadUrl: f.string('download_url') };
}
