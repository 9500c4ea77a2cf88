/**
 * APIv3 bills: `GET /v3/bill/tradebill` and `GET /v3/bill/fundflowbill` answer
 * `{hash_type, hash_value, download_url}` (signed, like every answer), and the signed GET of
 * `download_url` answers the file itself, unsigned (WeChat does not sign bill files; the
 * merchant checks the SHA1 of the uncompressed text). The rows and the text are v2's
 * (bill-records.ts with `formatBill`, fund-flow-records.ts with `formatFundFlowBill`): the same
 * day rules, published at 10:00 Beijing the next day, kept 3 months.
 *
 * Decided (docs/sandbox.md, "APIv3"): `download_url` is on the host the merchant asked, and
 * names the bill in its query (the download is authenticated by the merchant's signature, as
 * WeChat's is); no bill that day is 400 NO_STATEMENT_EXIST, not published yet 400
 * STATEMENT_CREATING, a bad or expired date 400 PARAM_ERROR.
 */
import { hash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { formatBill, formatFundFlowBill } from '../wechatpay/index.js';
import { type BillType, billRecords } from './bill-records.js';
import { billRow } from './bills.js';
import type { SandboxCore } from './core.js';
import { type FundFlowAccountName, fundFlowRecords } from './fund-flow-records.js';
import { badField, refuseV3, type V3Answer, type V3Request } from './v3-endpoint.js';

const TYPES: readonly BillType[] = ['ALL', 'SUCCESS', 'REFUND'];
const ACCOUNTS: readonly FundFlowAccountName[] = ['BASIC', 'OPERATION', 'FEES'];
export const BILL_DOWNLOAD_PATH = '/v3/billdownload/file';

/** A trade bill (`type`) or a fund-flow bill (`account`) of a day. */
interface BillName {
  date: string;
  type?: BillType;
  account?: FundFlowAccountName;
  gzip: boolean;
}

/** `GET /v3/bill/tradebill?bill_date=yyyy-MM-dd[&bill_type=][&tar_type=GZIP]`. */
export function applyTradeBill(core: SandboxCore, { query }: V3Request, origin: string): V3Answer {
  const name = readName(query.get('bill_date'), query.get('bill_type'), query.get('tar_type'));
  return applied(core, name, origin);
}

/** `GET /v3/bill/fundflowbill?bill_date=yyyy-MM-dd[&account_type=][&tar_type=GZIP]`. */
export function applyFundFlowBill(
  core: SandboxCore,
  { query }: V3Request,
  origin: string,
): V3Answer {
  const name = readFundFlowName(
    query.get('bill_date'),
    query.get('account_type'),
    query.get('tar_type'),
  );
  return applied(core, name, origin);
}

function applied(core: SandboxCore, name: BillName, origin: string): V3Answer {
  const text = billText(core, name);
  const token = Buffer.from(JSON.stringify(name)).toString('base64url');
  return {
    status: 200,
    json: {
      hash_type: 'SHA1',
      hash_value: hash('sha1', text, 'hex'),
      download_url: `${origin}${BILL_DOWNLOAD_PATH}?token=${token}`,
    },
  };
}

/** `GET /v3/billdownload/file?token=…`: the bill, gzipped when it was applied for so. */
export function downloadBillFile(core: SandboxCore, { query }: V3Request): V3Answer {
  let name: BillName;
  try {
    const raw = JSON.parse(Buffer.from(query.get('token') ?? '', 'base64url').toString('utf8'));
    const tar = raw.gzip ? 'GZIP' : null;
    name =
      raw.account === undefined
        ? readName(raw.date, raw.type, tar)
        : readFundFlowName(raw.date, raw.account, tar);
  } catch {
    badField('token', 'is not a download_url of /v3/bill/tradebill or /v3/bill/fundflowbill');
  }
  const text = Buffer.from(billText(core, name), 'utf8');
  return name.gzip
    ? { status: 200, raw: gzipSync(text), contentType: 'application/x-gzip' }
    : { status: 200, raw: text, contentType: 'text/plain; charset=utf-8' };
}

function readName(date: unknown, type: unknown, tar: unknown): BillName {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    badField('bill_date', 'must be yyyy-MM-dd');
  }
  const billType = (type ?? 'ALL') as BillType;
  if (!TYPES.includes(billType)) badField('bill_type', `must be one of ${TYPES.join(', ')}`);
  if (tar !== null && tar !== undefined && tar !== 'GZIP') badField('tar_type', 'must be GZIP');
  return { date, type: billType, gzip: tar === 'GZIP' };
}

function readFundFlowName(date: unknown, account: unknown, tar: unknown): BillName {
  const { date: day, gzip } = readName(date, 'ALL', tar);
  const name = (account ?? 'BASIC') as FundFlowAccountName;
  if (!ACCOUNTS.includes(name)) badField('account_type', `must be one of ${ACCOUNTS.join(', ')}`);
  return { date: day, account: name, gzip };
}

function billText(core: SandboxCore, name: BillName): string {
  const billDate = name.date.replaceAll('-', '');
  const selection =
    name.account === undefined
      ? billRecords(core, billDate, name.type ?? 'ALL')
      : fundFlowRecords(core, billDate, name.account);
  if (!selection.ok) {
    if (selection.reason === 'not_ready') {
      refuseV3(400, 'STATEMENT_CREATING', '账单生成中，请在次日上午10点以后再下载');
    }
    badField('bill_date', `is not a day with a bill (${selection.reason.replace('_', ' ')})`);
  }
  if ('records' in selection) {
    if (selection.records.length === 0) refuseV3(400, 'NO_STATEMENT_EXIST', '当前账单不存在');
    return formatBill(name.type ?? 'ALL', selection.records.map(billRow));
  }
  if (selection.rows.length === 0) refuseV3(400, 'NO_STATEMENT_EXIST', '当前账单不存在');
  return formatFundFlowBill(selection.rows);
}
