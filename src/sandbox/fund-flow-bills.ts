/**
 * `POST /pay/downloadfundflow`: the basic account's balance movements of a day
 * (fund-flow-records.ts) in WeChat's text format (the protocol layer's `formatFundFlowBill`),
 * gzipped when `tar_type=GZIP`. WeChat takes this request signed with HMAC-SHA256 only and over
 * mutual TLS; the sandbox refuses another sign type, and checks the client certificate when it
 * serves HTTPS with a client CA (wechat-routes.ts), as for `/secapi/pay/refund`. Errors are
 * downloadbill's (bills.ts): "No Bill Exist", "Bill Creating", `PARAM_ERROR`.
 */
import { formatFundFlowBill } from '../wechatpay/index.js';
import { billFile, refuseUnavailable } from './bills.js';
import type { SandboxCore } from './core.js';
import { type FundFlowAccountName, fundFlowRecords } from './fund-flow-records.js';
import { refuse, type V2Answer, type V2Request } from './v2-endpoint.js';

const ACCOUNTS: Record<string, FundFlowAccountName> = {
  Basic: 'BASIC',
  Operation: 'OPERATION',
  Fees: 'FEES',
};

export function downloadFundFlow(core: SandboxCore, { fields, signType }: V2Request): V2Answer {
  if (signType !== 'HMAC-SHA256') {
    refuse('PARAM_ERROR', 'sign_type must be HMAC-SHA256 for downloadfundflow', '20001');
  }
  if (!fields.bill_date) refuse('LACK_PARAMS', 'missing parameter: bill_date', '20001');
  if (!fields.account_type) refuse('LACK_PARAMS', 'missing parameter: account_type', '20001');
  const account = ACCOUNTS[fields.account_type];
  if (!account) refuse('PARAM_ERROR', 'invalid account_type (Basic, Operation or Fees)', '20001');
  const tar = fields.tar_type;
  if (tar && tar !== 'GZIP') refuse('PARAM_ERROR', 'invalid tar_type (GZIP or none)', '20001');
  const selection = fundFlowRecords(core, fields.bill_date, account);
  if (!selection.ok) refuseUnavailable(selection);
  if (selection.rows.length === 0) refuse('NO_BILL_EXIST', 'No Bill Exist', '20002');
  return billFile(formatFundFlowBill(selection.rows), tar);
}
