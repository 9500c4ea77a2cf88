/**
 * Which balance movements a day's fund-flow bill (资金账单) holds, from what happened in the
 * sandbox. The text format is the protocol layer's `formatFundFlowBill`.
 *
 * Decisions (docs/sandbox.md, "Fund-flow bills"):
 * - only the basic account (Basic / BASIC) moves: payments come in, fees and refunds go out;
 *   the operation and fees accounts never have a bill ("No Bill Exist");
 * - a payment is booked when it was paid: an income row 交易/交易 of the amount and an expense
 *   row 交易/扣除交易手续费 of its fee (the trade bill's 0.60%, bill-records.ts);
 * - a refund is booked when it succeeded (the day the trade bill has its REFUND row): an
 *   expense row 退款/退款 of the amount and an income row 退款/退还交易手续费 of the fee given back;
 * - 账户结余 runs from 0 at the sandbox's first payment; publication and retention are the
 *   trade bill's (`billRecords`' day rules), and the `billRows` fault does not touch it.
 */
import type { FundFlowRow } from '../wechatpay/index.js';
import { type BillUnavailable, billDay, feeMilliFen } from './bill-records.js';
import type { SandboxCore } from './core.js';

export type FundFlowAccountName = 'BASIC' | 'OPERATION' | 'FEES';

/** Why a bill cannot be served, or the day's rows (possibly none). */
export type FundFlowSelection = { ok: true; rows: FundFlowRow[] } | BillUnavailable;

type Movement = Omit<FundFlowRow, 'balanceFen'>;

/** The rows of `billDate` (`yyyyMMdd`, Beijing) of `account`, oldest first. */
export function fundFlowRecords(
  core: SandboxCore,
  billDate: string,
  account: FundFlowAccountName,
): FundFlowSelection {
  // The same day rules as the trade bill: not before 10:00 the next day, kept 3 months.
  const day = billDay(core, billDate);
  if (!day.ok) return day;
  if (account !== 'BASIC') return { ok: true, rows: [] };
  const { from, to } = day;
  let balance = 0;
  const rows: FundFlowRow[] = [];
  for (const m of movements(core, to)) {
    balance += m.direction === 'income' ? m.amountFen : -m.amountFen;
    if (m.bookedAt.getTime() >= from) rows.push({ ...m, balanceFen: balance });
  }
  return { ok: true, rows };
}

/** Every movement of the basic account booked before `to`, in booking order. */
function movements(core: SandboxCore, to: number): Movement[] {
  const mchId = core.credentials.mchId;
  const out: Movement[] = [];
  for (const t of core.state.trades.paidBetween(mchId, 0, to)) {
    const at = new Date(t.paid_at!);
    const common = { businessNo: t.transaction_id ?? '', voucherNo: t.out_trade_no, at };
    out.push(movement(common, '交易', '交易', 'income', t.total_fee, 1));
    out.push(movement(common, '交易', '扣除交易手续费', 'expense', fee(t.total_fee), 2));
  }
  for (const r of core.state.refunds.forBill(mchId, 0, to)) {
    const at = new Date(r.settled_at!);
    const common = { businessNo: r.refund_id, voucherNo: r.out_refund_no, at };
    out.push(movement(common, '退款', '退款', 'expense', r.refund_fee, 1));
    out.push(movement(common, '退款', '退还交易手续费', 'income', fee(r.refund_fee), 2));
  }
  return out
    .filter((m) => m.amountFen > 0)
    .sort(
      (a, b) => a.bookedAt.getTime() - b.bookedAt.getTime() || a.flowNo.localeCompare(b.flowNo),
    );
}

function fee(fen: number): number {
  return feeMilliFen(fen) / 1000;
}

function movement(
  of: { businessNo: string; voucherNo: string; at: Date },
  businessName: string,
  businessType: string,
  direction: 'income' | 'expense',
  amountFen: number,
  n: number,
): Movement {
  return {
    bookedAt: of.at,
    businessNo: of.businessNo,
    // The flow number: the business's number and which of its movements this is.
    flowNo: `${of.businessNo}${n}`,
    businessName,
    businessType,
    direction,
    amountFen,
    applicant: 'system',
    note: '',
    voucherNo: of.voucherNo,
  };
}
