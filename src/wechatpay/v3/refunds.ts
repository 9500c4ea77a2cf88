/**
 * Refunds on APIv3 (退款申请, 查询单笔退款; docs/wechat-rules.md). A 200 means accepted, not refunded: the result comes by `REFUND.*`
 * notification or query. A refused-for-now refund (NOT_ENOUGH, FREQUENCY_LIMITED) is `later`:
 * retry the same out_refund_no (errors.ts). Create is never retried here; query is.
 */
import { OUT_REFUND_NO_PATTERN } from '../ids.js';
import { checkBytes, checkFen, checkNotifyUrl, checkOutTradeNo } from './checks.js';
import type { WechatPayV3Client } from './client.js';
import { argument, REFUND_ERROR_CODES } from './errors.js';
import { Fields, type Json } from './fields.js';

export type CreateRefundRequest = ({ outTradeNo: string } | { transactionId: string }) & {
  outRefundNo: string;
  /** Fen: the refund, and the trade's total. */
  refund: number;
  total: number;
  /** 退款原因: at most 80 bytes; shown to the payer. */
  reason?: string;
  notifyUrl?: string;
  fundsAccount?: 'AVAILABLE';
};

export type V3RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
const STATUSES: readonly V3RefundStatus[] = ['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL'];

/** A refund as WeChat answers it. Amounts in fen. */
export interface V3Refund {
  refundId: string;
  outRefundNo: string;
  transactionId: string;
  outTradeNo: string;
  status: V3RefundStatus;
  channel?: string;
  userReceivedAccount?: string;
  successTime?: Date;
  createTime?: Date;
  fundsAccount?: string;
  amount: {
    total: number;
    refund: number;
    payerTotal?: number;
    payerRefund?: number;
    settlementRefund?: number;
    settlementTotal?: number;
    discountRefund?: number;
    currency?: string;
  };
  raw: Json;
}

const REFUNDS_PATH = '/v3/refund/domestic/refunds';

/** `POST /v3/refund/domestic/refunds`: accepted (PROCESSING) or already final. */
export async function createRefund(
  client: WechatPayV3Client,
  req: CreateRefundRequest,
): Promise<V3Refund> {
  checkOutRefundNo(req.outRefundNo);
  if ('outTradeNo' in req) checkOutTradeNo(req.outTradeNo);
  else if (!/^[0-9A-Za-z]{1,32}$/.test(req.transactionId))
    argument('transactionId must be 1 to 32 letters or digits');
  checkFen('refund', req.refund);
  checkFen('total', req.total);
  if (req.refund > req.total) argument('refund must not exceed total');
  if (req.reason !== undefined) checkBytes('reason', req.reason, 1, 80);
  if (req.notifyUrl !== undefined) checkNotifyUrl(client, req.notifyUrl);
  const body: Json = {
    transaction_id: 'transactionId' in req ? req.transactionId : undefined,
    out_trade_no: 'outTradeNo' in req ? req.outTradeNo : undefined,
    out_refund_no: req.outRefundNo,
    reason: req.reason,
    notify_url: req.notifyUrl,
    funds_account: req.fundsAccount,
    amount: { refund: req.refund, total: req.total, currency: 'CNY' },
  };
  const answer = await client.request({
    method: 'POST',
    path: REFUNDS_PATH,
    body,
    errorCodes: REFUND_ERROR_CODES,
  });
  return readRefund(answer.json, `the POST ${REFUNDS_PATH} answer`);
}

/** `GET /v3/refund/domestic/refunds/{out_refund_no}` (retried on ambiguous failures). */
export async function queryRefund(
  client: WechatPayV3Client,
  outRefundNo: string,
): Promise<V3Refund> {
  checkOutRefundNo(outRefundNo);
  const path = `${REFUNDS_PATH}/${outRefundNo}`;
  const answer = await client.request({ method: 'GET', path, retry: true });
  return readRefund(answer.json, `the GET ${path} answer`);
}

/** Types a `Refund` object. */
export function readRefund(json: unknown, at: string): V3Refund {
  const f = Fields.of(json, at);
  const a = f.object('amount');
  const status = f.oneOf('status', STATUSES);
  return {
    refundId: f.string('refund_id'),
    outRefundNo: f.string('out_refund_no'),
    transactionId: f.string('transaction_id'),
    outTradeNo: f.string('out_trade_no'),
    status,
    channel: f.optionalString('channel'),
    userReceivedAccount: f.optionalString('user_received_account'),
    successTime: status === 'SUCCESS' ? f.time('success_time') : f.optionalTime('success_time'),
    createTime: f.optionalTime('create_time'),
    fundsAccount: f.optionalString('funds_account'),
    amount: {
      total: a.fen('total'),
      refund: a.fen('refund'),
      payerTotal: a.optionalFen('payer_total'),
      payerRefund: a.optionalFen('payer_refund'),
      settlementRefund: a.optionalFen('settlement_refund'),
      settlementTotal: a.optionalFen('settlement_total'),
      discountRefund: a.optionalFen('discount_refund'),
      currency: a.optionalString('currency'),
    },
    raw: f.json,
  };
}

function checkOutRefundNo(value: string): void {
  if (!OUT_REFUND_NO_PATTERN.test(value))
    argument('outRefundNo must be 1 to 64 of 0-9 a-z A-Z _ - | * @');
}
